//! Store-level load: single accepts from N concurrent callers (p50/p99,
//! throughput) and a 500-item batch, straight against `SqliteStore`
//! (no HTTP). `cargo run --release --example store_bench [-- CALLERS N]`;
//! `RUST_LOG=leadx=debug` adds a line per group commit;
//! `LEADX_BENCH_QUICK=1`: 8 callers, 400 accepts, a 50-item batch, checks only.

mod support;

use support::{banner, check, scaled};

use std::sync::Arc;
use std::time::{Duration, Instant};

use leadx::clock;
use leadx::domain::{Action, ActionItem, Actor};
use leadx::store::sqlite::SqliteStore;
use leadx::wire::{CreateReferral, LeadInput, Partner, PartnerKind, Role};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn send_many(
    store: &Arc<SqliteStore>,
    from: &Actor,
    to: &str,
    n: usize,
    callers: usize,
) -> Vec<String> {
    let per = n.div_ceil(callers);
    let handles: Vec<_> = (0..callers)
        .map(|_| {
            let store = store.clone();
            let from = from.clone();
            let to = to.to_string();
            std::thread::spawn(move || {
                (0..per)
                    .map(|i| {
                        let req = CreateReferral {
                            to_partner: to.clone(),
                            lead: LeadInput {
                                company: Some(format!("Company {i}")),
                                category: Some("hosting".into()),
                                summary: Some("Managed hosting for an e-commerce relaunch".into()),
                                contact_name: Some("Sam Baker".into()),
                                est_value_cents: Some(1_200_000),
                                ..LeadInput::default()
                            },
                            commission_pct: Some(10),
                            note: Some("Warm intro; their CTO expects a call".into()),
                            expires_in_hours: None,
                        };
                        store
                            .create(&from, req, None)
                            .unwrap()
                            .unwrap()
                            .referral
                            .referral
                            .id
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .take(n)
        .collect()
}

fn main() {
    // `RUST_LOG=leadx=debug` shows each group commit: jobs, run and commit time.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().collect();
    let callers: usize = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(scaled(64, 8));
    let n: usize = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(scaled(20_000, 400));
    let batch = scaled(500, 50);
    banner("leadx store benchmark: SqliteStore, no HTTP");
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("bench.db"), clock::system()).unwrap());
    for id in ["northwind-net", "acme-web"] {
        store
            .add_partner(&Partner {
                id: id.into(),
                name: id.into(),
                kind: PartnerKind::Provider,
                categories: vec![],
                regions: vec![],
            })
            .unwrap();
    }
    let (_, t1) = store
        .add_user("northwind-net", "Sender", Role::Agent)
        .unwrap();
    let (_, t2) = store
        .add_user("acme-web", "Dana Reyes", Role::Agent)
        .unwrap();
    let from = store.authenticate(&t1).unwrap().unwrap();
    let to = store.authenticate(&t2).unwrap().unwrap();

    let t = Instant::now();
    let ids = send_many(&store, &from, "acme-web", n + batch, 64);
    println!("seeded {} referrals in {:?}", ids.len(), t.elapsed());
    check(ids.len() == n + batch, "every referral created");
    let (batch_ids, ids) = ids.split_at(batch);

    let chunks: Vec<Vec<String>> = ids
        .chunks(n.div_ceil(callers))
        .map(|c| c.to_vec())
        .collect();
    let t = Instant::now();
    let handles: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let store = store.clone();
            let to = to.clone();
            std::thread::spawn(move || {
                let mut lat = Vec::with_capacity(chunk.len());
                for id in chunk {
                    let s = Instant::now();
                    let item = ActionItem {
                        id,
                        version: 1,
                        action: Action::Accept { note: None },
                    };
                    let r = store.apply(&to, vec![item], None).unwrap();
                    check(r[0].is_ok(), &format!("accept failed: {:?}", r[0]));
                    lat.push(s.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let took = t.elapsed();
    lat.sort();
    println!(
        "{} single accepts, {callers} callers: {:.0}/s, p50 {:?}, p99 {:?}, max {:?}",
        lat.len(),
        lat.len() as f64 / took.as_secs_f64(),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or_default()
    );

    let items: Vec<ActionItem> = batch_ids
        .iter()
        .map(|id| ActionItem {
            id: id.clone(),
            version: 1,
            action: Action::Accept { note: None },
        })
        .collect();
    let t = Instant::now();
    let r = store.apply(&to, items, None).unwrap();
    let applied = r.iter().filter(|r| r.is_ok()).count();
    println!("{batch}-item batch: {:?} ({applied} applied)", t.elapsed());
    check(applied == batch, "every batch item applied");
    check(lat.len() == n, "every single accept timed");
}
