//! The PostgreSQL store against a real server: each test makes its own
//! database (see [`super::test_db`]) and passes vacuously, saying so once,
//! when no PostgreSQL is reachable (unless `LEADX_REQUIRE_PG=1`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::test_db::TestDb;
use super::*;
use crate::clock::ManualClock;
use crate::domain::{Action, DomainError};
use crate::store::Scope;
use crate::wire::{LeadInput, PartnerKind, ReferralBox, parse_timestamp};

/// A fresh database, or an early (passing) return without PostgreSQL.
macro_rules! db_or_skip {
    () => {
        match TestDb::create().await {
            Some(db) => db,
            None => return,
        }
    };
}

fn clock() -> Arc<ManualClock> {
    ManualClock::new(parse_timestamp("2026-11-26T09:14:03Z").unwrap())
}

async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

// -- a small exchange on PostgreSQL ------------------------------------

const PARTNERS: [&str; 4] = ["northwind-net", "acme-web", "blue-host", "exchange"];

/// Labels of the users every world has, with their partner and role.
const USERS: [(&str, &str, Role); 5] = [
    ("north", "northwind-net", Role::Agent),
    ("acme", "acme-web", Role::Agent),
    ("acme2", "acme-web", Role::Agent),
    ("blue", "blue-host", Role::Agent),
    ("op", "exchange", Role::Operator),
];

struct World {
    clock: Arc<ManualClock>,
    /// Two servers on one database.
    a: PgStore,
    b: PgStore,
    actors: BTreeMap<&'static str, Actor>,
    /// Dropped last: the stores' connections go first.
    db: TestDb,
}

async fn world() -> Option<World> {
    let db = TestDb::create().await?;
    let clock = clock();
    let a = PgStore::connect(&db.url, clock.clone()).await.unwrap();
    let b = PgStore::connect(&db.url, clock.clone()).await.unwrap();
    for id in PARTNERS {
        a.add_partner(&Partner {
            id: id.into(),
            name: id.to_uppercase(),
            kind: PartnerKind::Integrator,
            categories: vec!["hosting".into()],
            regions: vec!["US-West".into()],
        })
        .await
        .unwrap();
    }
    let mut actors = BTreeMap::new();
    for (label, partner, role) in USERS {
        let (_, token) = a.add_user(partner, label, role).await.unwrap();
        // Tokens work on every server.
        actors.insert(label, b.authenticate(&token).await.unwrap().unwrap());
    }
    Some(World {
        clock,
        a,
        b,
        actors,
        db,
    })
}

macro_rules! world_or_skip {
    () => {
        match world().await {
            Some(w) => w,
            None => return,
        }
    };
}

fn request(to: &str, domain: Option<&str>) -> CreateReferral {
    CreateReferral {
        to_partner: to.into(),
        lead: LeadInput {
            company: Some("Main Street Bakery".into()),
            domain: domain.map(String::from),
            contact_name: Some("Sam Baker".into()),
            category: Some("hosting".into()),
            ..LeadInput::default()
        },
        commission_pct: Some(15),
        note: Some("warm intro".into()),
        expires_in_hours: None,
    }
}

fn accept(id: &str, version: u64) -> Vec<ActionItem> {
    vec![ActionItem {
        id: id.into(),
        version,
        action: Action::Accept { note: None },
    }]
}

fn idem(user: &str, key: &str, hash: &str) -> IdemSave {
    IdemSave {
        user_id: user.into(),
        key: key.into(),
        request_hash: hash.into(),
        render: Box::new(|results| StoredResponse {
            status: 201,
            body: format!("{}", results.len()).into_bytes(),
        }),
    }
}

impl World {
    fn actor(&self, label: &str) -> &Actor {
        &self.actors[label]
    }

    async fn send(&self, store: &PgStore, from: &str, domain: Option<&str>) -> StoredReferral {
        store
            .create(self.actor(from), request("acme-web", domain), None)
            .await
            .unwrap()
            .unwrap()
            .referral
    }
}

/// The next event on a subscription, waiting at most `secs`.
async fn next_event(rx: &mut broadcast::Receiver<Arc<StoredEvent>>, secs: u64) -> Arc<StoredEvent> {
    tokio::time::timeout(std::time::Duration::from_secs(secs), rx.recv())
        .await
        .expect("no event in time")
        .expect("feed closed or lagged")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_run_on_postgres_send_accept_forward_list() {
    let w = world_or_skip!();
    let r = w.send(&w.a, "north", Some("www.Bakery.example")).await;
    assert_eq!(r.referral.version, 1);
    assert_eq!(w.b.get(&r.referral.id).await.unwrap().unwrap(), r);
    // A duplicate domain, seen from the other server.
    match w
        .b
        .create(
            w.actor("blue"),
            request("acme-web", Some("bakery.example")),
            None,
        )
        .await
        .unwrap()
    {
        Err(DomainError::Duplicate { existing_id, .. }) => assert_eq!(existing_id, None),
        other => panic!("{other:?}"),
    }
    let done =
        w.b.apply(w.actor("acme"), accept(&r.referral.id, 1), None)
            .await
            .unwrap();
    let accepted = done[0].as_ref().unwrap().referral.clone();
    assert_eq!(accepted.referral.status, Status::Accepted);
    assert_eq!(accepted.accepted_partner.as_deref(), Some("acme-web"));
    // A stale version is a conflict with the referral as it is now.
    match &w
        .a
        .apply(w.actor("acme2"), accept(&r.referral.id, 1), None)
        .await
        .unwrap()[0]
    {
        Err(DomainError::Conflict { current, .. }) => assert_eq!(**current, accepted),
        other => panic!("{other:?}"),
    }
    let page =
        w.a.list(&ListQuery {
            scope: Scope::Partner("acme-web".into()),
            box_: ReferralBox::All,
            statuses: vec![Status::Accepted],
            after_id: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(page.items, vec![accepted.clone()]);
    assert!(!page.has_more);
    assert_eq!(page.as_of, 2);
    let events = w.a.events_after(0, 100).await.unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(events[1].referral, accepted);
    assert_eq!(
        w.b.count_by_status().await.unwrap(),
        vec![(Status::Accepted, 1)]
    );
    assert_eq!(w.a.resume_floor().await.unwrap(), 0);
    w.a.prune().await.unwrap();
    assert_eq!(w.a.events_after(0, 100).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_seqs_follow_commit_order_under_concurrent_writers() {
    let w = Arc::new(world_or_skip!());
    const TASKS: usize = 8;
    const EACH: usize = 50;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // A reader on a third server, reading the whole log over and over: a
    // seq it finds for the first time is never below one it saw before.
    let reader = {
        let (url, clock, done) = (w.db.url.clone(), w.clock.clone(), done.clone());
        tokio::spawn(async move {
            let c = PgStore::connect(&url, clock).await.unwrap();
            let mut seen = BTreeSet::new();
            let mut max = 0;
            let mut polls = 0;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let log = c.events_after(0, usize::MAX).await.unwrap();
                for e in &log {
                    if seen.insert(e.seq) {
                        assert!(e.seq > max, "new seq {} found after {max}", e.seq);
                    }
                }
                max = seen.last().copied().unwrap_or(0);
                polls += 1;
                if finished {
                    return (seen, polls);
                }
            }
        })
    };
    let writers: Vec<_> = (0..TASKS)
        .map(|t| {
            let w = w.clone();
            tokio::spawn(async move {
                for _ in 0..EACH {
                    let store = if t % 2 == 0 { &w.a } else { &w.b };
                    w.send(store, "north", None).await;
                }
            })
        })
        .collect();
    for h in writers {
        h.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let (seen, polls) = reader.await.unwrap();
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        (1..=(TASKS * EACH) as u64).collect::<Vec<_>>()
    );
    assert!(polls > 1);
    assert_eq!(w.a.last_seq().await.unwrap(), (TASKS * EACH) as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_and_its_as_of_come_from_one_snapshot() {
    let w = Arc::new(world_or_skip!());
    let writer = {
        let w = w.clone();
        tokio::spawn(async move {
            for i in 0..120 {
                let store = if i % 2 == 0 { &w.a } else { &w.b };
                w.send(store, "north", None).await;
            }
        })
    };
    let everything = ListQuery {
        scope: Scope::Everything,
        box_: ReferralBox::All,
        statuses: vec![],
        after_id: None,
        limit: 5000,
    };
    let mut checked = 0;
    while !writer.is_finished() || checked == 0 {
        let page = w.a.list(&everything).await.unwrap();
        // Every event is a creation: the page holds exactly the referrals
        // created at or before as_of.
        let log = w.b.events_after(0, usize::MAX).await.unwrap();
        let upto: BTreeSet<String> = log
            .iter()
            .filter(|e| e.seq <= page.as_of)
            .map(|e| e.referral.referral.id.clone())
            .collect();
        let listed: BTreeSet<String> = page.items.iter().map(|r| r.referral.id.clone()).collect();
        assert_eq!(listed, upto, "as_of {}", page.as_of);
        checked += 1;
    }
    writer.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contested_writes_on_two_servers_have_one_winner() {
    let w = world_or_skip!();
    let r = w.send(&w.a, "north", None).await;
    let (x, y) = tokio::join!(
        w.a.apply(w.actor("acme"), accept(&r.referral.id, 1), None),
        w.b.apply(w.actor("acme2"), accept(&r.referral.id, 1), None)
    );
    let results = [x.unwrap().remove(0), y.unwrap().remove(0)];
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert_eq!(
        results
            .iter()
            .filter(|r| matches!(r, Err(DomainError::Conflict { .. })))
            .count(),
        1
    );
    // Two servers creating one domain at once: one lead, one duplicate.
    let (x, y) = tokio::join!(
        w.a.create(
            w.actor("north"),
            request("acme-web", Some("same.example")),
            None
        ),
        w.b.create(
            w.actor("blue"),
            request("acme-web", Some("same.example")),
            None
        )
    );
    let results = [x.unwrap(), y.unwrap()];
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert_eq!(
        results
            .iter()
            .filter(|r| matches!(r, Err(DomainError::Duplicate { .. })))
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_server_reaches_subscribers_of_another() {
    let w = world_or_skip!();
    let mut on_b = w.b.subscribe();
    let mut on_a = w.a.subscribe();
    let r = w.send(&w.a, "north", None).await;
    let ev = next_event(&mut on_b, 5).await;
    assert_eq!((ev.seq, &ev.referral), (1, &r));
    assert_eq!(next_event(&mut on_a, 5).await.seq, 1);
    let done =
        w.b.apply(w.actor("acme"), accept(&r.referral.id, 1), None)
            .await
            .unwrap();
    assert!(done[0].is_ok());
    assert_eq!(next_event(&mut on_a, 5).await.seq, 2);
    assert_eq!(next_event(&mut on_b, 5).await.seq, 2);
}

/// Terminates every listening connection of the test's database; returns
/// how many.
async fn kill_listeners(admin: &tokio_postgres::Client) -> i64 {
    let row = admin
        .query_one(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = $1",
            &[&listen::APPLICATION_NAME],
        )
        .await
        .unwrap();
    row.get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_listen_connection_loses_no_event() {
    let w = world_or_skip!();
    let admin = admin(&w.db.url).await;
    let mut on_b = w.b.subscribe();
    let mut on_a = w.a.subscribe();
    w.send(&w.a, "north", None).await;
    assert_eq!(next_event(&mut on_b, 5).await.seq, 1);
    assert_eq!(next_event(&mut on_a, 5).await.seq, 1);
    assert_eq!(kill_listeners(&admin).await, 2);
    // Written while both servers listen no more: they catch up from the log.
    for i in 0..20 {
        let store = if i % 2 == 0 { &w.a } else { &w.b };
        w.send(store, "north", None).await;
    }
    for want in 2..=21 {
        assert_eq!(next_event(&mut on_b, 10).await.seq, want);
        assert_eq!(next_event(&mut on_a, 10).await.seq, want);
    }
    // And they listen again: a later write arrives too.
    w.send(&w.b, "north", None).await;
    assert_eq!(next_event(&mut on_a, 10).await.seq, 22);
    assert_eq!(next_event(&mut on_b, 10).await.seq, 22);
    assert!(on_a.try_recv().is_err() && on_b.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_sweeps_at_a_time() {
    let w = world_or_skip!();
    for _ in 0..6 {
        w.send(&w.a, "north", None).await;
    }
    w.clock.advance(chrono::Duration::hours(73));
    // Another server holds the sweep lease: this one does nothing.
    let mut admin = admin(&w.db.url).await;
    let lease = admin.transaction().await.unwrap();
    lease
        .execute("SELECT pg_advisory_xact_lock($1)", &[&SWEEP_LOCK])
        .await
        .unwrap();
    assert_eq!(w.a.expire_due().await.unwrap(), 0);
    assert_eq!(w.b.expire_due().await.unwrap(), 0);
    lease.rollback().await.unwrap();
    // Both at once: the six expire once.
    let (x, y) = tokio::join!(w.a.expire_due(), w.b.expire_due());
    assert_eq!(x.unwrap() + y.unwrap(), 6);
    assert_eq!(w.a.last_seq().await.unwrap(), 12);
    assert_eq!(
        w.b.count_by_status().await.unwrap(),
        vec![(Status::Expired, 6)]
    );
    assert_eq!(w.a.next_expiry().await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_fails_publishes_nothing_and_takes_no_seq() {
    let w = world_or_skip!();
    let mut feed = w.a.subscribe();
    let r = w.send(&w.a, "north", None).await;
    assert_eq!(next_event(&mut feed, 5).await.seq, 1);
    // The response renderer panics after the accept was written: the job
    // is rolled back alone, its event with it.
    let boom = IdemSave {
        user_id: w.actor("acme").user_id.clone(),
        key: "boom".into(),
        request_hash: "h".into(),
        render: Box::new(|_| panic!("render failed")),
    };
    assert!(
        w.a.apply(w.actor("acme"), accept(&r.referral.id, 1), Some(boom))
            .await
            .is_err()
    );
    assert_eq!(w.b.get(&r.referral.id).await.unwrap().unwrap(), r);
    assert_eq!(w.a.last_seq().await.unwrap(), 1);
    let done =
        w.b.apply(w.actor("acme"), accept(&r.referral.id, 1), None)
            .await
            .unwrap();
    assert!(done[0].is_ok());
    let ev = next_event(&mut feed, 5).await;
    assert_eq!((ev.seq, ev.referral.referral.version), (2, 2));
    // The same inside a group: many writes at once, one of them failing.
    let w = Arc::new(w);
    let writes: Vec<_> = (0..12)
        .map(|i| {
            let w = w.clone();
            tokio::spawn(async move {
                let actor = w.actor("north");
                let idem = (i == 5).then(|| IdemSave {
                    user_id: actor.user_id.clone(),
                    key: "boom2".into(),
                    request_hash: "h".into(),
                    render: Box::new(|_| panic!("render failed")),
                });
                w.a.create(actor, request("acme-web", None), idem).await
            })
        })
        .collect();
    let mut failed = 0;
    for h in writes {
        failed += usize::from(h.await.unwrap().is_err());
    }
    assert_eq!(failed, 1);
    let mut got = Vec::new();
    for _ in 0..11 {
        got.push(next_event(&mut feed, 5).await.seq);
    }
    assert_eq!(got, (3..=13).collect::<Vec<_>>());
    assert_eq!(w.b.last_seq().await.unwrap(), 13);
}

mod auth;
mod idempotency;
mod plans;
mod startup;
mod write_tx;
