//! The demo's simulator: every few seconds the demo integrator's partners do
//! something a watching inbox sees: send it a new lead (most often), decide
//! on leads it sent them, withdraw one they sent it, close one they won or
//! lost, or trade among themselves (for the operator's view). Each partner
//! acts through its own agent user and the public [`Store`](crate::store::Store) API, so the
//! store's rules apply to the simulator exactly as to a person; a conflict
//! because the human acted first is normal and only logged.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use tokio::sync::watch;

use super::seed::DemoTokens;
use super::world::{self, DEMO_PARTNER, LeadFactory, STAFF_PARTNER, pick_weighted};
use crate::domain::{Action, ActionItem, Actor, DomainError, ItemResult, StoredReferral};
use crate::store::blocking::BlockingStore;
use crate::store::{ListQuery, Scope, SharedStore};
use crate::wire::{
    CreateReferral, MAX_CHAIN, Partner, ReasonCode, ReasonInput, ReferralBox, Role, Status,
};

/// Default pause between two simulator steps (jittered by ±50%).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(4);

/// Pending incoming leads of the demo integrator above which new ones
/// arrive more slowly.
pub const BUSY_QUEUE: usize = 60;

/// Who the simulator acts as: one agent of every trading partner but the
/// demo integrator (whose leads the human decides).
#[derive(Debug, Clone)]
pub struct SimActors {
    /// The demo integrator.
    pub demo: Partner,
    /// Every other trading partner (not the staff partner).
    pub partners: Vec<Partner>,
    /// An agent of each of `partners`, by partner id.
    pub actors: BTreeMap<String, Actor>,
}

impl SimActors {
    /// Authenticates the partner agents of `tokens`; a partner whose token
    /// is missing or revoked gets a fresh agent user.
    pub fn load(store: &BlockingStore, tokens: &DemoTokens) -> anyhow::Result<SimActors> {
        Self::set_up(store, &tokens.agent_partner, &tokens.partner_agents)
    }

    /// A fresh agent user for every partner but `demo_partner` (and the
    /// staff): for a simulator that has no seeded tokens at hand.
    pub fn fresh(store: &BlockingStore, demo_partner: &str) -> anyhow::Result<SimActors> {
        Self::set_up(store, demo_partner, &BTreeMap::new())
    }

    fn set_up(
        store: &BlockingStore,
        demo_partner: &str,
        tokens: &BTreeMap<String, String>,
    ) -> anyhow::Result<SimActors> {
        let all = store.list_partners(None)?;
        let demo = all
            .iter()
            .find(|p| p.id == demo_partner)
            .cloned()
            .with_context(|| format!("no demo partner `{demo_partner}`"))?;
        let partners: Vec<Partner> = all
            .into_iter()
            .filter(|p| p.id != demo.id && p.id != STAFF_PARTNER)
            .collect();
        let mut rng = StdRng::from_os_rng();
        let mut actors = BTreeMap::new();
        for partner in &partners {
            let known = match tokens.get(&partner.id) {
                Some(token) => store
                    .authenticate(token)?
                    .filter(|a| a.partner_id == partner.id && a.role.may_act()),
                None => None,
            };
            let actor = match known {
                Some(actor) => actor,
                None => {
                    let name = world::person_name(&mut rng);
                    let (_, token) = store.add_user(&partner.id, &name, Role::Agent)?;
                    store
                        .authenticate(&token)?
                        .context("a new simulator user does not authenticate")?
                }
            };
            actors.insert(partner.id.clone(), actor);
        }
        Ok(SimActors {
            demo,
            partners,
            actors,
        })
    }

    fn partner(&self, id: &str) -> Option<&Partner> {
        self.partners.iter().find(|p| p.id == id)
    }
}

/// What one step may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    SendIncoming,
    DecideOutgoing,
    WithdrawIncoming,
    CloseOutgoing,
    Background,
}

/// Runs one simulator step and says what it did. Refusals by the store
/// (a conflict because someone acted first, a duplicate domain) are part
/// of the story and come back as `Ok`; only a failure of the store itself
/// is an error.
pub fn simulator_step(
    store: &BlockingStore,
    rng: &mut impl Rng,
    actors: &SimActors,
) -> anyhow::Result<String> {
    // Keep the human's queue lively but bounded: fewer new leads while
    // many are waiting.
    let waiting = open_of(
        store,
        &actors.demo.id,
        ReferralBox::Incoming,
        Status::Pending,
    )?
    .len();
    let send_weight = if waiting >= BUSY_QUEUE { 10 } else { 44 };
    let planned = pick_weighted(
        rng,
        &[
            (Move::SendIncoming, send_weight),
            (Move::DecideOutgoing, 22),
            (Move::WithdrawIncoming, 6),
            (Move::CloseOutgoing, 12),
            (Move::Background, 16),
        ],
    );
    let done = match planned {
        Move::SendIncoming => None,
        Move::DecideOutgoing => decide_outgoing(store, rng, actors)?,
        Move::WithdrawIncoming => withdraw_incoming(store, rng, actors)?,
        Move::CloseOutgoing => close_outgoing(store, rng, actors)?,
        Move::Background => background(store, rng, actors)?,
    };
    match done {
        Some(what) => Ok(what),
        None => send(store, rng, actors, &actors.demo.id),
    }
}

fn describe_refusal(e: &DomainError) -> String {
    match e {
        DomainError::NotFound => "not found".to_string(),
        DomainError::Forbidden { message } => format!("forbidden: {message}"),
        DomainError::Invalid { message, .. } => format!("invalid: {message}"),
        DomainError::Conflict { message, .. } => format!("conflict: {message}"),
        DomainError::Duplicate { message, .. } => format!("duplicate: {message}"),
    }
}

fn company(r: &StoredReferral) -> &str {
    &r.referral.lead.company
}

/// Pending or accepted referrals of `partner` in `box_`, oldest first.
fn open_of(
    store: &BlockingStore,
    partner: &str,
    box_: ReferralBox,
    status: Status,
) -> anyhow::Result<Vec<StoredReferral>> {
    Ok(store
        .list(&ListQuery {
            scope: Scope::Partner(partner.to_string()),
            box_,
            statuses: vec![status],
            after_id: None,
            limit: 500,
        })?
        .items)
}

/// Sends a new lead to `to`, from a partner other than `to`.
fn send(
    store: &BlockingStore,
    rng: &mut impl Rng,
    actors: &SimActors,
    to: &str,
) -> anyhow::Result<String> {
    let recipient = if to == actors.demo.id {
        actors.demo.clone()
    } else {
        actors
            .partner(to)
            .cloned()
            .with_context(|| format!("unknown partner {to}"))?
    };
    let sender = world::pick_sender(rng, &actors.partners, &[to]);
    let actor = actors
        .actors
        .get(&sender.id)
        .with_context(|| format!("no simulator agent for {}", sender.id))?;
    let category = recipient
        .categories
        .choose(rng)
        .map_or("services", String::as_str)
        .to_string();
    let region = if rng.random_bool(0.8) && !recipient.regions.is_empty() {
        recipient.regions.choose(rng).expect("regions").clone()
    } else {
        world::lead_region(rng).to_string()
    };
    let mut last = String::new();
    // A fresh company now and then matches a lead that is still open: that
    // is a duplicate, so try another.
    for _ in 0..6 {
        let lead = LeadFactory::new().lead(rng, &category, &region);
        let company = lead.company.clone().unwrap_or_default();
        let request = CreateReferral {
            to_partner: recipient.id.clone(),
            lead,
            commission_pct: Some(world::commission(rng, sender.kind)),
            note: world::sender_note(rng),
            // Some leads are urgent, so that deadlines show.
            expires_in_hours: rng.random_bool(0.25).then(|| rng.random_range(2..=24)),
        };
        match store.create(actor, request, None)? {
            Ok(applied) => {
                return Ok(format!(
                    "{} sent {} ({category}) to {} as {}",
                    sender.id, company, recipient.id, applied.referral.referral.id
                ));
            }
            Err(e) => {
                last = format!(
                    "{} could not send {company}: {}",
                    sender.id,
                    describe_refusal(&e)
                )
            }
        }
    }
    Ok(last)
}

fn apply_one(
    store: &BlockingStore,
    actor: &Actor,
    r: &StoredReferral,
    action: Action,
) -> anyhow::Result<ItemResult> {
    let mut results = store.apply(
        actor,
        vec![ActionItem {
            id: r.referral.id.clone(),
            version: r.referral.version,
            action,
        }],
        None,
    )?;
    results.pop().context("the store returned no result")
}

/// The recipient of `r` decides on it: accept, reject or forward.
fn decide(
    store: &BlockingStore,
    rng: &mut impl Rng,
    actors: &SimActors,
    r: &StoredReferral,
) -> anyhow::Result<Option<String>> {
    let by = &r.referral.to_partner;
    let Some(actor) = actors.actors.get(by.as_str()) else {
        return Ok(None);
    };
    let category = r.referral.lead.category.clone();
    let targets: Vec<&Partner> = if r.referral.chain.len() < MAX_CHAIN {
        let mut candidates: Vec<&Partner> = actors
            .partners
            .iter()
            .chain(std::iter::once(&actors.demo))
            .filter(|p| !r.referral.chain.iter().any(|c| *c == p.id))
            .collect();
        let sellers: Vec<&Partner> = candidates
            .iter()
            .copied()
            .filter(|p| p.categories.iter().any(|c| *c == category))
            .collect();
        if !sellers.is_empty() {
            candidates = sellers;
        }
        candidates
    } else {
        Vec::new()
    };
    let choice = pick_weighted(
        rng,
        &[
            ("accept", 50),
            ("reject", 30),
            ("forward", if targets.is_empty() { 0 } else { 20 }),
        ],
    );
    let (verb, suffix, action) = match choice {
        "accept" => (
            "accepted",
            String::new(),
            Action::Accept {
                note: world::accept_note(rng),
            },
        ),
        "reject" => {
            let code = *ReasonCode::ALL.choose(rng).expect("codes");
            (
                "rejected",
                format!(" as {}", code.as_str()),
                Action::Reject {
                    reason: ReasonInput {
                        code,
                        note: world::reject_note(rng, code),
                    },
                },
            )
        }
        _ => {
            let to = *targets.choose(rng).expect("targets");
            let region = r.referral.lead.region.clone().unwrap_or_default();
            (
                "forwarded",
                format!(" to {}", to.id),
                Action::Forward {
                    to_partner: to.id.clone(),
                    note: world::forward_note(rng, &to.name, &region),
                    commission_pct: None,
                    expires_in_hours: None,
                },
            )
        }
    };
    Ok(Some(match apply_one(store, actor, r, action)? {
        Ok(_) => format!("{by} {verb} {} ({}){suffix}", r.referral.id, company(r)),
        Err(e) => format!(
            "{by} could not act on {} ({}): {}",
            r.referral.id,
            company(r),
            describe_refusal(&e)
        ),
    }))
}

/// A partner decides on a lead the demo integrator sent it.
fn decide_outgoing(
    store: &BlockingStore,
    rng: &mut impl Rng,
    actors: &SimActors,
) -> anyhow::Result<Option<String>> {
    let pending = open_of(
        store,
        &actors.demo.id,
        ReferralBox::Outgoing,
        Status::Pending,
    )?;
    let candidates: Vec<&StoredReferral> = pending
        .iter()
        .filter(|r| actors.actors.contains_key(r.referral.to_partner.as_str()))
        .collect();
    match candidates.choose(rng) {
        Some(r) => decide(store, rng, actors, r),
        None => Ok(None),
    }
}

/// A sender takes back a lead it sent the demo integrator (an older one).
fn withdraw_incoming(
    store: &BlockingStore,
    rng: &mut impl Rng,
    actors: &SimActors,
) -> anyhow::Result<Option<String>> {
    let pending = open_of(
        store,
        &actors.demo.id,
        ReferralBox::Incoming,
        Status::Pending,
    )?;
    let older = &pending[..pending.len().div_ceil(2)];
    let Some(r) = older.choose(rng) else {
        return Ok(None);
    };
    let by = &r.referral.from_partner;
    let Some(actor) = actors.actors.get(by.as_str()) else {
        return Ok(None);
    };
    Ok(Some(match apply_one(store, actor, r, Action::Withdraw)? {
        Ok(_) => format!("{by} withdrew {} ({})", r.referral.id, company(r)),
        Err(e) => format!(
            "{by} could not withdraw {}: {}",
            r.referral.id,
            describe_refusal(&e)
        ),
    }))
}

/// A partner closes, won or lost, a lead the demo integrator sent it.
fn close_outgoing(
    store: &BlockingStore,
    rng: &mut impl Rng,
    actors: &SimActors,
) -> anyhow::Result<Option<String>> {
    let accepted = open_of(
        store,
        &actors.demo.id,
        ReferralBox::Outgoing,
        Status::Accepted,
    )?;
    let Some(r) = accepted.choose(rng) else {
        return Ok(None);
    };
    let by = &r.referral.to_partner;
    let Some(actor) = actors.actors.get(by.as_str()) else {
        return Ok(None);
    };
    let won = rng.random_bool(0.55);
    let action = world::close_action(rng, won, r.referral.lead.est_value_cents);
    let verb = if won { "won" } else { "lost" };
    Ok(Some(match apply_one(store, actor, r, action)? {
        Ok(_) => format!("{by} closed {} ({}) as {verb}", r.referral.id, company(r)),
        Err(e) => format!(
            "{by} could not close {}: {}",
            r.referral.id,
            describe_refusal(&e)
        ),
    }))
}

/// Trade among the other partners: a lead sent, or one decided.
fn background(
    store: &BlockingStore,
    rng: &mut impl Rng,
    actors: &SimActors,
) -> anyhow::Result<Option<String>> {
    let Some(partner) = actors.partners.choose(rng) else {
        return Ok(None);
    };
    if rng.random_bool(0.5) {
        let pending = open_of(store, &partner.id, ReferralBox::Incoming, Status::Pending)?;
        if let Some(r) = pending.choose(rng) {
            return decide(store, rng, actors, r);
        }
    }
    send(store, rng, actors, &partner.id).map(Some)
}

/// Runs the simulator until `shutdown` turns true (or its sender is
/// dropped): one [`simulator_step`] every `interval` (jittered by ±50%), on
/// the blocking pool, as a fresh agent user of every partner but
/// [`DEMO_PARTNER`]. Errors are logged at debug and never stop it. Fails
/// only when the simulator's users cannot be set up. Prefer
/// [`run_simulator_with`] when the demo's tokens are at hand: it adds no
/// users on each start.
pub async fn run_simulator(
    store: SharedStore,
    interval: Duration,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let setup = BlockingStore::on_current(store.clone());
    let actors = tokio::task::spawn_blocking(move || SimActors::fresh(&setup, DEMO_PARTNER))
        .await
        .context("simulator setup panicked")??;
    simulate(store, actors, interval, shutdown).await
}

/// [`run_simulator`] acting as the partner agents seeded with `tokens`
/// (a partner whose token no longer works gets a fresh agent).
pub async fn run_simulator_with(
    store: SharedStore,
    tokens: DemoTokens,
    interval: Duration,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let setup = BlockingStore::on_current(store.clone());
    let actors = tokio::task::spawn_blocking(move || SimActors::load(&setup, &tokens))
        .await
        .context("simulator setup panicked")??;
    simulate(store, actors, interval, shutdown).await
}

/// The simulator's loop, with its actors set up.
async fn simulate(
    store: SharedStore,
    actors: SimActors,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let actors = Arc::new(actors);
    let store = BlockingStore::on_current(store);
    let mut rng = StdRng::from_os_rng();
    tracing::debug!(partners = actors.actors.len(), "demo simulator running");
    loop {
        if *shutdown.borrow() {
            break;
        }
        let pause = interval.mul_f64(rng.random_range(0.5..1.5));
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
                continue;
            }
        }
        let (store, actors) = (store.clone(), actors.clone());
        let mut step_rng = StdRng::seed_from_u64(rng.random());
        let step =
            tokio::task::spawn_blocking(move || simulator_step(&store, &mut step_rng, &actors))
                .await;
        match step {
            Ok(Ok(what)) => tracing::debug!("demo simulator: {what}"),
            Ok(Err(e)) => tracing::debug!("demo simulator step failed: {e:#}"),
            Err(e) => tracing::debug!("demo simulator step panicked: {e}"),
        }
    }
    tracing::debug!("demo simulator stopped");
    Ok(())
}
