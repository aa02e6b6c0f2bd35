//! What the release-mode benchmarks share: the real `leadx` binary next to
//! them, and a real SQLite store seeded with many referrals through the
//! `Store` trait. Each example includes it with `mod support;`.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use leadx::clock::{ManualClock, SharedClock};
use leadx::demo::world::{LeadFactory, commission, lead_region, sender_note};
use leadx::domain::{Action, ActionItem, Actor};
use leadx::store::sqlite::SqliteStore;
use leadx::wire::{CreateReferral, Partner, ReasonCode, ReasonInput, Role};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

/// The partner whose referrals are measured (the demo integrator).
pub const ME: &str = "acme-web";

/// `PASS` or `MISS`.
pub fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

/// The `leadx` binary: `$LEADX_BIN`, else the one built next to this example.
pub fn leadx_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("LEADX_BIN") {
        return p.into();
    }
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/examples/<name> → target/<profile>/leadx
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("leadx"))
        .expect("target dir");
    if !bin.exists() {
        eprintln!(
            "{} is missing: run `cargo build --release --bin leadx` first (or set LEADX_BIN)",
            bin.display()
        );
        std::process::exit(2);
    }
    bin
}

/// A seeded store and a token of `ME`'s agent.
pub struct Seeded {
    pub store: Arc<SqliteStore>,
    pub clock: Arc<ManualClock>,
    pub token: String,
}

impl Seeded {
    /// What the store holds by status: `pending 3600, accepted 40000, ...`.
    pub fn status_words(&self) -> String {
        let counts = self.store.count_by_status().expect("counts");
        let words: Vec<String> = counts
            .iter()
            .map(|(s, k)| format!("{} {k}", s.as_str()))
            .collect();
        words.join(", ")
    }
}

/// A real SQLite store with `n` referrals to or from acme-web, created
/// through `Store::create` over 30 simulated days, many decided through
/// `Store::apply`, the overdue ones expired.
pub fn seed(dir: &std::path::Path, n: usize, partners: &[Partner]) -> Seeded {
    let start = Utc::now() - chrono::Duration::days(30);
    let clock = ManualClock::new(start);
    let shared: SharedClock = clock.clone();
    let store = Arc::new(SqliteStore::open(&dir.join("bench.db"), shared).expect("open store"));
    let mut actors = std::collections::HashMap::new();
    let mut token = String::new();
    for p in partners {
        store.add_partner(p).expect("partner");
        let (_, t) = store
            .add_user(&p.id, "Sam Ortiz", Role::Agent)
            .expect("user");
        let actor: Actor = store.authenticate(&t).expect("auth").expect("actor");
        if p.id == ME {
            token = t;
        }
        actors.insert(p.id.clone(), actor);
    }
    let actors = Arc::new(actors);
    let others: Arc<Vec<Partner>> =
        Arc::new(partners.iter().filter(|p| p.id != ME).cloned().collect());

    const CHUNK: usize = 1000;
    const THREADS: usize = 16;
    let chunks = n.div_ceil(CHUNK);
    let step = chrono::Duration::seconds(30 * 86_400 / chunks.max(1) as i64);
    let mut made = 0;
    for c in 0..chunks {
        clock.set(start + step * c as i32);
        let this = CHUNK.min(n - made);
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (store, actors, others) = (store.clone(), actors.clone(), others.clone());
                std::thread::spawn(move || {
                    let mut rng = StdRng::seed_from_u64((c * THREADS + t) as u64);
                    let mut leads = LeadFactory::new();
                    let mut ids = Vec::new();
                    for k in (t..this).step_by(THREADS) {
                        let i = made + k;
                        let other = others.choose(&mut rng).expect("partners");
                        let category = other
                            .categories
                            .choose(&mut rng)
                            .cloned()
                            .unwrap_or_else(|| "hosting".into());
                        let region = lead_region(&mut rng);
                        let mut lead = leads.lead(&mut rng, &category, region);
                        // Unique across threads, so duplicate detection stays quiet.
                        lead.domain = lead.domain.map(|d| format!("n{i}-{d}"));
                        let incoming = !i.is_multiple_of(3);
                        let (from, to) = if incoming {
                            (other.id.as_str(), ME)
                        } else {
                            (ME, other.id.as_str())
                        };
                        let request = CreateReferral {
                            to_partner: to.to_string(),
                            lead,
                            commission_pct: Some(commission(&mut rng, other.kind)),
                            note: sender_note(&mut rng),
                            expires_in_hours: None,
                        };
                        let r = store
                            .create(&actors[from], request, None)
                            .expect("store")
                            .expect("created")
                            .referral
                            .referral;
                        ids.push((incoming, r.to_partner.to_string(), r.id));
                    }
                    ids
                })
            })
            .collect();
        let created: Vec<(bool, String, String)> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("seed thread"))
            .collect();
        made += this;
        // The receivers decide about half of them, a little later.
        clock.set(start + step * c as i32 + chrono::Duration::hours(2));
        let mut by_receiver: std::collections::HashMap<String, Vec<ActionItem>> =
            Default::default();
        for (k, (_, to, id)) in created.into_iter().enumerate() {
            let action = match k % 10 {
                0..4 => Action::Accept {
                    note: Some("Thanks! Calling them tomorrow".into()),
                },
                4 | 5 => Action::Reject {
                    reason: ReasonInput {
                        code: ReasonCode::UnableToSupport,
                        note: Some("Outside our region this quarter".into()),
                    },
                },
                _ => continue,
            };
            by_receiver.entry(to).or_default().push(ActionItem {
                id,
                version: 1,
                action,
            });
        }
        for (to, items) in by_receiver {
            for r in store.apply(&actors[&to], items, None).expect("apply") {
                r.expect("decided");
            }
        }
    }
    clock.set(Utc::now());
    while store.expire_due().expect("expire") > 0 {}
    Seeded {
        store,
        clock,
        token,
    }
}

/// Reads a pseudo-terminal's output on its own thread until it closes:
/// `chunk` gets each read with when it arrived, then `closed` runs once.
pub fn spawn_pty_reader(
    mut reader: Box<dyn Read + Send>,
    mut chunk: impl FnMut(Instant, &[u8]) + Send + 'static,
    closed: impl FnOnce() + Send + 'static,
) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => {
                    closed();
                    return;
                }
                Ok(n) => chunk(Instant::now(), &buf[..n]),
            }
        }
    });
}
