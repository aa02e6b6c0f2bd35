//! The demo world: seeding a real SQLite store through the public API, the
//! demo's tokens, and the simulator.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{Timelike, Utc};
use leadx::clock;
use leadx::demo::world::{DEMO_PARTNER, STAFF_PARTNER};
use leadx::demo::{self, DemoTokens, SimActors, seed_if_empty, simulator_step, tokens_path};
use leadx::domain::StoredReferral;
use leadx::domain::visibility;
use leadx::store::blocking::BlockingStore;
use leadx::store::{ListQuery, Scope, SharedStore, SqliteStore};
use leadx::wire::{ReasonCode, ReferralBox, Role, Status};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn db_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("demo.db")
}

fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path, clock::system()).expect("open store")
}

/// Every referral in `scope`/`box_`, following pages of `limit`.
fn list_all(
    store: &SqliteStore,
    scope: Scope,
    box_: ReferralBox,
    statuses: Vec<Status>,
    limit: usize,
) -> Vec<StoredReferral> {
    let mut out = Vec::new();
    let mut after_id = None;
    loop {
        let page = store
            .list(&ListQuery {
                scope: scope.clone(),
                box_,
                statuses: statuses.clone(),
                after_id: after_id.clone(),
                limit,
            })
            .expect("list");
        after_id = page.items.last().map(|r| r.referral.id.clone());
        out.extend(page.items);
        if !page.has_more {
            return out;
        }
    }
}

fn everything(store: &SqliteStore) -> Vec<StoredReferral> {
    list_all(store, Scope::Everything, ReferralBox::All, vec![], 500)
}

fn seeded() -> (tempfile::TempDir, PathBuf, DemoTokens) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_in(&dir);
    let tokens = seed_if_empty(&path).expect("seed");
    (dir, path, tokens)
}

#[test]
fn seeding_yields_a_month_of_referrals_in_every_status() {
    let (_dir, path, _tokens) = seeded();
    let store = open(&path);
    let all = everything(&store);
    // The seed is fixed and every story is timed from now, so the world
    // is the same whenever it is seeded: 230 leads, 362 hops.
    assert_eq!(all.len(), 362);

    let by_status: BTreeMap<Status, usize> = all.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r.referral.status).or_default() += 1;
        m
    });
    assert_eq!(
        by_status,
        BTreeMap::from([
            (Status::Pending, 59),
            (Status::Accepted, 28),
            (Status::Rejected, 47),
            (Status::Forwarded, 132),
            (Status::Withdrawn, 24),
            (Status::Expired, 23),
            (Status::Won, 26),
            (Status::Lost, 23),
        ]),
        "every status is well represented"
    );
    let codes: HashSet<ReasonCode> = all
        .iter()
        .filter_map(|r| r.referral.reason.as_ref().map(|x| x.code))
        .collect();
    assert_eq!(
        codes.len(),
        ReasonCode::ALL.len(),
        "every reason code: {codes:?}"
    );

    // Forward chains of 2 to 4 hops (a chain of 5 partners is 4 hops).
    let longest = all.iter().map(|r| r.referral.chain.len()).max().unwrap();
    assert_eq!(longest, 5, "chains reach 4 hops");
    for hops in 2..=4 {
        assert!(
            all.iter().any(|r| r.referral.chain.len() == hops + 1),
            "some chain of {hops} hops"
        );
    }
    for r in all
        .iter()
        .filter(|r| r.referral.status == Status::Forwarded)
    {
        let child = r.referral.forwarded_to.as_ref().expect("forwarded_to");
        let child = store.get(child).unwrap().expect("the child exists");
        assert_eq!(child.referral.parent_id.as_ref(), Some(&r.referral.id));
        assert_eq!(child.referral.from_partner, r.referral.to_partner);
    }

    // Spread over the last month, nothing in the future.
    let now = Utc::now();
    let oldest = all.iter().map(|r| r.referral.created_at).min().unwrap();
    let newest = all.iter().map(|r| r.referral.updated_at).max().unwrap();
    assert!(
        now - oldest >= chrono::Duration::days(20),
        "oldest {oldest}"
    );
    assert!(
        now - oldest <= chrono::Duration::days(33),
        "oldest {oldest}"
    );
    assert!(newest <= now, "newest {newest}");

    // Pending ones are still live, some with only hours left.
    let pending: Vec<_> = all
        .iter()
        .filter(|r| r.referral.status == Status::Pending)
        .collect();
    assert!(pending.iter().all(|r| r.referral.expires_at > now));
    assert!(
        pending
            .iter()
            .any(|r| r.referral.expires_at - now < chrono::Duration::hours(6)),
        "some expire within hours"
    );
    // Expired ones ran out on their own clock.
    for r in all.iter().filter(|r| r.referral.status == Status::Expired) {
        assert_eq!(r.referral.decided_at, Some(r.referral.expires_at));
        assert!(r.referral.decided_by.is_none());
    }
    // Leads look real: fictional domains, values in range, several currencies.
    assert!(all.iter().all(|r| {
        r.referral
            .lead
            .domain
            .as_deref()
            .is_some_and(|d| d.ends_with(".example"))
    }));
    let currencies: BTreeSet<&str> = all
        .iter()
        .map(|r| r.referral.lead.currency.as_str())
        .collect();
    assert_eq!(currencies, BTreeSet::from(["EUR", "GBP", "USD"]));
    assert!(
        all.iter()
            .filter_map(|r| r.referral.lead.est_value_cents)
            .all(|v| (200_000..=25_000_000).contains(&v))
    );
}

#[test]
fn the_demo_integrator_has_both_boxes_full_and_sees_only_its_own() {
    let (_dir, path, tokens) = seeded();
    let store = open(&path);
    let agent = store
        .authenticate(&tokens.agent)
        .unwrap()
        .expect("agent token");
    let scope = Scope::Partner(agent.partner_id.clone());
    // (How many, and how many pending: the seed is fixed.)
    for (box_, count, pending) in [
        (ReferralBox::Incoming, 105, 22),
        (ReferralBox::Outgoing, 109, 18),
    ] {
        let items = list_all(&store, scope.clone(), box_, vec![], 500);
        assert_eq!(items.len(), count, "{box_:?}");
        let open = items
            .iter()
            .filter(|r| r.referral.status == Status::Pending)
            .count();
        assert_eq!(open, pending, "{box_:?} pending");
    }
    // Pages of an odd size, as the demo agent: only its partner's, no repeats.
    let mut seen = HashSet::new();
    let all = list_all(&store, scope, ReferralBox::All, vec![], 37);
    assert_eq!(all.len(), 105 + 109, "six pages of 37");
    for r in &all {
        assert!(
            r.referral.from_partner == DEMO_PARTNER || r.referral.to_partner == DEMO_PARTNER,
            "{} is between {} and {}",
            r.referral.id,
            r.referral.from_partner,
            r.referral.to_partner
        );
        assert!(visibility::can_see(r, &agent));
        assert!(seen.insert(r.referral.id.clone()), "no repeats");
    }
    // And there is plenty the demo agent must not see.
    let others = everything(&store)
        .into_iter()
        .filter(|r| !visibility::can_see(r, &agent))
        .count();
    assert_eq!(others, 362 - 214, "background trade exists");
}

#[test]
fn tokens_authenticate_with_the_right_roles_and_are_kept_private() {
    let (_dir, path, tokens) = seeded();
    let store = open(&path);
    let who = |t: &str| store.authenticate(t).unwrap().expect("token authenticates");
    let agent = who(&tokens.agent);
    assert_eq!(
        (agent.role, agent.partner_id.as_str()),
        (Role::Agent, DEMO_PARTNER)
    );
    let viewer = who(&tokens.viewer);
    assert_eq!(
        (viewer.role, viewer.partner_id.as_str()),
        (Role::Viewer, DEMO_PARTNER)
    );
    let operator = who(&tokens.operator);
    assert_eq!(
        (operator.role, operator.partner_id.as_str()),
        (Role::Operator, STAFF_PARTNER)
    );
    assert_eq!(tokens.agent_partner, DEMO_PARTNER);
    let partners = store.list_partners(None).unwrap();
    assert_eq!(
        tokens.partner_agents.len(),
        partners.len() - 1,
        "every trading partner"
    );
    for (partner, token) in &tokens.partner_agents {
        let a = who(token);
        assert_eq!((&a.partner_id, a.role), (partner, Role::Agent));
    }

    let file = tokens_path(&path);
    assert_eq!(
        file.file_name().unwrap().to_str().unwrap(),
        "demo.db.demo-tokens.json"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = describe_for(&tokens);
    assert!(text.contains(&tokens.agent) && text.contains(&tokens.operator));
}

fn describe_for(tokens: &DemoTokens) -> String {
    demo::describe(tokens, "http://127.0.0.1:7878")
}

#[test]
fn seeding_twice_changes_nothing_and_a_lost_tokens_file_gets_new_users() {
    let (_dir, path, tokens) = seeded();
    let (count, users) = {
        let store = open(&path);
        (everything(&store).len(), store.list_users().unwrap().len())
    };
    let again = seed_if_empty(&path).expect("second start");
    assert_eq!(again, tokens, "tokens are reused");
    {
        let store = open(&path);
        assert_eq!(everything(&store).len(), count, "no referral added");
        assert_eq!(store.list_users().unwrap().len(), users, "no user added");
        assert_eq!(
            store.list_partners(None).unwrap().len(),
            leadx::demo::world::partners().len()
        );
    }

    std::fs::remove_file(tokens_path(&path)).unwrap();
    let fresh = seed_if_empty(&path).expect("start without the tokens file");
    assert_ne!(fresh.agent, tokens.agent);
    assert!(tokens_path(&path).exists(), "the file is written again");
    let store = open(&path);
    let agent = store
        .authenticate(&fresh.agent)
        .unwrap()
        .expect("new agent");
    assert_eq!(
        (agent.role, agent.partner_id.as_str()),
        (Role::Agent, DEMO_PARTNER)
    );
    assert_eq!(everything(&store).len(), count, "still no referral added");
    // Every demo user is made anew (the old ones stay, their tokens lost).
    assert_eq!(store.list_users().unwrap().len(), 2 * users);
}

#[test]
fn simulator_steps_keep_the_queue_moving() {
    let (_dir, path, tokens) = seeded();
    let store = open(&path);
    let blocking = BlockingStore::anywhere(Arc::new(open(&path))).expect("runtime");
    let actors = SimActors::load(&blocking, &tokens).expect("actors");
    assert!(
        !actors.actors.contains_key(DEMO_PARTNER),
        "the human acts for the demo integrator"
    );
    let scope = Scope::Partner(DEMO_PARTNER.to_string());
    let pending_in = |s: &SqliteStore| -> HashSet<String> {
        list_all(
            s,
            scope.clone(),
            ReferralBox::Incoming,
            vec![Status::Pending],
            500,
        )
        .into_iter()
        .map(|r| r.referral.id)
        .collect()
    };
    let before = pending_in(&store);
    let seq_before = store.last_seq().unwrap();
    let mut rng = StdRng::seed_from_u64(42);
    let mut log = Vec::new();
    for i in 0..50 {
        let what = simulator_step(&blocking, &mut rng, &actors)
            .unwrap_or_else(|e| panic!("step {i} failed: {e:#}"));
        assert!(!what.is_empty());
        log.push(what);
    }
    let after = pending_in(&store);
    let new: Vec<_> = after.difference(&before).collect();
    // The world and the steps' random source are seeded: the same 50 steps
    // every time.
    assert_eq!(
        new.len(),
        20,
        "new pending incoming leads: {new:?}\n{log:#?}"
    );
    assert_eq!(
        store.last_seq().unwrap(),
        seq_before + 55,
        "every step changed something, some two things\n{log:#?}"
    );
    // Other partners decided on what the demo integrator had sent them.
    assert!(
        log.iter()
            .any(|l| l.contains(" accepted ") || l.contains(" rejected ")),
        "{log:#?}"
    );
    // The new incoming leads are from real partners, to the demo integrator.
    for id in new {
        let r = store.get(id).unwrap().unwrap().referral;
        assert_eq!(r.to_partner, DEMO_PARTNER);
        assert!(actors.actors.contains_key(r.from_partner.as_str()));
    }
}

/// Starts a simulator, waits until it has changed things, stops it.
async fn runs_until_told_to_stop(with_tokens: bool) -> (usize, usize) {
    let (_dir, path, tokens) = seeded();
    let store: SharedStore = Arc::new(open(&path));
    let users_before = store.list_users().await.unwrap().len();
    let seq_before = store.last_seq().await.unwrap();
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let interval = Duration::from_millis(20);
    let task = if with_tokens {
        tokio::spawn(demo::run_simulator_with(
            store.clone(),
            tokens,
            interval,
            shutdown,
        ))
    } else {
        tokio::spawn(demo::run_simulator(store.clone(), interval, shutdown))
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while store.last_seq().await.unwrap() < seq_before + 5 {
        assert!(tokio::time::Instant::now() < deadline, "the simulator acts");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops promptly")
        .unwrap()
        .expect("stops cleanly");
    (users_before, store.list_users().await.unwrap().len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_simulator_with_the_seeded_agents_adds_no_users() {
    let (before, after) = runs_until_told_to_stop(true).await;
    assert_eq!(before, after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_simulator_without_tokens_acts_as_fresh_agents() {
    let (before, after) = runs_until_told_to_stop(false).await;
    let partners = leadx::demo::world::partners().len();
    assert_eq!(
        after,
        before + partners - 2,
        "one per partner but the demo's and staff's"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_simulator_stops_when_the_sender_is_dropped() {
    let (_dir, path, tokens) = seeded();
    let store: SharedStore = Arc::new(open(&path));
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(demo::run_simulator_with(
        store,
        tokens,
        Duration::from_secs(3600),
        shutdown,
    ));
    // No wait needed before the drop: whether the simulator is still
    // loading its actors or already waiting out its hour, it meets a
    // dropped sender at its `changed()`, and nothing else can end that
    // hour within the timeout below.
    drop(stop);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops promptly")
        .unwrap()
        .expect("stops cleanly");
}

#[test]
fn the_seed_plays_every_story_without_a_refusal_and_is_deterministic() {
    let companies = |dir: &tempfile::TempDir| {
        let now = Utc::now().with_nanosecond(0).unwrap();
        let clock = leadx::clock::ManualClock::new(now);
        let store = Arc::new(SqliteStore::open(&db_in(dir), clock.clone()).unwrap());
        let blocking = BlockingStore::anywhere(store.clone()).expect("runtime");
        let report = demo::seed::seed_world(&blocking, &clock, now).expect("seed");
        assert!(report.failures.is_empty(), "{:#?}", report.failures);
        assert_eq!((report.leads, report.referrals), (230, 362));
        assert_eq!(
            leadx::clock::Clock::now(&*clock),
            now,
            "the clock ends at now"
        );
        let all = everything(&store);
        assert_eq!(all.len(), report.referrals);
        all.into_iter()
            .map(|r| (r.referral.lead.company, r.referral.chain, r.referral.status))
            .collect::<BTreeSet<_>>()
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert_eq!(companies(&a), companies(&b), "same seed, same world");
}
