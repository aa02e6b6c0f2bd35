//! One action on the row under the cursor: may it be taken, send it,
//! and its answer.

use crate::domain::may::{may, may_role};
use crate::inbox::format;
use crate::inbox::msg::{ActionOutcome, Effect, OpId};
use crate::inbox::state::{Level, Op, State};
use crate::inbox::update::{rows::*, shared::*};
use crate::sanitize;
use crate::wire::BatchAction;
use crate::wire::{ActionKind, MAX_CHAIN, Referral, Status};

/// Why the user may not act at all (read-only mode, account not loaded,
/// a role that only reads), if so: the cursor row's check and a batch's
/// plan both ask it first.
pub(crate) fn may_not_act(state: &State, verb: &'static str) -> Option<String> {
    if state.readonly {
        return Some(format!("read-only mode (--readonly): cannot {verb}"));
    }
    match state.role() {
        None => Some("still loading your account".to_string()),
        Some(role) => may_role(role, verb).err().map(|e| e.to_string()),
    }
}

/// Whether the action may be taken on the row under the cursor: its id,
/// the version the user sees and the company, or why not.
pub(crate) fn check(state: &State, kind: ActionKind) -> Result<(String, u64, String), String> {
    let verb = kind.as_str();
    if let Some(why) = may_not_act(state, verb) {
        return Err(why);
    }
    let Some(e) = state.current() else {
        return Err(format!("nothing to {verb}: no referral under the cursor"));
    };
    let r = &e.referral;
    if let Some(k) = e.in_flight {
        return Err(format!(
            "wait: a {} of this referral is still in flight",
            k.as_str()
        ));
    }
    let me = state.my_partner().unwrap_or_default();
    let role = state.role().expect("checked by may_not_act");
    may(role, me, kind, r).map_err(|e| e.to_string())?;
    let wanted = if kind == ActionKind::Close {
        Status::Accepted
    } else {
        Status::Pending
    };
    if r.status != wanted {
        return Err(format!(
            "cannot {verb}: this referral is {}, only {} ones can be",
            r.status.as_str(),
            wanted.as_str()
        ));
    }
    if kind == ActionKind::Forward && r.chain.len() >= MAX_CHAIN {
        return Err(format!(
            "cannot forward: this lead already passed through {} hops",
            MAX_CHAIN - 1
        ));
    }
    Ok((r.id.clone(), r.version, r.lead.company.clone()))
}

/// Queues an action: fresh key, row in flight, runtime sends it.
pub(crate) fn send(
    state: &mut State,
    referral_id: String,
    request: BatchAction,
    fx: &mut Vec<Effect>,
) -> OpId {
    let op = state.next_op;
    state.next_op += 1;
    let idempotency_key = format!("{}-{op}", state.key_prefix);
    if let Some(i) = state.index_of(&referral_id) {
        state.entries[i as usize].in_flight = Some(request.kind());
    }
    state.ops.insert(
        op,
        Op {
            referral_id: referral_id.clone(),
            request: request.clone(),
            idempotency_key: idempotency_key.clone(),
            unsent: false,
            last_error: None,
        },
    );
    fx.push(Effect::Send {
        op,
        referral_id,
        request,
        idempotency_key,
    });
    op
}

pub(crate) fn past_tense(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Accept => "accepted",
        ActionKind::Reject => "rejected",
        ActionKind::Forward => "forwarded",
        ActionKind::Withdraw => "withdrew",
        ActionKind::Close => "closed",
    }
}

/// "accepted by Dana (acme-web) at 10:42", from a referral's decision.
pub fn describe_decision(state: &State, r: &Referral) -> String {
    // The time alone today; the date too on any other day.
    let today = state.now.with_timezone(&state.utc_offset).date_naive();
    let when = r
        .decided_at
        .map(|t| {
            if t.with_timezone(&state.utc_offset).date_naive() == today {
                format!(" at {}", format::clock(t, state.utc_offset))
            } else {
                format!(" on {}", format::date_time(t, state.utc_offset))
            }
        })
        .unwrap_or_default();
    match &r.decided_by {
        Some(d) => format!("{} by {} ({}){when}", r.status.as_str(), d.name, d.partner),
        None => format!("{}{when}", r.status.as_str()),
    }
}

pub(crate) fn on_action_done(state: &mut State, op: OpId, outcome: ActionOutcome) {
    let Some(o) = state.ops.remove(&op) else {
        return;
    };
    let kind = o.request.kind();
    if let Some(i) = state.index_of(&o.referral_id) {
        state.entries[i as usize].in_flight = None;
    }
    let company = state
        .entry(&o.referral_id)
        .map(|e| e.referral.lead.company.clone())
        .unwrap_or_else(|| o.referral_id.clone());
    match outcome {
        ActionOutcome::Applied(refs) => {
            for r in refs {
                apply_referral(state, clean_referral(r), false);
            }
            let detail = match (&o.request, state.entry(&o.referral_id)) {
                (BatchAction::Forward(f), _) => {
                    format!(" to {}", sanitize::clean_line(&f.to_partner))
                }
                (BatchAction::Close(_), Some(e)) => format!(" as {}", e.referral.status.as_str()),
                _ => String::new(),
            };
            say(
                state,
                Level::Success,
                format!("{} {company}{detail}", past_tense(kind)),
            );
        }
        ActionOutcome::Conflict { current, message } => {
            let text = match current {
                Some(c) => {
                    let c = clean_referral(*c);
                    let decided = describe_decision(state, &c);
                    apply_referral(state, c, false);
                    format!("cannot {} {company}: already {decided}", kind.as_str())
                }
                None => format!(
                    "cannot {} {company}: {}",
                    kind.as_str(),
                    sanitize::clean_line(&message)
                ),
            };
            say(state, Level::Error, text);
        }
        ActionOutcome::Failed { message } => {
            say(
                state,
                Level::Error,
                format!(
                    "{} {company} failed: {}",
                    kind.as_str(),
                    sanitize::clean_line(&message)
                ),
            );
        }
    }
}
