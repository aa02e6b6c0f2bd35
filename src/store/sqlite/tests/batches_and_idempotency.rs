//! Batches (items independent and in order) and idempotent responses,
//! committed with their action and kept across a reopen.

use super::*;

#[test]
fn batch_items_are_independent_and_in_order() {
    let w = world();
    let a = w.sent("north", "acme");
    let b = w.sent("north", "acme");
    let c = w.sent("blue", "pixel");
    let d = w.sent("north", "acme");
    let items = vec![
        ActionItem {
            id: a.referral.id.clone(),
            version: 1,
            action: accept(),
        },
        ActionItem {
            id: b.referral.id.clone(),
            version: 9,
            action: accept(),
        },
        ActionItem {
            id: c.referral.id.clone(),
            version: 1,
            action: accept(),
        },
        ActionItem {
            id: d.referral.id.clone(),
            version: 1,
            action: forward("northwind-net"),
        },
        ActionItem {
            id: d.referral.id.clone(),
            version: 1,
            action: forward("blue-host"),
        },
        ActionItem {
            id: a.referral.id.clone(),
            version: 1,
            action: accept(),
        },
    ];
    let res = w.store.apply(&w.actor("acme"), items, None).unwrap();
    assert_eq!(res.len(), 6);
    assert_eq!(res[0].as_ref().unwrap().referral.referral.version, 2);
    assert!(matches!(res[1], Err(DomainError::Conflict { .. })));
    assert_eq!(res[2], Err(DomainError::NotFound));
    assert!(matches!(res[3], Err(DomainError::Invalid { .. })));
    assert!(res[4].as_ref().unwrap().forwarded.is_some());
    // The same referral twice in one batch: the second sees the first.
    assert!(matches!(res[5], Err(DomainError::Conflict { .. })));
    assert_eq!(
        w.store
            .get(&a.referral.id)
            .unwrap()
            .unwrap()
            .referral
            .status,
        Status::Accepted
    );
    assert_eq!(
        w.store
            .get(&b.referral.id)
            .unwrap()
            .unwrap()
            .referral
            .version,
        1
    );
    // 4 sends + accept + forward (2 events).
    assert_eq!(w.all_events().len(), 7);
}

#[test]
fn idempotent_responses_commit_with_the_action_and_survive_reopen() {
    let w = world();
    let r = w.sent("north", "acme");
    let acme = w.actor("acme");
    let item = ActionItem {
        id: r.referral.id.clone(),
        version: 1,
        action: accept(),
    };
    let res = w
        .store
        .apply(
            &acme,
            vec![item.clone()],
            Some(idem(&acme.user_id, "k1", "h1", "first")),
        )
        .unwrap();
    assert!(res[0].is_ok());
    let replay = Some(IdemTaken::Replay(StoredResponse {
        status: 200,
        body: b"first:v2".to_vec(),
    }));
    assert_eq!(
        w.store.idem_lookup(&acme.user_id, "k1", "h1").unwrap(),
        replay
    );
    assert_eq!(
        w.store.idem_lookup(&acme.user_id, "k1", "h2").unwrap(),
        Some(IdemTaken::Mismatch)
    );
    assert_eq!(w.store.idem_lookup("u_other", "k1", "h1").unwrap(), None);
    // The same key cannot make the writer act twice: the write answers
    // with the kept response instead.
    let again = w.store.apply(
        &acme,
        vec![item],
        Some(idem(&acme.user_id, "k1", "h1", "second")),
    );
    match again {
        Err(StoreError::Taken(taken)) => assert_eq!(Some(taken), replay),
        other => panic!("{other:?}"),
    }
    assert_eq!(w.all_events().len(), 2);
    // Errors are kept too, and failed creates keep their answer.
    let bad = CreateReferral {
        to_partner: "nobody".into(),
        lead: LeadInput::default(),
        commission_pct: None,
        note: None,
        expires_in_hours: None,
    };
    let out = w
        .store
        .create(&acme, bad, Some(idem(&acme.user_id, "k2", "h", "bad")))
        .unwrap();
    match out {
        Err(DomainError::Invalid { field, .. }) => assert_eq!(field.as_deref(), Some("to_partner")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        w.store.idem_lookup(&acme.user_id, "k2", "h").unwrap(),
        Some(IdemTaken::Replay(_))
    ));
    w.store
        .save_response(
            &acme.user_id,
            "k3",
            "h3",
            StoredResponse {
                status: 404,
                body: b"nf".to_vec(),
            },
        )
        .unwrap();

    // Reopen: everything is still there.
    let World {
        _dir,
        path,
        clock,
        store,
        ..
    } = w;
    drop(store);
    let store = SqliteStore::open(&path, clock.clone()).unwrap();
    assert_eq!(
        store.idem_lookup(&acme.user_id, "k1", "h1").unwrap(),
        replay
    );
    assert_eq!(
        store.idem_lookup(&acme.user_id, "k3", "h3").unwrap(),
        Some(IdemTaken::Replay(StoredResponse {
            status: 404,
            body: b"nf".to_vec()
        }))
    );
    assert_eq!(
        store.get(&r.referral.id).unwrap().unwrap().referral.status,
        Status::Accepted
    );
    assert_eq!(store.last_seq().unwrap(), 2);

    // After 24 hours the key is forgotten, and prune drops it.
    clock.advance(Duration::hours(24));
    assert_eq!(store.idem_lookup(&acme.user_id, "k1", "h1").unwrap(), None);
    store.prune().unwrap();
    let c = Connection::open(&path).unwrap();
    let n: i64 = c
        .query_row("SELECT COUNT(*) FROM idempotency", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
    // Fewer than 100,000 events: all are kept however old.
    assert_eq!(store.resume_floor().unwrap(), 0);
    assert_eq!(store.events_after(0, 100).unwrap().len(), 2);
    // A reused key after retention acts again.
    let r2 = store
        .create(
            &acme,
            CreateReferral {
                to_partner: "blue-host".into(),
                lead: LeadInput {
                    company: Some("C".into()),
                    category: Some("x".into()),
                    ..LeadInput::default()
                },
                commission_pct: None,
                note: None,
                expires_in_hours: None,
            },
            Some(idem(&acme.user_id, "k1", "h9", "third")),
        )
        .unwrap();
    assert!(r2.is_ok());
    assert!(
        matches!(store.idem_lookup(&acme.user_id, "k1", "h9").unwrap(), Some(IdemTaken::Replay(s)) if s.body.starts_with(b"third"))
    );
}
