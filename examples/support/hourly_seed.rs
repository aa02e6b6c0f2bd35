//! The store `inbox_bytes` runs its inbox against: referrals to and from
//! acme-web created on whole hours (a `ManualClock` held on the hour), so
//! that every age and countdown on screen changes only on the hour.

use std::path::Path;
use std::sync::Arc;

use chrono::{DurationRound, Utc};
use leadx::clock::{ManualClock, SharedClock};
use leadx::demo::world::{LeadFactory, commission, sender_note, trading_partners};
use leadx::domain::{Action, ActionItem};
use leadx::store::sqlite::SqliteStore;
use leadx::wire::{CreateReferral, Partner, ReasonCode, ReasonInput};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use super::ME;

/// The seeded store, its clock (held on the hour) and the tokens the
/// benchmark uses.
pub struct World {
    pub store: Arc<SqliteStore>,
    pub clock: Arc<ManualClock>,
    /// acme-web's agent: the inbox runs as them.
    pub inbox_token: String,
    /// A partner that sends acme-web the measured leads, and its token.
    pub sender: (String, String),
    /// How many referrals the Incoming pane holds once listed.
    pub incoming: usize,
}

/// `n` referrals to and from acme-web, created on whole hours over the
/// last ~3 days; those older than 22 hours decided by their receivers.
pub fn seed(dir: &Path, n: usize) -> World {
    let partners = trading_partners();
    let hour = Utc::now()
        .duration_trunc(chrono::Duration::hours(1))
        .expect("hour");
    let clock = ManualClock::new(hour);
    let shared: SharedClock = clock.clone();
    let store = Arc::new(SqliteStore::open(&dir.join("inbox.db"), shared).expect("store"));
    let (actors, tokens) = super::agents(&store, &partners);
    let others: Vec<&Partner> = partners.iter().filter(|p| p.id != ME).collect();
    let mut rng = StdRng::seed_from_u64(7);
    let mut leads = LeadFactory::new();
    const SLOTS: usize = 75;
    let per = n.div_ceil(SLOTS);
    let mut made = 0;
    let mut incoming_count = 0;
    for slot in 0..SLOTS {
        if made == n {
            break;
        }
        let age_hours = slot as i64 + 1;
        clock.set(hour - chrono::Duration::hours(age_hours));
        let mut decide: std::collections::HashMap<String, Vec<ActionItem>> = Default::default();
        let mut requests = Vec::new();
        for _ in 0..per.min(n - made) {
            let other = *others.choose(&mut rng).expect("partners");
            let lead = super::lead_from(&mut rng, &mut leads, other);
            let incoming = !made.is_multiple_of(3);
            let (from, to) = if incoming {
                (other.id.clone(), ME.to_string())
            } else {
                (ME.to_string(), other.id.clone())
            };
            if incoming {
                incoming_count += 1;
            }
            let request = CreateReferral {
                to_partner: to,
                lead,
                commission_pct: Some(commission(&mut rng, other.kind)),
                note: sender_note(&mut rng),
                expires_in_hours: None,
            };
            requests.push((from, request, rng.random_bool(0.6)));
            made += 1;
        }
        // Many callers at once, so the writer commits them in groups.
        let threads = requests.len().clamp(1, 16);
        let mut shares: Vec<Vec<_>> = (0..threads).map(|_| Vec::new()).collect();
        for (k, r) in requests.into_iter().enumerate() {
            shares[k % threads].push(r);
        }
        let created: Vec<(String, String, bool)> = std::thread::scope(|scope| {
            let handles: Vec<_> = shares
                .into_iter()
                .map(|share| {
                    let (store, actors) = (&store, &actors);
                    scope.spawn(move || {
                        share
                            .into_iter()
                            .map(|(from, request, accept)| {
                                let to = request.to_partner.clone();
                                let r = store
                                    .create(&actors[&from], request, None)
                                    .expect("store")
                                    .expect("created")
                                    .referral
                                    .referral;
                                (to, r.id, accept)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("seed thread"))
                .collect()
        });
        // Pending ones must show > 48 h left (hour granularity): decide the older.
        if age_hours > 22 {
            for (to, id, accept) in created {
                let action = if accept {
                    Action::Accept { note: None }
                } else {
                    Action::Reject {
                        reason: ReasonInput {
                            code: ReasonCode::UnableToSupport,
                            note: None,
                        },
                    }
                };
                decide.entry(to).or_default().push(ActionItem {
                    id,
                    version: 1,
                    action,
                });
            }
        }
        clock.set(hour - chrono::Duration::hours(age_hours) + chrono::Duration::minutes(30));
        for (to, items) in decide {
            for r in store.apply(&actors[&to], items, None).expect("apply") {
                r.expect("decided");
            }
        }
    }
    clock.set(hour);
    let sender = others[0].id.clone();
    World {
        store,
        clock,
        inbox_token: tokens[ME].clone(),
        sender: (sender.clone(), tokens[&sender].clone()),
        incoming: incoming_count,
    }
}
