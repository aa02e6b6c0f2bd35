//! The demo users (agent, viewer, operator) and one agent per trading
//! partner, created once and kept while their tokens still authenticate.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use rand::Rng;

use super::DemoTokens;
use crate::demo::world::{self, DEMO_PARTNER, STAFF_PARTNER};
use crate::domain::Actor;
use crate::store::blocking::BlockingStore;
use crate::wire::Role;

/// Name of the demo agent (the person at the keyboard).
pub const DEMO_AGENT_NAME: &str = "Dana Reyes";
/// Name of the demo viewer.
pub const DEMO_VIEWER_NAME: &str = "Priya Raman";
/// Name of the demo operator.
pub const DEMO_OPERATOR_NAME: &str = "Morgan Ellis";

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
