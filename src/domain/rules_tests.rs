//! Tests of the rules (`super` is `domain::rules`).

use super::*;
use crate::wire::{LeadInput, OutcomeInput, ReasonInput, Role, parse_timestamp};

fn t(s: &str) -> Timestamp {
    parse_timestamp(s).unwrap()
}

fn now() -> Timestamp {
    t("2026-11-26T10:42:00Z")
}

fn actor(partner: &str, role: Role) -> Actor {
    Actor {
        user_id: format!("u_{partner}"),
        user_name: "Dana Reyes".into(),
        partner_id: partner.into(),
        partner_name: partner.to_uppercase(),
        role,
    }
}

fn known(p: &str) -> bool {
    [
        "northwind-net",
        "acme-web",
        "blue-host",
        "pixel-shop",
        "fox-design",
        "gale-net",
    ]
    .contains(&p)
}

fn no_open(_: &str) -> Vec<OpenHop> {
    Vec::new()
}

fn create_req() -> CreateReferral {
    CreateReferral {
        to_partner: "acme-web".into(),
        lead: LeadInput {
            company: Some("Main Street Bakery".into()),
            domain: Some("www.MainStreetBakery.example".into()),
            contact_name: Some("Sam".into()),
            category: Some("hosting".into()),
            ..LeadInput::default()
        },
        commission_pct: Some(15),
        note: Some("warm".into()),
        expires_in_hours: None,
    }
}

pub(crate) fn pending() -> StoredReferral {
    decide_create(
        &actor("northwind-net", Role::Agent),
        &create_req(),
        t("2026-11-26T09:14:03Z"),
        &known,
        &no_open,
        "r_1".into(),
    )
    .unwrap()
}

fn item(action: Action, version: u64) -> ActionItem {
    ActionItem {
        id: "r_1".into(),
        version,
        action,
    }
}

fn run(cur: &StoredReferral, who: &Actor, it: &ActionItem) -> Result<Applied, DomainError> {
    let mut n = 0;
    decide(cur, who, it, now(), &known, &mut || {
        n += 1;
        format!("r_child{n}")
    })
}

fn accept() -> Action {
    Action::Accept { note: None }
}

fn forward(to: &str) -> Action {
    Action::Forward {
        to_partner: to.into(),
        note: Some("better fit".into()),
        commission_pct: None,
        expires_in_hours: None,
    }
}

fn kind(e: &DomainError) -> &'static str {
    match e {
        DomainError::NotFound => "404",
        DomainError::Forbidden { .. } => "403",
        DomainError::Invalid { .. } => "422",
        DomainError::Conflict { .. } => "409",
        DomainError::Duplicate { .. } => "409dup",
    }
}

fn field(e: &DomainError) -> Option<&str> {
    match e {
        DomainError::Invalid { field, .. } => field.as_deref(),
        _ => None,
    }
}

#[test]
fn create_builds_a_pending_hop() {
    let s = pending();
    let r = &s.referral;
    assert_eq!(r.version, 1);
    assert_eq!(r.status, Status::Pending);
    assert_eq!(*r.chain, ["northwind-net", "acme-web"]);
    assert_eq!(r.expires_at, t("2026-11-29T09:14:03Z"));
    assert_eq!(r.commission_pct, 15);
    assert_eq!(r.lead.currency, "USD");
    assert_eq!(
        r.lead.domain.as_deref(),
        Some("www.MainStreetBakery.example")
    );
    assert!(!r.contact_masked);
    assert_eq!(s.accepted_partner, None);
}

#[test]
fn create_checks_in_order() {
    let send = |who: &Actor, req: &CreateReferral, open: &dyn Fn(&str) -> Vec<OpenHop>| {
        decide_create(who, req, now(), &known, open, "r_9".into())
    };
    let agent = actor("northwind-net", Role::Agent);
    for role in [Role::Viewer, Role::Operator] {
        let mut bad = create_req();
        bad.lead.company = None;
        let e = send(&actor("northwind-net", role), &bad, &no_open).unwrap_err();
        assert_eq!(kind(&e), "403", "{role:?} before 422");
    }
    let mut r = create_req();
    r.to_partner = "nobody".into();
    assert_eq!(
        field(&send(&agent, &r, &no_open).unwrap_err()),
        Some("to_partner")
    );
    r.to_partner = "northwind-net".into();
    assert_eq!(
        field(&send(&agent, &r, &no_open).unwrap_err()),
        Some("to_partner")
    );
    let mut r = create_req();
    r.lead.company = Some(String::new());
    assert_eq!(
        field(&send(&agent, &r, &no_open).unwrap_err()),
        Some("lead.company")
    );
    let mut r = create_req();
    r.lead.currency = Some("usd".into());
    assert_eq!(
        field(&send(&agent, &r, &no_open).unwrap_err()),
        Some("lead.currency")
    );
    let mut r = create_req();
    r.commission_pct = Some(101);
    assert_eq!(
        field(&send(&agent, &r, &no_open).unwrap_err()),
        Some("commission_pct")
    );
    let mut r = create_req();
    r.expires_in_hours = Some(0);
    assert_eq!(
        field(&send(&agent, &r, &no_open).unwrap_err()),
        Some("expires_in_hours")
    );
    r.expires_in_hours = Some(721);
    assert_eq!(
        field(&send(&agent, &r, &no_open).unwrap_err()),
        Some("expires_in_hours")
    );
    let mut r = create_req();
    r.note = Some("n".repeat(4001));
    assert_eq!(
        field(&send(&agent, &r, &no_open).unwrap_err()),
        Some("note")
    );
    // 422 is judged before the duplicate 409.
    let open = |d: &str| {
        assert_eq!(d, "mainstreetbakery.example");
        vec![OpenHop {
            id: "r_open".into(),
            from_partner: "blue-host".into(),
            to_partner: "acme-web".into(),
        }]
    };
    let mut r = create_req();
    r.commission_pct = Some(200);
    assert_eq!(kind(&send(&agent, &r, &open).unwrap_err()), "422");
}

#[test]
fn duplicate_names_the_hop_only_to_its_parties() {
    let open = |_: &str| {
        vec![OpenHop {
            id: "r_open".into(),
            from_partner: "blue-host".into(),
            to_partner: "acme-web".into(),
        }]
    };
    let stranger = actor("northwind-net", Role::Agent);
    let mut req = create_req();
    req.to_partner = "pixel-shop".into();
    match decide_create(&stranger, &req, now(), &known, &open, "r_9".into()) {
        Err(DomainError::Duplicate {
            existing_id,
            message,
        }) => {
            assert_eq!(existing_id, None);
            assert!(!message.contains("r_open"));
        }
        other => panic!("{other:?}"),
    }
    let party = actor("acme-web", Role::Agent);
    req.to_partner = "pixel-shop".into();
    match decide_create(&party, &req, now(), &known, &open, "r_9".into()) {
        Err(DomainError::Duplicate { existing_id, .. }) => {
            assert_eq!(existing_id.as_deref(), Some("r_open"))
        }
        other => panic!("{other:?}"),
    }
    // No domain: never a duplicate.
    req.lead.domain = None;
    assert!(decide_create(&party, &req, now(), &known, &open, "r_9".into()).is_ok());
    req.lead.domain = Some("www.".into());
    assert!(decide_create(&party, &req, now(), &known, &open, "r_9".into()).is_ok());
}

#[test]
fn accept_sets_decision_and_accepted_partner() {
    let cur = pending();
    let a = run(
        &cur,
        &actor("acme-web", Role::Agent),
        &item(
            Action::Accept {
                note: Some("calling".into()),
            },
            1,
        ),
    )
    .unwrap();
    let r = &a.referral.referral;
    assert_eq!(r.status, Status::Accepted);
    assert_eq!(r.version, 2);
    assert_eq!(r.updated_at, now());
    assert_eq!(r.decided_at, Some(now()));
    assert_eq!(r.decided_by.as_ref().unwrap().partner, "acme-web");
    assert_eq!(r.decision_note.as_deref(), Some("calling"));
    assert_eq!(a.referral.accepted_partner.as_deref(), Some("acme-web"));
    assert!(a.forwarded.is_none());
    // Admins act too.
    assert!(run(&cur, &actor("acme-web", Role::Admin), &item(accept(), 1)).is_ok());
}

#[test]
fn order_404_before_403_before_422_before_409() {
    let cur = pending();
    let stale_bad_reject = item(
        Action::Reject {
            reason: ReasonInput {
                code: ReasonCode::Other,
                note: None,
            },
        },
        7,
    );
    // A stranger's viewer: 404, not 403.
    let e = run(&cur, &actor("pixel-shop", Role::Viewer), &stale_bad_reject).unwrap_err();
    assert_eq!(kind(&e), "404");
    // The recipient's viewer: 403, not 422.
    let e = run(&cur, &actor("acme-web", Role::Viewer), &stale_bad_reject).unwrap_err();
    assert_eq!(kind(&e), "403");
    // Operators see everything but act on nothing.
    let e = run(&cur, &actor("exchange", Role::Operator), &stale_bad_reject).unwrap_err();
    assert_eq!(kind(&e), "403");
    // The wrong side: 403 before 422.
    let e = run(
        &cur,
        &actor("northwind-net", Role::Agent),
        &stale_bad_reject,
    )
    .unwrap_err();
    assert_eq!(kind(&e), "403");
    // The right side: 422 before the stale version's 409.
    let e = run(&cur, &actor("acme-web", Role::Agent), &stale_bad_reject).unwrap_err();
    assert_eq!(field(&e), Some("reason.note"));
    // A valid action at a stale version: 409 with current.
    let e = run(&cur, &actor("acme-web", Role::Agent), &item(accept(), 7)).unwrap_err();
    match e {
        DomainError::Conflict { current, message } => {
            assert_eq!(current.referral.version, 1);
            assert!(message.contains("version 7"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Wrong id in the item is never applied to this referral.
    let mut other_id = item(accept(), 1);
    other_id.id = "r_2".into();
    assert_eq!(
        kind(&run(&cur, &actor("acme-web", Role::Agent), &other_id).unwrap_err()),
        "404"
    );
}

#[test]
fn sides() {
    let cur = pending();
    let sender = actor("northwind-net", Role::Agent);
    let recipient = actor("acme-web", Role::Agent);
    for a in [accept(), forward("blue-host")] {
        assert_eq!(kind(&run(&cur, &sender, &item(a, 1)).unwrap_err()), "403");
    }
    assert_eq!(
        kind(&run(&cur, &recipient, &item(Action::Withdraw, 1)).unwrap_err()),
        "403"
    );
    let w = run(&cur, &sender, &item(Action::Withdraw, 1)).unwrap();
    assert_eq!(w.referral.referral.status, Status::Withdrawn);
    assert_eq!(
        w.referral.referral.decided_by.unwrap().partner,
        "northwind-net"
    );
    let close = Action::Close {
        status: CloseStatus::Won,
        outcome: OutcomeInput::default(),
    };
    let accepted = run(&cur, &recipient, &item(accept(), 1)).unwrap().referral;
    assert_eq!(
        kind(&run(&accepted, &sender, &item(close, 2)).unwrap_err()),
        "403"
    );
}

#[test]
fn reject_reasons() {
    let cur = pending();
    let recipient = actor("acme-web", Role::Agent);
    let reject = |code, note: Option<&str>| {
        item(
            Action::Reject {
                reason: ReasonInput {
                    code,
                    note: note.map(String::from),
                },
            },
            1,
        )
    };
    assert_eq!(
        field(&run(&cur, &recipient, &reject(ReasonCode::Other, Some("  "))).unwrap_err()),
        Some("reason.note")
    );
    let long = "x".repeat(4001);
    assert_eq!(
        field(
            &run(
                &cur,
                &recipient,
                &reject(ReasonCode::UnclearNeed, Some(&long))
            )
            .unwrap_err()
        ),
        Some("reason.note")
    );
    let ok = run(&cur, &recipient, &reject(ReasonCode::Other, Some("not us"))).unwrap();
    let r = ok.referral.referral;
    assert_eq!(r.status, Status::Rejected);
    assert_eq!(
        r.reason,
        Some(Box::new(Reason {
            code: ReasonCode::Other,
            note: Some("not us".into())
        }))
    );
    let ok = run(&cur, &recipient, &reject(ReasonCode::WrongPartner, None)).unwrap();
    assert_eq!(
        ok.referral.referral.reason.unwrap().code,
        ReasonCode::WrongPartner
    );
}

#[test]
fn forward_makes_a_child_hop() {
    let cur = pending();
    let a = run(
        &cur,
        &actor("acme-web", Role::Agent),
        &item(forward("blue-host"), 1),
    )
    .unwrap();
    let parent = &a.referral.referral;
    let child = &a.forwarded.as_ref().unwrap().referral;
    assert_eq!(parent.status, Status::Forwarded);
    assert_eq!(parent.version, 2);
    assert_eq!(parent.forwarded_to.as_deref(), Some("r_child1"));
    assert_eq!(parent.decision_note.as_deref(), Some("better fit"));
    assert_eq!(child.id, "r_child1");
    assert_eq!(child.version, 1);
    assert_eq!(child.status, Status::Pending);
    assert_eq!(child.from_partner, "acme-web");
    assert_eq!(child.to_partner, "blue-host");
    assert_eq!(*child.chain, ["northwind-net", "acme-web", "blue-host"]);
    assert_eq!(child.parent_id.as_deref(), Some("r_1"));
    assert_eq!(child.commission_pct, 15);
    assert_eq!(child.expires_at, now() + Duration::hours(72));
    assert_eq!(child.note.as_deref(), Some("better fit"));
    assert_eq!(child.lead, parent.lead);
    assert_eq!(child.created_at, now());

    let own = Action::Forward {
        to_partner: "blue-host".into(),
        note: None,
        commission_pct: Some(5),
        expires_in_hours: Some(2),
    };
    let a = run(&cur, &actor("acme-web", Role::Agent), &item(own, 1)).unwrap();
    let child = a.forwarded.unwrap().referral;
    assert_eq!(child.commission_pct, 5);
    assert_eq!(child.expires_at, now() + Duration::hours(2));
}

#[test]
fn forward_rules() {
    let cur = pending();
    let recipient = actor("acme-web", Role::Agent);
    for to in ["nobody", "northwind-net", "acme-web"] {
        let e = run(&cur, &recipient, &item(forward(to), 1)).unwrap_err();
        assert_eq!(field(&e), Some("to_partner"), "{to}");
    }
    let bad = |commission_pct, expires_in_hours| Action::Forward {
        to_partner: "blue-host".into(),
        note: None,
        commission_pct,
        expires_in_hours,
    };
    let e = run(&cur, &recipient, &item(bad(Some(101), None), 1)).unwrap_err();
    assert_eq!(field(&e), Some("commission_pct"));
    let e = run(&cur, &recipient, &item(bad(None, Some(721)), 1)).unwrap_err();
    assert_eq!(field(&e), Some("expires_in_hours"));

    // Walk the lead to a full chain of five, then the fifth hop is 422.
    let mut hop = cur;
    let path = ["blue-host", "pixel-shop", "fox-design"];
    for to in path {
        let me = actor(&hop.referral.to_partner, Role::Agent);
        let mut it = item(forward(to), hop.referral.version);
        it.id = hop.referral.id.clone();
        hop = run(&hop, &me, &it).unwrap().forwarded.unwrap();
    }
    assert_eq!(hop.referral.chain.len(), 5);
    let me = actor("fox-design", Role::Agent);
    let mut it = item(forward("gale-net"), 1);
    it.id = hop.referral.id.clone();
    let e = run(&hop, &me, &it).unwrap_err();
    assert_eq!(field(&e), Some("to_partner"));
    // 422 even on a stale version: rules before version.
    it.version = 9;
    assert_eq!(kind(&run(&hop, &me, &it).unwrap_err()), "422");
}

#[test]
fn close_and_status_conflicts() {
    let cur = pending();
    let recipient = actor("acme-web", Role::Agent);
    let close = |status| Action::Close {
        status,
        outcome: OutcomeInput {
            value_cents: Some(990_000),
            note: Some("signed".into()),
        },
    };
    // Close on a pending one: 409 naming its state.
    let e = run(&cur, &recipient, &item(close(CloseStatus::Won), 1)).unwrap_err();
    assert_eq!(kind(&e), "409");
    let accepted = run(&cur, &recipient, &item(accept(), 1)).unwrap().referral;
    let won = run(&accepted, &recipient, &item(close(CloseStatus::Won), 2))
        .unwrap()
        .referral;
    let r = &won.referral;
    assert_eq!(r.status, Status::Won);
    assert_eq!(r.version, 3);
    assert_eq!(r.outcome.as_ref().unwrap().value_cents, Some(990_000));
    assert_eq!(r.decision_note.as_deref(), Some("signed"));
    assert_eq!(won.accepted_partner.as_deref(), Some("acme-web"));
    let lost = run(&accepted, &recipient, &item(close(CloseStatus::Lost), 2)).unwrap();
    assert_eq!(lost.referral.referral.status, Status::Lost);
    let neg = Action::Close {
        status: CloseStatus::Won,
        outcome: OutcomeInput {
            value_cents: Some(-1),
            note: None,
        },
    };
    assert_eq!(
        field(&run(&accepted, &recipient, &item(neg, 2)).unwrap_err()),
        Some("outcome.value_cents")
    );
    // A second accept loses with who decided and when.
    match run(&accepted, &recipient, &item(accept(), 1)).unwrap_err() {
        DomainError::Conflict { message, current } => {
            assert_eq!(message, "accepted by Dana Reyes (acme-web) at 10:42");
            assert_eq!(current.referral.status, Status::Accepted);
        }
        other => panic!("{other:?}"),
    }
    // Final statuses refuse everything.
    let e = run(&won, &recipient, &item(close(CloseStatus::Lost), 3)).unwrap_err();
    assert_eq!(kind(&e), "409");
}

#[test]
fn one_accepted_hop_per_lead() {
    let mut cur = pending();
    cur.accepted_partner = Some("blue-host".into());
    let e = run(&cur, &actor("acme-web", Role::Agent), &item(accept(), 1)).unwrap_err();
    assert_eq!(kind(&e), "422");
}

#[test]
fn expiry() {
    let cur = pending();
    assert!(expire(&cur, t("2026-11-29T09:14:02Z")).is_none());
    let due = t("2026-11-29T09:14:03Z");
    let e = expire(&cur, due).unwrap();
    assert_eq!(e.referral.status, Status::Expired);
    assert_eq!(e.referral.version, 2);
    assert_eq!(e.referral.decided_at, Some(due));
    assert_eq!(e.referral.decided_by, None);
    assert_eq!(e.referral.updated_at, due);
    assert!(expire(&e, due).is_none());
    assert_eq!(describe(&e.referral, due), "expired at 09:14");
    assert_eq!(
        describe(&e.referral, t("2026-11-30T01:00:00Z")),
        "expired at 2026-11-29 09:14"
    );
}

#[test]
fn describe_names_the_decider() {
    let cur = pending();
    let w = run(
        &cur,
        &actor("northwind-net", Role::Agent),
        &item(Action::Withdraw, 1),
    )
    .unwrap()
    .referral;
    assert_eq!(
        describe(&w.referral, now()),
        "withdrawn by Dana Reyes (northwind-net) at 10:42"
    );
    assert_eq!(
        describe(&cur.referral, now()),
        "pending, last changed at 09:14"
    );
}
