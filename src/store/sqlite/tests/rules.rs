//! The referral rules through the writer: send, accept and close with
//! their events in order, forward's two hops, duplicates by domain, roles
//! and sides, and expiry by the sweeper and on contact.

use super::*;

#[test]
fn send_accept_close_with_events_in_order() {
    let w = world();
    let mut live = w.store.subscribe();
    let r = w.sent("north", "acme");
    assert!(r.referral.id.starts_with("r_"));
    assert_eq!(r.referral.version, 1);
    assert_eq!(r.referral.expires_at, w.clock.now() + Duration::hours(72));
    w.clock.advance(Duration::minutes(5));
    let a = w.act(
        "acme",
        &r.referral.id,
        1,
        Action::Accept {
            note: Some("on it".into()),
        },
    );
    let a = a.unwrap().referral;
    assert_eq!(a.referral.version, 2);
    assert_eq!(a.accepted_partner.as_deref(), Some("acme-web"));
    assert_eq!(a.referral.updated_at, w.clock.now());
    let got = w.store.get(&r.referral.id).unwrap().unwrap();
    assert_eq!(got, a);
    let closed = w
        .act(
            "acme-admin",
            &r.referral.id,
            2,
            Action::Close {
                status: CloseStatus::Won,
                outcome: OutcomeInput {
                    value_cents: Some(5),
                    note: None,
                },
            },
        )
        .unwrap()
        .referral;
    assert_eq!(closed.referral.status, Status::Won);
    let evs = w.all_events();
    assert_eq!(evs.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(
        evs.iter()
            .map(|e| e.referral.referral.version)
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(evs[2].referral, closed);
    for want in &evs {
        let got = live.try_recv().unwrap();
        assert_eq!(&got, want);
    }
    assert_eq!(w.store.last_seq().unwrap(), 3);
    assert_eq!(w.store.resume_floor().unwrap(), 0);
    let counts = w.store.count_by_status().unwrap();
    assert_eq!(counts, vec![(Status::Won, 1)]);
}

#[test]
fn forward_writes_two_hops_and_two_events() {
    let w = world();
    let r = w.sent("north", "acme");
    let before = w.store.last_seq().unwrap();
    let a = w
        .act("acme", &r.referral.id, 1, forward("blue"))
        .unwrap_err_free();
    let child = a.forwarded.clone().unwrap();
    assert_eq!(
        a.referral.referral.forwarded_to.as_deref(),
        Some(child.referral.id.as_str())
    );
    let evs = w.store.events_after(before, 10).unwrap();
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[0].referral.referral.id, r.referral.id);
    assert_eq!(evs[1].referral.referral.id, child.referral.id);
    assert_eq!(evs[1].seq, evs[0].seq + 1);
    // Accepting the child marks the whole lead: the originator's hop knows.
    w.act("blue", &child.referral.id, 1, accept())
        .unwrap_err_free();
    let parent = w.store.get(&r.referral.id).unwrap().unwrap();
    assert_eq!(parent.accepted_partner.as_deref(), Some("blue-host"));
    assert_eq!(parent.referral.status, Status::Forwarded);
    // Forward to someone already in the chain: 422 on to_partner.
    let r2 = w.sent("north", "acme");
    match w.act("acme", &r2.referral.id, 1, forward("north")) {
        Err(DomainError::Invalid { field, .. }) => assert_eq!(field.as_deref(), Some("to_partner")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn duplicates_by_domain_while_open() {
    let w = world();
    let r = w
        .send("north", "acme", Some("www.Bakery.example"))
        .unwrap_err_free();
    let id = r.referral.referral.id;
    match w.send("acme", "blue", Some(" bakery.EXAMPLE ")) {
        Err(DomainError::Duplicate { existing_id, .. }) => {
            assert_eq!(existing_id, Some(id.clone()))
        }
        other => panic!("{other:?}"),
    }
    match w.send("pixel", "blue", Some("bakery.example")) {
        Err(DomainError::Duplicate { existing_id, .. }) => assert_eq!(existing_id, None),
        other => panic!("{other:?}"),
    }
    // Once no hop is open, the domain is free again.
    w.act(
        "acme",
        &id,
        1,
        Action::Reject {
            reason: ReasonInput {
                code: ReasonCode::UnclearNeed,
                note: None,
            },
        },
    )
    .unwrap_err_free();
    w.send("pixel", "blue", Some("bakery.example"))
        .unwrap_err_free();
    // Nothing was written for the refused sends.
    assert_eq!(w.all_events().len(), 3);
}

#[test]
fn roles_sides_and_visibility_through_the_store() {
    let w = world();
    let r = w.sent("north", "acme");
    let id = &r.referral.id;
    assert_eq!(w.act("pixel", id, 1, accept()), Err(DomainError::NotFound));
    assert_eq!(
        w.act("pixel", "r_nope", 1, accept()),
        Err(DomainError::NotFound)
    );
    assert!(matches!(
        w.act("acme-viewer", id, 1, accept()),
        Err(DomainError::Forbidden { .. })
    ));
    assert!(matches!(
        w.act("op", id, 1, accept()),
        Err(DomainError::Forbidden { .. })
    ));
    assert!(matches!(
        w.act("north", id, 1, accept()),
        Err(DomainError::Forbidden { .. })
    ));
    assert!(matches!(
        w.act("acme", id, 1, Action::Withdraw),
        Err(DomainError::Forbidden { .. })
    ));
    let req = |to: &str| CreateReferral {
        to_partner: to.into(),
        lead: LeadInput::default(),
        commission_pct: None,
        note: None,
        expires_in_hours: None,
    };
    let v = w
        .store
        .create(&w.actor("acme-viewer"), req("blue-host"), None)
        .unwrap();
    assert!(matches!(v, Err(DomainError::Forbidden { .. })));
    match w
        .store
        .create(&w.actor("acme"), req("blue-host"), None)
        .unwrap()
    {
        Err(DomainError::Invalid { field, .. }) => {
            assert_eq!(field.as_deref(), Some("lead.company"))
        }
        other => panic!("{other:?}"),
    }
    // Nothing changed.
    assert_eq!(w.store.get(id).unwrap().unwrap(), r);
    assert_eq!(w.all_events().len(), 1);
    w.act("north", id, 1, Action::Withdraw).unwrap_err_free();
}

#[test]
fn expiry_by_sweeper_and_on_contact() {
    let w = world();
    let a = w.sent("north", "acme");
    w.clock.advance(Duration::hours(1));
    let b = w.sent("north", "acme");
    assert_eq!(w.store.next_expiry().unwrap(), Some(a.referral.expires_at));
    assert_eq!(w.store.expire_due().unwrap(), 0);
    w.clock.set(a.referral.expires_at);
    assert_eq!(w.store.expire_due().unwrap(), 1);
    let got = w.store.get(&a.referral.id).unwrap().unwrap();
    assert_eq!(got.referral.status, Status::Expired);
    assert_eq!(got.referral.version, 2);
    assert_eq!(got.referral.decided_by, None);
    assert_eq!(got.referral.decided_at, Some(a.referral.expires_at));
    assert_eq!(w.all_events().last().unwrap().referral, got);
    assert_eq!(w.store.next_expiry().unwrap(), Some(b.referral.expires_at));
    // An action meeting an overdue referral the sweeper has not reached yet.
    w.clock.set(b.referral.expires_at + Duration::minutes(1));
    match w.act("acme", &b.referral.id, 1, accept()) {
        Err(DomainError::Conflict { message, current }) => {
            assert!(message.starts_with("expired at"), "{message}");
            assert_eq!(current.referral.status, Status::Expired);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        w.store
            .get(&b.referral.id)
            .unwrap()
            .unwrap()
            .referral
            .status,
        Status::Expired
    );
    assert_eq!(w.store.next_expiry().unwrap(), None);
    assert_eq!(w.store.expire_due().unwrap(), 0);
}
