//! The exchange's rules for changing referrals, pure.
//!
//! Given the referral as stored, the actor, the action and the time, decide
//! the new state or the error, judged in the protocol's order: 404 (not
//! visible) → 403 (role, side) → 422 (rules) → 409 (version, status). The
//! store runs these inside its write transaction; nothing here does I/O.
//! Lookups the rules need (is a partner known, which hops of a domain are
//! open) come in as closures.

use std::sync::Arc;

use chrono::{Duration, Timelike};

use super::may::{may, may_role};
use super::types::{Action, ActionItem, Actor, Applied, DomainError, OpenHop, StoredReferral};
use super::validate::{
    check_cents, check_commission, check_expires, check_text, invalid, normalize_domain,
    validate_lead,
};
use super::visibility::can_see;
use crate::wire::{
    ActionKind, CloseStatus, CreateReferral, DecidedBy, MAX_CHAIN, Name, Outcome, Reason,
    ReasonCode, Referral, Status, Timestamp,
};

/// `decided_by` for this actor.
pub fn decided_by(actor: &Actor) -> Arc<DecidedBy> {
    Arc::new(DecidedBy {
        user: Name::from(&actor.user_id),
        name: Name::from(&actor.user_name),
        partner: Name::from(&actor.partner_id),
    })
}

fn forbidden(message: impl Into<String>) -> DomainError {
    DomainError::Forbidden {
        message: message.into(),
    }
}

/// Decides a send (`POST /v1/referrals`): 403 role → 422 rules → 409
/// duplicate. `known_partner` says whether a partner id exists;
/// `open_hops` lists the open hops whose lead has this normalised domain.
/// On success the new pending hop, id `new_id`, version 1.
pub fn decide_create(
    actor: &Actor,
    request: &CreateReferral,
    now: Timestamp,
    known_partner: &dyn Fn(&str) -> bool,
    open_hops: &dyn Fn(&str) -> Vec<OpenHop>,
    new_id: String,
) -> Result<StoredReferral, DomainError> {
    may_role(actor.role, "send").map_err(|e| forbidden(e.to_string()))?;
    if request.to_partner == actor.partner_id {
        return Err(invalid(
            "to_partner",
            "you cannot send a referral to yourself",
        ));
    }
    if !known_partner(&request.to_partner) {
        return Err(invalid(
            "to_partner",
            format!("no partner {:?} on the exchange", request.to_partner),
        ));
    }
    let lead = validate_lead(&request.lead)?;
    check_commission("commission_pct", request.commission_pct)?;
    let hours = check_expires("expires_in_hours", request.expires_in_hours)?;
    check_text("note", request.note.as_deref())?;

    if let Some(domain) = lead.domain.as_deref().and_then(normalize_domain) {
        let open = open_hops(&domain);
        if !open.is_empty() {
            let mine = open
                .iter()
                .find(|h| h.from_partner == actor.partner_id || h.to_partner == actor.partner_id);
            return Err(match mine {
                Some(h) => DomainError::Duplicate {
                    message: format!("a lead for {domain} is already open: {}", h.id),
                    existing_id: Some(h.id.clone()),
                },
                None => DomainError::Duplicate {
                    message: format!("a lead for {domain} is already being worked on the exchange"),
                    existing_id: None,
                },
            });
        }
    }

    Ok(StoredReferral {
        referral: Referral {
            id: new_id,
            version: 1,
            status: Status::Pending,
            from_partner: Name::from(&actor.partner_id),
            to_partner: Name::from(&request.to_partner),
            lead,
            contact_masked: false,
            commission_pct: request.commission_pct.unwrap_or(0),
            note: request.note.clone(),
            decision_note: None,
            created_at: now,
            updated_at: now,
            expires_at: now + Duration::hours(i64::from(hours)),
            decided_at: None,
            decided_by: None,
            reason: None,
            outcome: None,
            parent_id: None,
            forwarded_to: None,
            chain: Arc::from([
                Name::from(&actor.partner_id),
                Name::from(&request.to_partner),
            ]),
        },
        accepted_partner: None,
    })
}

/// The statuses an action may start from.
fn allowed_from(action: &Action) -> Status {
    match action {
        Action::Close { .. } => Status::Accepted,
        _ => Status::Pending,
    }
}

fn action_kind(action: &Action) -> ActionKind {
    match action {
        Action::Accept { .. } => ActionKind::Accept,
        Action::Reject { .. } => ActionKind::Reject,
        Action::Forward { .. } => ActionKind::Forward,
        Action::Withdraw => ActionKind::Withdraw,
        Action::Close { .. } => ActionKind::Close,
    }
}

/// The status an action of `kind` leaves a referral in (`close`: won or
/// lost, so none).
pub fn status_after(kind: ActionKind) -> Option<Status> {
    match kind {
        ActionKind::Accept => Some(Status::Accepted),
        ActionKind::Reject => Some(Status::Rejected),
        ActionKind::Forward => Some(Status::Forwarded),
        ActionKind::Withdraw => Some(Status::Withdrawn),
        ActionKind::Close => None,
    }
}

/// Whether `r` is already what the user `user_id` doing `kind` makes of
/// it (accept, reject, withdraw): asking again is done, not a conflict. A
/// forward is never "the same" again (it names a new hop), nor a close.
pub fn already_done_by(kind: ActionKind, r: &Referral, user_id: &str) -> bool {
    matches!(
        kind,
        ActionKind::Accept | ActionKind::Reject | ActionKind::Withdraw
    ) && status_after(kind) == Some(r.status)
        && r.decided_by.as_ref().is_some_and(|d| *d.user == *user_id)
}

/// `10:42` on the same UTC day as `now`, else `2026-11-25 10:42`.
fn at(t: Timestamp, now: Timestamp) -> String {
    if t.date_naive() == now.date_naive() {
        format!("{:02}:{:02}", t.hour(), t.minute())
    } else {
        t.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// Who decided a referral and when, for a human: `accepted by Dana Reyes
/// (acme-web) at 10:42`, `expired at 09:14`, `pending, last changed at 09:20`.
pub fn describe(r: &Referral, now: Timestamp) -> String {
    let when = at(r.decided_at.unwrap_or(r.updated_at), now);
    let verb = match r.status {
        Status::Pending => return format!("pending, last changed at {}", at(r.updated_at, now)),
        Status::Expired => return format!("expired at {when}"),
        Status::Accepted => "accepted",
        Status::Rejected => "rejected",
        Status::Forwarded => "forwarded",
        Status::Withdrawn => "withdrawn",
        Status::Won => "closed as won",
        Status::Lost => "closed as lost",
    };
    match &r.decided_by {
        Some(by) => format!("{verb} by {} ({}) at {when}", by.name, by.partner),
        None => format!("{verb} at {when}"),
    }
}

fn conflict(current: &StoredReferral, message: String) -> DomainError {
    DomainError::Conflict {
        message,
        current: Box::new(current.clone()),
    }
}

/// Decides one action on one referral. `known_partner` says whether a
/// partner id exists (forward); `new_id` gives the child's id (called only
/// for an applied forward). The result holds the changed referral and, on
/// a forward, the new hop.
pub fn decide(
    current: &StoredReferral,
    actor: &Actor,
    item: &ActionItem,
    now: Timestamp,
    known_partner: &dyn Fn(&str) -> bool,
    new_id: &mut dyn FnMut() -> String,
) -> Result<Applied, DomainError> {
    let r = &current.referral;
    // 404: the referral is not this actor's to know about.
    if r.id != item.id || !can_see(current, actor) {
        return Err(DomainError::NotFound);
    }
    // 403: role, then side (the one rule, `domain::may`).
    may(actor.role, &actor.partner_id, action_kind(&item.action), r)
        .map_err(|e| forbidden(e.to_string()))?;
    // 422: the action's own rules.
    match &item.action {
        Action::Accept { note } => {
            check_text("note", note.as_deref())?;
            if r.status == Status::Pending && current.accepted_partner.is_some() {
                return Err(DomainError::Invalid {
                    field: None,
                    message: "this lead already has an accepted hop".into(),
                });
            }
        }
        Action::Reject { reason } => {
            check_text("reason.note", reason.note.as_deref())?;
            let blank = reason.note.as_deref().is_none_or(|n| n.trim().is_empty());
            if reason.code == ReasonCode::Other && blank {
                return Err(invalid(
                    "reason.note",
                    "reason code other needs a note saying why",
                ));
            }
        }
        Action::Forward {
            to_partner,
            note,
            commission_pct,
            expires_in_hours,
        } => {
            if !known_partner(to_partner) {
                return Err(invalid(
                    "to_partner",
                    format!("no partner {to_partner:?} on the exchange"),
                ));
            }
            if r.chain.iter().any(|p| p == to_partner) {
                return Err(invalid(
                    "to_partner",
                    format!("this lead has already passed through {to_partner}"),
                ));
            }
            if r.chain.len() >= MAX_CHAIN {
                return Err(invalid(
                    "to_partner",
                    format!(
                        "a lead passes through at most {} hops; this one has used them all",
                        MAX_CHAIN - 1
                    ),
                ));
            }
            check_commission("commission_pct", *commission_pct)?;
            check_expires("expires_in_hours", *expires_in_hours)?;
            check_text("note", note.as_deref())?;
        }
        Action::Withdraw => {}
        Action::Close { outcome, .. } => {
            check_cents("outcome.value_cents", outcome.value_cents)?;
            check_text("outcome.note", outcome.note.as_deref())?;
        }
    }
    // 409: status, then version.
    if r.status != allowed_from(&item.action) {
        return Err(conflict(current, describe(r, now)));
    }
    if r.version != item.version {
        return Err(conflict(
            current,
            format!(
                "changed since version {}: now version {}, {}",
                item.version,
                r.version,
                describe(r, now)
            ),
        ));
    }

    let mut next = current.clone();
    let n = &mut next.referral;
    n.version += 1;
    n.updated_at = now;
    let mut forwarded = None;
    if let Some(status) = status_after(action_kind(&item.action)) {
        n.status = status;
    }
    match &item.action {
        Action::Accept { note } => {
            n.decided_at = Some(now);
            n.decided_by = Some(decided_by(actor));
            n.decision_note = note.clone();
            next.accepted_partner = Some(r.to_partner.to_string());
        }
        Action::Reject { reason } => {
            n.decided_at = Some(now);
            n.decided_by = Some(decided_by(actor));
            n.reason = Some(Box::new(Reason {
                code: reason.code,
                note: reason.note.clone(),
            }));
        }
        Action::Forward {
            to_partner,
            note,
            commission_pct,
            expires_in_hours,
        } => {
            let child_id = new_id();
            let hours = check_expires("expires_in_hours", *expires_in_hours)?;
            let chain: Arc<[Name]> = r
                .chain
                .iter()
                .cloned()
                .chain([Name::from(to_partner)])
                .collect();
            let child = Referral {
                id: child_id.clone(),
                version: 1,
                status: Status::Pending,
                from_partner: Name::from(&actor.partner_id),
                to_partner: Name::from(to_partner),
                lead: r.lead.clone(),
                contact_masked: false,
                commission_pct: commission_pct.unwrap_or(r.commission_pct),
                note: note.clone(),
                decision_note: None,
                created_at: now,
                updated_at: now,
                expires_at: now + Duration::hours(i64::from(hours)),
                decided_at: None,
                decided_by: None,
                reason: None,
                outcome: None,
                parent_id: Some(r.id.clone()),
                forwarded_to: None,
                chain,
            };
            n.decided_at = Some(now);
            n.decided_by = Some(decided_by(actor));
            n.decision_note = note.clone();
            n.forwarded_to = Some(child_id);
            forwarded = Some(StoredReferral {
                referral: child,
                accepted_partner: current.accepted_partner.clone(),
            });
        }
        Action::Withdraw => {
            n.decided_at = Some(now);
            n.decided_by = Some(decided_by(actor));
        }
        Action::Close { status, outcome } => {
            n.status = match status {
                CloseStatus::Won => Status::Won,
                CloseStatus::Lost => Status::Lost,
            };
            n.decided_at = Some(now);
            n.decided_by = Some(decided_by(actor));
            n.decision_note = outcome.note.clone();
            n.outcome = Some(Box::new(Outcome {
                value_cents: outcome.value_cents,
                note: outcome.note.clone(),
            }));
        }
    }
    Ok(Applied {
        referral: next,
        forwarded,
    })
}

/// Whether a referral is due to expire at `now`.
pub fn is_due(r: &Referral, now: Timestamp) -> bool {
    r.status == Status::Pending && r.expires_at <= now
}

/// Expires a pending referral at `now` (`decided_by` stays null); `None`
/// when it is not due.
pub fn expire(current: &StoredReferral, now: Timestamp) -> Option<StoredReferral> {
    if !is_due(&current.referral, now) {
        return None;
    }
    let mut next = current.clone();
    let n = &mut next.referral;
    n.status = Status::Expired;
    n.version += 1;
    n.updated_at = now;
    n.decided_at = Some(now);
    n.decided_by = None;
    Some(next)
}

#[cfg(test)]
#[path = "rules_tests.rs"]
pub(crate) mod tests;
