//! The SQLite store end to end: rules through the writer, durability,
//! concurrency, idempotency, events, paging.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::Duration;

use super::*;
use crate::clock::{Clock, ManualClock};
use crate::domain::{Action, Applied, DomainError};
use crate::store::Scope;
use crate::wire::{
    CloseStatus, LeadInput, OutcomeInput, PartnerKind, ReasonCode, ReasonInput, ReferralBox,
    parse_timestamp,
};

mod group_commit;

struct World {
    _dir: tempfile::TempDir,
    path: PathBuf,
    clock: Arc<ManualClock>,
    store: SqliteStore,
    tokens: BTreeMap<&'static str, String>,
}

const PARTNERS: [&str; 5] = [
    "northwind-net",
    "acme-web",
    "blue-host",
    "pixel-shop",
    "fox-design",
];

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leadx.db");
    let clock = ManualClock::new(parse_timestamp("2026-11-26T09:14:03Z").unwrap());
    let store = SqliteStore::open(&path, clock.clone()).unwrap();
    let mut tokens = BTreeMap::new();
    for id in PARTNERS.iter().copied().chain(["exchange"]) {
        store
            .add_partner(&Partner {
                id: id.into(),
                name: id.to_uppercase(),
                kind: PartnerKind::Integrator,
                categories: vec!["hosting".into(), "design".into()],
                regions: vec!["US-West".into()],
            })
            .unwrap();
    }
    for (label, partner, role) in [
        ("north", "northwind-net", Role::Agent),
        ("acme", "acme-web", Role::Agent),
        ("acme-admin", "acme-web", Role::Admin),
        ("acme-viewer", "acme-web", Role::Viewer),
        ("blue", "blue-host", Role::Agent),
        ("pixel", "pixel-shop", Role::Agent),
        ("fox", "fox-design", Role::Agent),
        ("op", "exchange", Role::Operator),
    ] {
        let (_, token) = store.add_user(partner, label, role).unwrap();
        tokens.insert(label, token);
    }
    World {
        _dir: dir,
        path,
        clock,
        store,
        tokens,
    }
}

impl World {
    fn actor(&self, label: &str) -> Actor {
        self.store
            .authenticate(&self.tokens[label])
            .unwrap()
            .unwrap()
    }

    fn send(&self, from: &str, to: &str, domain: Option<&str>) -> ItemResult {
        let req = CreateReferral {
            to_partner: pid(to),
            lead: LeadInput {
                company: Some("Main Street Bakery".into()),
                domain: domain.map(String::from),
                contact_name: Some("Sam Baker".into()),
                contact_email: Some("sam@example.com".into()),
                category: Some("hosting".into()),
                ..LeadInput::default()
            },
            commission_pct: Some(15),
            note: Some("warm intro".into()),
            expires_in_hours: None,
        };
        self.store.create(&self.actor(from), req, None).unwrap()
    }

    fn sent(&self, from: &str, to: &str) -> StoredReferral {
        self.send(from, to, None).unwrap().referral
    }

    fn act(&self, who: &str, id: &str, version: u64, action: Action) -> ItemResult {
        let item = ActionItem {
            id: id.into(),
            version,
            action,
        };
        let mut r = self
            .store
            .apply(&self.actor(who), vec![item], None)
            .unwrap();
        assert_eq!(r.len(), 1);
        r.pop().unwrap()
    }

    fn all_events(&self) -> Vec<Arc<StoredEvent>> {
        self.store.events_after(0, usize::MAX).unwrap()
    }
}

/// A test label's partner id (labels pass through when already an id).
fn pid(label: &str) -> String {
    match label {
        "north" => "northwind-net",
        "acme" => "acme-web",
        "blue" => "blue-host",
        "pixel" => "pixel-shop",
        "fox" => "fox-design",
        other => other,
    }
    .to_string()
}

fn accept() -> Action {
    Action::Accept { note: None }
}

fn forward(to: &str) -> Action {
    Action::Forward {
        to_partner: pid(to),
        note: Some("better fit".into()),
        commission_pct: None,
        expires_in_hours: None,
    }
}

fn idem(user: &str, key: &str, hash: &str, tag: &'static str) -> IdemSave {
    IdemSave {
        user_id: user.into(),
        key: key.into(),
        request_hash: hash.into(),
        render: Box::new(move |results| StoredResponse {
            status: 200,
            body: format!(
                "{tag}:{}",
                results
                    .iter()
                    .map(|r| match r {
                        Ok(a) => format!("v{}", a.referral.referral.version),
                        Err(e) => format!("{e:?}").chars().take(8).collect(),
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            )
            .into_bytes(),
        }),
    }
}

#[test]
fn tokens_are_random_hashed_and_revocable() {
    let w = world();
    let token = &w.tokens["acme"];
    assert!(token.starts_with("lx_") && token.len() == 3 + 64, "{token}");
    assert_ne!(w.tokens["acme"], w.tokens["acme-admin"]);
    let a = w.actor("acme");
    assert_eq!(a.partner_id, "acme-web");
    assert_eq!(a.partner_name, "ACME-WEB");
    assert_eq!(a.role, Role::Agent);
    assert!(w.store.authenticate("lx_nope").unwrap().is_none());
    assert!(w.store.authenticate("").unwrap().is_none());
    // Only the hash is on disk.
    let c = Connection::open(&w.path).unwrap();
    let n: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM users WHERE token_hash = ?1",
            [&token_hash(token)[..]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    let raw: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM users WHERE CAST(token_hash AS TEXT) = ?1 OR name = ?1",
            [token],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(raw, 0);
    assert!(w.store.revoke_user(&a.user_id).unwrap());
    assert!(!w.store.revoke_user(&a.user_id).unwrap());
    assert!(w.store.authenticate(token).unwrap().is_none());
    let users = w.store.list_users().unwrap();
    let me = users.iter().find(|u| u.id == a.user_id).unwrap();
    assert!(me.revoked_at.is_some());
    assert!(me.id.starts_with("u_"));
}

#[test]
fn directory_rejects_bad_input() {
    let w = world();
    let p = |id: &str| Partner {
        id: id.into(),
        name: "X".into(),
        kind: PartnerKind::Affiliate,
        categories: vec![],
        regions: vec![],
    };
    assert!(
        matches!(w.store.add_partner(&p("acme-web")), Err(StoreError::Rejected(m)) if m.contains("already exists"))
    );
    assert!(matches!(
        w.store.add_partner(&p("Bad_Slug")),
        Err(StoreError::Rejected(_))
    ));
    assert!(matches!(
        w.store.add_user("nobody", "N", Role::Agent),
        Err(StoreError::Rejected(m)) if m.contains("nobody")
    ));
    let hits = w.store.list_partners(Some("ACME")).unwrap();
    assert_eq!(
        hits.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["acme-web"]
    );
    assert_eq!(w.store.list_partners(Some("design")).unwrap().len(), 6);
    assert!(w.store.list_partners(Some("zzz")).unwrap().is_empty());
    let got = w.store.get_partner("blue-host").unwrap().unwrap();
    assert_eq!(got.regions, vec!["US-West"]);
    assert!(w.store.get_partner("nope").unwrap().is_none());
    w.store.health().unwrap();
}

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

trait Unwrapped {
    fn unwrap_err_free(self) -> Applied;
}

impl Unwrapped for ItemResult {
    fn unwrap_err_free(self) -> Applied {
        match self {
            Ok(a) => a,
            Err(e) => panic!("expected applied, got {e:?}"),
        }
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
fn concurrent_accepts_have_exactly_one_winner() {
    let w = Arc::new(world());
    let r = w.sent("north", "acme");
    let id = r.referral.id.clone();
    let threads: Vec<_> = (0..24)
        .map(|i| {
            let w = w.clone();
            let id = id.clone();
            std::thread::spawn(move || {
                let who = if i % 2 == 0 { "acme" } else { "acme-admin" };
                w.act(who, &id, 1, accept())
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let winners = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(winners, 1);
    for r in &results {
        if let Err(e) = r {
            match e {
                DomainError::Conflict { message, current } => {
                    assert!(message.starts_with("accepted by acme"), "{message}");
                    assert_eq!(current.referral.version, 2);
                }
                other => panic!("{other:?}"),
            }
        }
    }
    let got = w.store.get(&id).unwrap().unwrap();
    assert_eq!(got.referral.version, 2);
    assert_eq!(w.all_events().len(), 2);
}

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

#[test]
fn prune_keeps_events_within_a_day() {
    let w = world();
    w.sent("north", "acme");
    w.clock.advance(Duration::hours(30));
    w.sent("north", "acme");
    w.store.prune().unwrap();
    // The old event is beyond 24 h but inside the last 100,000: kept.
    assert_eq!(w.all_events().len(), 2);
    assert_eq!(w.store.resume_floor().unwrap(), 0);
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

#[test]
fn list_pages_cover_every_row_once_with_consistent_as_of() {
    let w = Arc::new(world());
    let mut expected_acme = BTreeSet::new();
    for i in 0..60 {
        let (from, to) = match i % 3 {
            0 => ("north", "acme"),
            1 => ("acme", "blue"),
            _ => ("blue", "pixel"),
        };
        let r = w.sent(from, to);
        if from == "acme" || to == "acme" {
            expected_acme.insert(r.referral.id.clone());
        }
    }
    // Writers keep changing things while we page.
    let busy = {
        let w = w.clone();
        std::thread::spawn(move || {
            for _ in 0..30 {
                w.sent("blue", "acme");
            }
        })
    };
    let page_through = |box_: ReferralBox, statuses: Vec<Status>, scope: Scope| {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = w
                .store
                .list(&ListQuery {
                    scope: scope.clone(),
                    box_,
                    statuses: statuses.clone(),
                    after_id: after.clone(),
                    limit: 7,
                })
                .unwrap();
            // Each item is exactly as the log stood at as_of.
            let log = w.store.events_after(0, usize::MAX).unwrap();
            for item in &page.items {
                let at = log
                    .iter()
                    .rfind(|e| e.seq <= page.as_of && e.referral.referral.id == item.referral.id)
                    .expect("item's event at or before as_of");
                assert_eq!(at.referral, *item);
            }
            seen.extend(page.items.iter().map(|s| s.referral.id.clone()));
            if !page.has_more {
                break;
            }
            after = seen.last().cloned();
        }
        seen
    };
    let seen = page_through(ReferralBox::All, vec![], Scope::Partner("acme-web".into()));
    busy.join().unwrap();
    let set: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(set.len(), seen.len(), "no row twice");
    assert!(seen.windows(2).all(|p| p[0] < p[1]), "ordered by id");
    assert!(expected_acme.is_subset(&set));
    let after_busy = page_through(ReferralBox::All, vec![], Scope::Partner("acme-web".into()));
    assert_eq!(after_busy.len(), expected_acme.len() + 30);

    let incoming = page_through(
        ReferralBox::Incoming,
        vec![],
        Scope::Partner("acme-web".into()),
    );
    let outgoing = page_through(
        ReferralBox::Outgoing,
        vec![],
        Scope::Partner("acme-web".into()),
    );
    assert_eq!(incoming.len(), 20 + 30);
    assert_eq!(outgoing.len(), 20);
    let everything = page_through(ReferralBox::All, vec![], Scope::Everything);
    assert_eq!(everything.len(), 90);
    let one = outgoing[0].clone();
    w.act("blue", &one, 1, accept()).unwrap_err_free();
    let accepted = page_through(
        ReferralBox::All,
        vec![Status::Accepted],
        Scope::Partner("acme-web".into()),
    );
    assert_eq!(accepted, vec![one]);
    let open = page_through(
        ReferralBox::Outgoing,
        vec![Status::Pending, Status::Accepted],
        Scope::Partner("acme-web".into()),
    );
    assert_eq!(open.len(), 20);
    let page = w
        .store
        .list(&ListQuery {
            scope: Scope::Partner("fox-design".into()),
            box_: ReferralBox::All,
            statuses: vec![],
            after_id: None,
            limit: 10,
        })
        .unwrap();
    assert!(page.items.is_empty() && !page.has_more);
    assert_eq!(page.as_of, w.store.last_seq().unwrap());
}

#[test]
fn writes_from_many_threads_all_land_in_order() {
    let w = Arc::new(world());
    let mut live = w.store.subscribe();
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let w = w.clone();
            std::thread::spawn(move || {
                (0..20)
                    .map(|_| w.sent("north", "acme").referral.id)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let ids: BTreeSet<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(ids.len(), 320);
    let mut last = 0;
    let mut got = BTreeSet::new();
    while let Ok(e) = live.try_recv() {
        assert!(e.seq > last);
        last = e.seq;
        got.insert(e.referral.referral.id.clone());
    }
    assert_eq!(got, ids);
    assert_eq!(last, 320);
}

#[test]
fn prune_keeps_a_day_or_the_last_100000_whichever_is_more() {
    let w = world();
    w.sent("north", "acme");
    // 100,009 more old events, written straight into the log.
    let c = Connection::open(&w.path).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    c.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100009) \
         INSERT INTO events (at, referral_id, accepted_partner, body) \
         SELECT e.at, e.referral_id, e.accepted_partner, e.body FROM n, events e WHERE e.seq = 1",
        [],
    )
    .unwrap();
    assert_eq!(w.store.last_seq().unwrap(), 100_010);
    w.clock.advance(Duration::hours(25));
    w.sent("north", "acme");
    let last = w.store.last_seq().unwrap();
    assert_eq!(last, 100_011);
    w.store.prune().unwrap();
    // Older than a day and not among the last 100,000: seqs 1..=11 go.
    assert_eq!(w.store.resume_floor().unwrap(), 11);
    let first = w.store.events_after(0, 1).unwrap();
    assert_eq!(first[0].seq, 12);
    let n: i64 = c
        .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 100_000);
    // Pruning again changes nothing; a newer day keeps everything it has.
    w.store.prune().unwrap();
    assert_eq!(w.store.resume_floor().unwrap(), 11);
    assert_eq!(w.store.last_seq().unwrap(), last);
}

#[test]
fn stored_times_are_whole_seconds() {
    let w = world();
    w.clock.advance(Duration::milliseconds(1500));
    let r = w.sent("north", "acme");
    assert_eq!(r.referral.created_at.timestamp_subsec_nanos(), 0);
    assert_eq!(r.referral.expires_at.timestamp_subsec_nanos(), 0);
    assert_eq!(r.referral.created_at.timestamp() % 60, 4);
}

#[test]
fn the_writer_is_wal_with_full_sync() {
    let w = world();
    let (sync, mode, busy) = w
        .store
        .submit(1, |ctx| {
            let q = |sql: &str| -> StoreResult<String> {
                ctx.conn
                    .query_row(sql, [], |r| r.get::<_, rusqlite::types::Value>(0))
                    .map(|v| match v {
                        rusqlite::types::Value::Integer(i) => i.to_string(),
                        rusqlite::types::Value::Text(t) => t,
                        other => format!("{other:?}"),
                    })
                    .map_err(backend)
            };
            Ok((
                q("PRAGMA synchronous")?,
                q("PRAGMA journal_mode")?,
                q("PRAGMA busy_timeout")?,
            ))
        })
        .unwrap();
    assert_eq!(sync, "2", "synchronous=FULL");
    assert_eq!(mode, "wal");
    assert_eq!(busy, "10000", "writers wait up to 10 s for a lock");
}
