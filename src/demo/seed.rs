//! Seeding the demo world through the public [`Store`] API: partners, one
//! agent per partner (for the seed's and the simulator's actions), the demo
//! users, and a few hundred referrals in every status, spread over the last
//! 30 days by moving a [`ManualClock`] forward while the stories play out.
//!
//! Tokens are stored hashed, so the demo keeps its own tokens in a file
//! beside the database (`<db>.demo-tokens.json`, mode 0600) and reuses them
//! on later starts.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{Duration, SubsecRound, Utc};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::world::{self, DEMO_PARTNER, LeadFactory, STAFF_PARTNER, WORLD_SEED, pick_weighted};
use crate::clock::ManualClock;
use crate::domain::{Action, ActionItem, Actor, DomainError, ItemResult};
use crate::store::blocking::BlockingStore;
use crate::wire::{
    CloseStatus, CreateReferral, LeadInput, OutcomeInput, Partner, PartnerKind, ReasonCode,
    ReasonInput, Role, Timestamp,
};

/// Name of the demo agent (the person at the keyboard).
pub const DEMO_AGENT_NAME: &str = "Dana Reyes";
/// Name of the demo viewer.
pub const DEMO_VIEWER_NAME: &str = "Priya Raman";
/// Name of the demo operator.
pub const DEMO_OPERATOR_NAME: &str = "Morgan Ellis";
/// How far back the seeded history reaches.
pub const HISTORY_DAYS: i64 = 30;

/// The demo's bearer tokens, as kept in `<db>.demo-tokens.json`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoTokens {
    /// An agent of the demo integrator (acts).
    pub agent: String,
    /// A viewer of the demo integrator (reads only).
    pub viewer: String,
    /// An operator of the exchange staff (reads everything).
    pub operator: String,
    /// The demo integrator's partner id.
    pub agent_partner: String,
    /// One agent token per trading partner (partner id → token), used by the
    /// seed and the simulator to act as that partner.
    #[serde(default)]
    pub partner_agents: BTreeMap<String, String>,
}

impl std::fmt::Debug for DemoTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoTokens")
            .field("agent_partner", &self.agent_partner)
            .field("partner_agents", &self.partner_agents.len())
            .finish_non_exhaustive()
    }
}

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

/// `<db>.demo-tokens.json`.
pub fn tokens_path(db_path: &Path) -> PathBuf {
    let mut name = db_path.as_os_str().to_owned();
    name.push(".demo-tokens.json");
    PathBuf::from(name)
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

/// The tokens file's content, if it is there and readable.
pub fn read_tokens(file: &Path) -> Option<DemoTokens> {
    let text = std::fs::read_to_string(file).ok()?;
    match serde_json::from_str(&text) {
        Ok(tokens) => Some(tokens),
        Err(e) => {
            tracing::warn!("ignoring {}: {e}", file.display());
            None
        }
    }
}

/// Writes the tokens file (mode 0600), replacing it atomically.
pub fn write_tokens(file: &Path, tokens: &DemoTokens) -> anyhow::Result<()> {
    let mut tmp_name = file.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut out = options
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    out.write_all(serde_json::to_string_pretty(tokens)?.as_bytes())?;
    out.write_all(b"\n")?;
    out.sync_all()?;
    drop(out);
    std::fs::rename(&tmp, file).with_context(|| format!("writing {}", file.display()))?;
    Ok(())
}

/// Whether `token` belongs to an active user of `partner` with `role`.
fn token_is(store: &BlockingStore, token: &str, partner: &str, role: Role) -> anyhow::Result<bool> {
    if token.is_empty() {
        return Ok(false);
    }
    Ok(store
        .authenticate(token)?
        .is_some_and(|a| a.partner_id == partner && a.role == role))
}

/// Makes sure the demo users and one agent per trading partner exist,
/// keeping the tokens of `existing` that still authenticate as what they
/// should and creating users for the rest. Returns the tokens and whether
/// anything was created.
pub fn ensure_demo_users(
    store: &BlockingStore,
    existing: Option<DemoTokens>,
    rng: &mut impl Rng,
) -> anyhow::Result<(DemoTokens, bool)> {
    let partners = store.list_partners(None)?;
    if !partners.iter().any(|p| p.id == DEMO_PARTNER) {
        bail!(
            "this database has partners but not the demo integrator `{DEMO_PARTNER}`; \
             use an empty database for the demo"
        );
    }
    if !partners.iter().any(|p| p.id == STAFF_PARTNER) {
        store.add_partner(&world::staff_partner())?;
    }
    let mut tokens = existing.unwrap_or_else(|| DemoTokens {
        agent: String::new(),
        viewer: String::new(),
        operator: String::new(),
        agent_partner: DEMO_PARTNER.to_string(),
        partner_agents: BTreeMap::new(),
    });
    tokens.agent_partner = DEMO_PARTNER.to_string();
    let mut changed = false;
    let mut ensure = |token: &mut String, partner: &str, name: &str, role: Role| {
        if token_is(store, token, partner, role)? {
            return anyhow::Ok(());
        }
        let (_, fresh) = store.add_user(partner, name, role)?;
        *token = fresh;
        changed = true;
        Ok(())
    };
    ensure(
        &mut tokens.agent,
        DEMO_PARTNER,
        DEMO_AGENT_NAME,
        Role::Agent,
    )?;
    ensure(
        &mut tokens.viewer,
        DEMO_PARTNER,
        DEMO_VIEWER_NAME,
        Role::Viewer,
    )?;
    ensure(
        &mut tokens.operator,
        STAFF_PARTNER,
        DEMO_OPERATOR_NAME,
        Role::Operator,
    )?;
    let mut agents = std::mem::take(&mut tokens.partner_agents);
    agents.retain(|id, _| partners.iter().any(|p| &p.id == id));
    for partner in partners.iter().filter(|p| p.id != STAFF_PARTNER) {
        let mut token = agents.get(&partner.id).cloned().unwrap_or_default();
        let name = world::person_name(rng);
        ensure(&mut token, &partner.id, &name, Role::Agent)?;
        agents.insert(partner.id.clone(), token);
    }
    tokens.partner_agents = agents;
    Ok((tokens, changed))
}

/// The actors behind `tokens.partner_agents`, by partner id.
pub fn partner_actors(
    store: &BlockingStore,
    tokens: &DemoTokens,
) -> anyhow::Result<BTreeMap<String, Actor>> {
    let mut actors = BTreeMap::new();
    for (partner, token) in &tokens.partner_agents {
        let actor = store
            .authenticate(token)?
            .with_context(|| format!("the demo agent token of {partner} does not authenticate"))?;
        actors.insert(partner.clone(), actor);
    }
    Ok(actors)
}

/// How a lead's last hop ends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
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
struct Story {
    chain: Vec<String>,
    lead: LeadInput,
    commission: u32,
    note: Option<String>,
    /// `expires_in_hours` of each hop (`None`: the default 72).
    lives: Vec<Option<u32>>,
    /// When each hop is created.
    created: Vec<Timestamp>,
    fate: Fate,
    /// When the last hop is decided (accept, reject, withdraw), if it is.
    decided: Option<Timestamp>,
    /// When an accepted last hop is closed won or lost, if it is.
    closed: Option<Timestamp>,
}

/// A step of a story, at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
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

fn plan_story(
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

/// Where a story stands while it is played.
#[derive(Debug, Clone)]
struct Progress {
    id: String,
    version: u64,
}

/// Moves the clock to `t`, expiring on the way (at their own `expires_at`)
/// every pending referral that runs out before it.
fn advance_to(store: &BlockingStore, clock: &ManualClock, t: Timestamp) -> anyhow::Result<usize> {
    let mut expired = 0;
    while let Some(due) = store.next_expiry()? {
        if due > t {
            break;
        }
        clock.set(due);
        let n = store.expire_due()?;
        if n == 0 {
            break;
        }
        expired += n;
    }
    clock.set(t);
    Ok(expired)
}

fn describe_error(e: &DomainError) -> String {
    match e {
        DomainError::NotFound => "not found".to_string(),
        DomainError::Forbidden { message } => format!("forbidden: {message}"),
        DomainError::Invalid { field, message } => {
            format!("invalid ({}): {message}", field.as_deref().unwrap_or("-"))
        }
        DomainError::Conflict { message, .. } => format!("conflict: {message}"),
        DomainError::Duplicate { message, .. } => format!("duplicate: {message}"),
    }
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

fn first(results: Vec<ItemResult>) -> Result<crate::domain::Applied, String> {
    match results.into_iter().next() {
        Some(Ok(applied)) => Ok(applied),
        Some(Err(e)) => Err(describe_error(&e)),
        None => Err("the store returned no result".to_string()),
    }
}

/// Plays one step; the outer error is the store's, the inner one a refusal.
/// On success: where the story's current hop now stands, and how many
/// referrals the step created.
fn play(
    store: &BlockingStore,
    actors: &BTreeMap<String, Actor>,
    partners: &[Partner],
    rng: &mut impl Rng,
    story: &Story,
    step: Step,
    at: Option<&Progress>,
) -> anyhow::Result<Result<(Progress, usize), String>> {
    let actor = |partner: &str| {
        actors
            .get(partner)
            .with_context(|| format!("no demo agent for {partner}"))
    };
    let act =
        |by: &str, at: &Progress, action: Action| -> anyhow::Result<Result<Progress, String>> {
            let results = store.apply(
                actor(by)?,
                vec![ActionItem {
                    id: at.id.clone(),
                    version: at.version,
                    action,
                }],
                None,
            )?;
            Ok(first(results).map(|applied| Progress {
                id: applied.referral.referral.id.clone(),
                version: applied.referral.referral.version,
            }))
        };
    let Some(at) = at else {
        if step != Step::Create {
            return Ok(Err("step before the lead was created".to_string()));
        }
        let request = CreateReferral {
            to_partner: story.chain[1].clone(),
            lead: story.lead.clone(),
            commission_pct: Some(story.commission),
            note: story.note.clone(),
            expires_in_hours: story.lives[0],
        };
        let created = store.create(actor(&story.chain[0])?, request, None)?;
        return Ok(created.map_err(|e| describe_error(&e)).map(|applied| {
            let hop = &applied.referral.referral;
            (
                Progress {
                    id: hop.id.clone(),
                    version: hop.version,
                },
                1,
            )
        }));
    };
    let recipient = &story.chain[story.chain.len() - 1];
    match step {
        Step::Create => Ok(Err("created twice".to_string())),
        Step::Forward(hop) => {
            let by = &story.chain[hop + 1];
            let to = &story.chain[hop + 2];
            let partner = |id: &str| partners.iter().find(|p| p.id == id);
            let to_name = partner(to).map_or(to.as_str(), |p| p.name.as_str());
            let region = story.lead.region.clone().unwrap_or_default();
            let by_kind = partner(by).map_or(PartnerKind::Integrator, |p| p.kind);
            let action = Action::Forward {
                to_partner: to.clone(),
                note: world::forward_note(rng, to_name, &region),
                commission_pct: rng
                    .random_bool(0.3)
                    .then(|| world::commission(rng, by_kind)),
                expires_in_hours: story.lives[hop + 1],
            };
            let results = store.apply(
                actor(by)?,
                vec![ActionItem {
                    id: at.id.clone(),
                    version: at.version,
                    action,
                }],
                None,
            )?;
            Ok(first(results).and_then(|applied| {
                let child = applied
                    .forwarded
                    .ok_or_else(|| "a forward without its new hop".to_string())?;
                Ok((
                    Progress {
                        id: child.referral.id.clone(),
                        version: child.referral.version,
                    },
                    1,
                ))
            }))
        }
        Step::Decide => {
            let (by, action) = match story.fate {
                Fate::Accepted | Fate::Won | Fate::Lost => (
                    recipient.clone(),
                    Action::Accept {
                        note: world::accept_note(rng),
                    },
                ),
                Fate::Rejected(code) => (
                    recipient.clone(),
                    Action::Reject {
                        reason: ReasonInput {
                            code,
                            note: world::reject_note(rng, code),
                        },
                    },
                ),
                Fate::Withdrawn => (story.chain[story.chain.len() - 2].clone(), Action::Withdraw),
                Fate::Pending { .. } | Fate::Expired => {
                    return Ok(Err("decided a lead meant to stay undecided".to_string()));
                }
            };
            Ok(act(&by, at, action)?.map(|p| (p, 0)))
        }
        Step::Close => {
            let won = story.fate == Fate::Won;
            let value_cents = if won {
                story.lead.est_value_cents.map(|v| {
                    ((v as f64) * rng.random_range(0.6..1.3) / 10_000.0).round() as i64 * 10_000
                })
            } else {
                None
            };
            let action = Action::Close {
                status: if won {
                    CloseStatus::Won
                } else {
                    CloseStatus::Lost
                },
                outcome: OutcomeInput {
                    value_cents,
                    note: world::close_note(rng, won),
                },
            };
            Ok(act(recipient, at, action)?.map(|p| (p, 0)))
        }
    }
}
