//! The stories of the seeded leads, planned before anything is played:
//! who sends each lead, who forwards it, how it ends and when each step
//! happens within the [`super::HISTORY_DAYS`] before now.

use chrono::Duration;
use rand::Rng;
use rand::seq::IndexedRandom;

use super::HISTORY_DAYS;
use crate::demo::world::{self, DEMO_PARTNER, LeadFactory, STAFF_PARTNER, pick_weighted};
use crate::wire::{LeadInput, Partner, ReasonCode, Timestamp};

/// How a lead's last hop ends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fate {
    /// Still pending at the end; `soon`: expires within hours.
    Pending {
        soon: bool,
    },
    Accepted,
    Won,
    Lost,
    Rejected(ReasonCode),
    Withdrawn,
    Expired,
}

/// How the demo integrator takes part in a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DemoPart {
    /// First recipient.
    Incoming,
    /// Originator.
    Outgoing,
    /// Second recipient (a partner forwarded it on).
    ForwardedIn,
    /// Not at all (the operator sees it).
    Background,
}

/// One lead's planned life.
#[derive(Debug)]
pub(super) struct Story {
    pub(super) chain: Vec<String>,
    pub(super) lead: LeadInput,
    pub(super) commission: u32,
    pub(super) note: Option<String>,
    /// `expires_in_hours` of each hop (`None`: the default 72).
    pub(super) lives: Vec<Option<u32>>,
    /// When each hop is created.
    pub(super) created: Vec<Timestamp>,
    pub(super) fate: Fate,
    /// When the last hop is decided (accept, reject, withdraw), if it is.
    pub(super) decided: Option<Timestamp>,
    /// When an accepted last hop is closed won or lost, if it is.
    pub(super) closed: Option<Timestamp>,
}

/// A step of a story, at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Step {
    Create,
    /// Forward hop `i` (creating hop `i + 1`).
    Forward(usize),
    Decide,
    Close,
}

fn life_hours(life: Option<u32>) -> i64 {
    i64::from(life.unwrap_or(crate::wire::DEFAULT_EXPIRES_IN_HOURS))
}

fn minutes(rng: &mut impl Rng, lo: i64, hi: i64) -> Duration {
    Duration::minutes(rng.random_range(lo..=hi.max(lo)))
}

/// A random moment in `[lo, hi]` (or `lo` when the range is empty).
fn between(rng: &mut impl Rng, lo: Timestamp, hi: Timestamp) -> Timestamp {
    let span = (hi - lo).num_seconds();
    if span <= 0 {
        return lo;
    }
    lo + Duration::seconds(rng.random_range(0..=span))
}

fn pick_partner<'a>(rng: &mut impl Rng, choices: &[&'a Partner]) -> Option<&'a Partner> {
    choices.choose(rng).copied()
}

/// Plans the lead's chain: who sends it, who forwards it, who ends up with it.
fn plan_chain(
    rng: &mut impl Rng,
    partners: &[Partner],
    role: DemoPart,
    hops: usize,
    category: &str,
) -> Vec<String> {
    // Originator: affiliates send most leads, a few carriers send many.
    let originator = if role == DemoPart::Outgoing {
        DEMO_PARTNER.to_string()
    } else {
        world::pick_sender(rng, partners, &[DEMO_PARTNER])
            .id
            .clone()
    };
    let mut chain = vec![originator];
    for position in 1..=hops {
        let fixed = match role {
            DemoPart::Incoming if position == 1 => Some(DEMO_PARTNER.to_string()),
            DemoPart::ForwardedIn if position == 2 => Some(DEMO_PARTNER.to_string()),
            _ => None,
        };
        let next = fixed.unwrap_or_else(|| {
            let mut exclude = chain.clone();
            exclude.push(DEMO_PARTNER.to_string());
            // The last recipient sells the category; forwarders are anyone
            // the lead plausibly went to first.
            let sellers = world::sellers(partners, category, &exclude);
            let anyone: Vec<&Partner> = partners
                .iter()
                .filter(|p| p.id != STAFF_PARTNER && !exclude.contains(&p.id))
                .collect();
            let pool = if position == hops || rng.random_bool(0.6) {
                if sellers.is_empty() {
                    &anyone
                } else {
                    &sellers
                }
            } else {
                &anyone
            };
            pick_partner(rng, pool)
                .expect("enough partners for a chain")
                .id
                .clone()
        });
        chain.push(next);
    }
    chain
}

pub(super) fn plan_story(
    rng: &mut impl Rng,
    partners: &[Partner],
    factory: &mut LeadFactory,
    rejected_count: &mut usize,
    now: Timestamp,
) -> Story {
    let role = pick_weighted(
        rng,
        &[
            (DemoPart::Incoming, 38),
            (DemoPart::Outgoing, 27),
            (DemoPart::ForwardedIn, 9),
            (DemoPart::Background, 26),
        ],
    );
    let category = match role {
        DemoPart::Incoming => pick_weighted(
            rng,
            &[
                ("services", 35),
                ("design", 20),
                ("ecommerce", 25),
                ("hosting", 20),
            ],
        ),
        DemoPart::Outgoing => pick_weighted(
            rng,
            &[
                ("bandwidth", 30),
                ("hosting", 20),
                ("colocation", 12),
                ("design", 18),
                ("services", 15),
                ("ecommerce", 5),
            ],
        ),
        _ => pick_weighted(
            rng,
            &[
                ("bandwidth", 15),
                ("colocation", 8),
                ("hosting", 20),
                ("services", 25),
                ("design", 17),
                ("ecommerce", 12),
                ("branding", 3),
            ],
        ),
    };
    // Most leads land where they should; the demo integrator forwards
    // fewer than it receives.
    let hops = match role {
        DemoPart::Incoming => pick_weighted(rng, &[(1usize, 72), (2, 14), (3, 8), (4, 6)]),
        DemoPart::ForwardedIn => pick_weighted(rng, &[(2usize, 60), (3, 25), (4, 15)]),
        _ => pick_weighted(rng, &[(1usize, 60), (2, 22), (3, 10), (4, 8)]),
    };
    let chain = plan_chain(rng, partners, role, hops, category);
    let originator = partners
        .iter()
        .find(|p| p.id == chain[0])
        .expect("originator is a partner");
    let recipient = partners
        .iter()
        .find(|p| p.id == chain[1])
        .expect("recipient is a partner");
    let region = if rng.random_bool(0.7) && !recipient.regions.is_empty() {
        recipient.regions.choose(rng).expect("regions").as_str()
    } else {
        world::lead_region(rng)
    };
    let lead = factory.lead(rng, category, region);
    let commission = world::commission(rng, originator.kind);
    let note = world::sender_note(rng);

    // The demo agent opens its inbox to a good queue of undecided leads.
    let pending_weight = match role {
        DemoPart::Incoming | DemoPart::ForwardedIn => 30,
        _ => 16,
    };
    let fates = [
        (0u8, pending_weight),
        (1, 11),
        (2, 10),
        (3, 8),
        (4, 17),
        (5, 8),
        (6, 12),
    ];
    let fate = match pick_weighted(rng, &fates) {
        0 => Fate::Pending {
            soon: rng.random_bool(0.35),
        },
        1 => Fate::Accepted,
        2 => Fate::Won,
        3 => Fate::Lost,
        4 => {
            let code = ReasonCode::ALL[*rejected_count % ReasonCode::ALL.len()];
            *rejected_count += 1;
            Fate::Rejected(code)
        }
        5 => Fate::Withdrawn,
        _ => Fate::Expired,
    };
    let lives: Vec<Option<u32>> = (0..hops)
        .map(|i| {
            let last = i + 1 == hops;
            if last && matches!(fate, Fate::Pending { soon: true }) {
                None
            } else {
                pick_weighted(
                    rng,
                    &[(None, 70), (Some(48), 10), (Some(120), 10), (Some(168), 10)],
                )
            }
        })
        .collect();
    // Offsets from the first hop's creation.
    let mut offsets = vec![Duration::zero()];
    for life in &lives[..hops - 1] {
        let limit = (life_hours(*life) * 60 - 60).min(40 * 60);
        let prev = *offsets.last().expect("offsets");
        offsets.push(prev + minutes(rng, 10, limit));
    }
    let last_life = Duration::hours(life_hours(lives[hops - 1]));
    let forward_span = *offsets.last().expect("offsets");
    let window_start = now - Duration::days(HISTORY_DAYS);
    let decide_delay = minutes(rng, 8, (last_life.num_minutes() - 60).min(36 * 60));
    let close_delay = minutes(rng, 12 * 60, 12 * 24 * 60);
    let (t0, decided, closed) = match fate {
        Fate::Pending { soon } => {
            let left = if soon {
                minutes(rng, 20, 6 * 60)
            } else {
                minutes(rng, 6 * 60, last_life.num_minutes() - 15)
            };
            let last_created = now - (last_life - left);
            (last_created - forward_span, None, None)
        }
        Fate::Expired => {
            let latest = now - forward_span - last_life - Duration::hours(1);
            (between(rng, window_start, latest), None, None)
        }
        Fate::Won | Fate::Lost => {
            let latest = now - forward_span - decide_delay - close_delay - Duration::minutes(10);
            let t0 = between(rng, window_start, latest);
            let decided = t0 + forward_span + decide_delay;
            (t0, Some(decided), Some(decided + close_delay))
        }
        Fate::Accepted | Fate::Rejected(_) | Fate::Withdrawn => {
            let latest = now - forward_span - decide_delay - Duration::minutes(10);
            let t0 = between(rng, window_start, latest);
            (t0, Some(t0 + forward_span + decide_delay), None)
        }
    };
    Story {
        chain,
        lead,
        commission,
        note,
        lives,
        created: offsets.into_iter().map(|o| t0 + o).collect(),
        fate,
        decided,
        closed,
    }
}
