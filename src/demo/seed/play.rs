//! Playing the planned stories against the store, one step at a time, with
//! the store's clock moved to each step's moment.

use std::collections::BTreeMap;

use anyhow::Context;
use rand::Rng;

use super::stories::{Fate, Step, Story};
use crate::clock::ManualClock;
use crate::demo::world;
use crate::domain::{Action, ActionItem, Actor, DomainError, ItemResult};
use crate::store::blocking::BlockingStore;
use crate::wire::{CreateReferral, Partner, PartnerKind, ReasonInput, Timestamp};

/// Where a story stands while it is played.
#[derive(Debug, Clone)]
pub(super) struct Progress {
    id: String,
    version: u64,
}

/// Moves the clock to `t`, expiring on the way (at their own `expires_at`)
/// every pending referral that runs out before it.
pub(super) fn advance_to(
    store: &BlockingStore,
    clock: &ManualClock,
    t: Timestamp,
) -> anyhow::Result<usize> {
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
pub(super) fn play(
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
            let action = world::close_action(rng, won, story.lead.est_value_cents);
            Ok(act(recipient, at, action)?.map(|p| (p, 0)))
        }
    }
}
