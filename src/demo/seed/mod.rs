//! Seeding the demo world through the public [`Store`](crate::store::Store) API: partners, one
//! agent per partner (for the seed's and the simulator's actions), the demo
//! users, and a few hundred referrals in every status, spread over the last
//! 30 days by moving a [`ManualClock`] forward while the stories play out.
//!
//! Tokens are stored hashed, so the demo keeps its own tokens in a file
//! beside the database (`<db>.demo-tokens.json`, mode 0600) and reuses them
//! on later starts.
//!
//! - `tokens.rs`: [`DemoTokens`] and the file they are kept in;
//! - `users.rs`: the demo users and one agent per trading partner;
//! - `stories.rs`: the planned life of each seeded lead;
//! - `play.rs`: playing those stories against the store, step by step.

use std::path::Path;

use anyhow::Context;
use chrono::{Duration, SubsecRound, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::world::{self, LeadFactory, WORLD_SEED};
use crate::clock::ManualClock;
use crate::store::blocking::BlockingStore;
use crate::wire::Timestamp;

mod play;
mod stories;
mod tokens;
mod users;

use play::{Progress, advance_to, play};
use stories::{Step, Story, plan_story};
pub use tokens::{DemoTokens, read_tokens, tokens_path, write_tokens};
pub use users::{
    DEMO_AGENT_NAME, DEMO_OPERATOR_NAME, DEMO_VIEWER_NAME, ensure_demo_users, partner_actors,
};

/// How far back the seeded history reaches.
pub const HISTORY_DAYS: i64 = 30;

/// What seeding did.
#[derive(Debug)]
pub struct SeedReport {
    /// The demo's tokens.
    pub tokens: DemoTokens,
    /// Stories (leads) played.
    pub leads: usize,
    /// Referrals (hops) created.
    pub referrals: usize,
    /// Steps the store refused (none when the plan and the store agree).
    pub failures: Vec<String>,
}

/// Seeds the demo world into the database at `db_path` if it holds no
/// partners yet, and returns the demo's tokens (reused from the tokens file
/// beside the database when they still authenticate, created otherwise).
/// Synchronous: call it before the server opens the database.
pub fn seed_if_empty(db_path: &Path) -> anyhow::Result<DemoTokens> {
    let clock = ManualClock::new(Utc::now().trunc_subsecs(0));
    let store = crate::store::sqlite::SqliteStore::open(db_path, clock.clone())
        .with_context(|| format!("opening {}", db_path.display()))?;
    // On a thread of its own, with a runtime of its own: callable from a
    // plain thread, a blocking task or (as tests do) an async one.
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let store = BlockingStore::anywhere(std::sync::Arc::new(store))?;
                seed_store_if_empty(&store, &clock, &tokens_path(db_path))
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// [`seed_if_empty`] on an open store whose clock is `clock`, keeping the
/// tokens in `tokens_file`. Leaves the clock at the current time.
pub fn seed_store_if_empty(
    store: &BlockingStore,
    clock: &ManualClock,
    tokens_file: &Path,
) -> anyhow::Result<DemoTokens> {
    if store.list_partners(None)?.is_empty() {
        let report = seed_world(store, clock, Utc::now().trunc_subsecs(0))?;
        for failure in &report.failures {
            tracing::warn!("demo seed: {failure}");
        }
        tracing::info!(
            leads = report.leads,
            referrals = report.referrals,
            "demo world seeded"
        );
        write_tokens(tokens_file, &report.tokens)?;
        return Ok(report.tokens);
    }
    clock.set(Utc::now().trunc_subsecs(0));
    let existing = read_tokens(tokens_file);
    let mut rng = StdRng::seed_from_u64(WORLD_SEED ^ 0x7053);
    let (tokens, changed) = ensure_demo_users(store, existing, &mut rng)?;
    if changed {
        write_tokens(tokens_file, &tokens)?;
    }
    Ok(tokens)
}

/// Seeds the whole world into an empty store: partners, users, and the
/// stories of a few hundred leads over the [`HISTORY_DAYS`] before `now`,
/// moving `clock` (the store's clock) forward as they play out. Leaves the
/// clock at `now` with everything due expired.
pub fn seed_world(
    store: &BlockingStore,
    clock: &ManualClock,
    now: Timestamp,
) -> anyhow::Result<SeedReport> {
    let mut rng = StdRng::seed_from_u64(WORLD_SEED);
    let start = now - Duration::days(HISTORY_DAYS) - Duration::days(2);
    clock.set(start);
    let partners = world::partners();
    for partner in &partners {
        store
            .add_partner(partner)
            .with_context(|| format!("adding partner {}", partner.id))?;
    }
    let (tokens, _) = ensure_demo_users(store, None, &mut rng)?;
    let actors = partner_actors(store, &tokens)?;

    let trading = world::trading_partners();
    let mut factory = LeadFactory::new();
    let mut rejected = 0;
    let stories: Vec<Story> = (0..230)
        .map(|_| plan_story(&mut rng, &trading, &mut factory, &mut rejected, now))
        .collect();

    let mut steps: Vec<(Timestamp, usize, Step)> = Vec::new();
    for (i, story) in stories.iter().enumerate() {
        steps.push((story.created[0], i, Step::Create));
        for hop in 1..story.created.len() {
            steps.push((story.created[hop], i, Step::Forward(hop - 1)));
        }
        if let Some(t) = story.decided {
            steps.push((t, i, Step::Decide));
        }
        if let Some(t) = story.closed {
            steps.push((t, i, Step::Close));
        }
    }
    steps.sort();

    let mut progress: Vec<Option<Progress>> = vec![None; stories.len()];
    let mut broken = vec![false; stories.len()];
    let mut failures = Vec::new();
    let mut referrals = 0;
    for (t, i, step) in steps {
        if broken[i] {
            continue;
        }
        advance_to(store, clock, t)?;
        let story = &stories[i];
        let result = play(
            store,
            &actors,
            &trading,
            &mut rng,
            story,
            step,
            progress[i].as_ref(),
        )?;
        match result {
            Ok((now_at, created)) => {
                referrals += created;
                progress[i] = Some(now_at);
            }
            Err(message) => {
                failures.push(format!(
                    "lead {} ({}), {step:?}: {message}",
                    i,
                    story.lead.company.as_deref().unwrap_or("?")
                ));
                broken[i] = true;
            }
        }
    }
    advance_to(store, clock, now)?;
    Ok(SeedReport {
        tokens,
        leads: stories.len(),
        referrals,
        failures,
    })
}
