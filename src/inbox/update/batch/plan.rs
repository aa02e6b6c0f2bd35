//! Planning a batch: which marked referrals the action applies to (the
//! rest skipped, with why), and `a`/`r`/`f`/`w` with marks.

use std::collections::BTreeMap;

use tui_input::Input;

use super::*;
use crate::domain::may::may;
use crate::inbox::command::Command;
use crate::inbox::msg::Effect;
use crate::inbox::state::{Entry, ForwardPopup, Level, Popup, RejectPopup, State};
use crate::wire::{
    AcceptRequest, ActionKind, BatchAction, BatchItem, ForwardRequest, MAX_CHAIN, RejectRequest,
    Status, WithdrawRequest,
};

// ---------------------------------------------------------------- batches

/// Why `kind` does not apply to `e`, in two or three words, or `None`.
pub fn skip_reason(state: &State, kind: ActionKind, e: &Entry) -> Option<&'static str> {
    let r = &e.referral;
    let me = state.my_partner().unwrap_or_default();
    if e.in_flight.is_some() {
        return Some("in flight");
    }
    if let Some(role) = state.role()
        && let Err(refusal) = may(role, me, kind, r)
    {
        return Some(refusal.short());
    }
    let wanted = if kind == ActionKind::Close {
        Status::Accepted
    } else {
        Status::Pending
    };
    if r.status != wanted {
        return Some(if wanted == Status::Pending {
            "not pending"
        } else {
            "not accepted"
        });
    }
    if kind == ActionKind::Forward && r.chain.len() >= MAX_CHAIN {
        return Some("too many hops");
    }
    None
}

/// The marked referrals, in the order they are shown (active pane first).
pub(crate) fn marked_entries(state: &State) -> Vec<u32> {
    let mut v: Vec<u32> = state
        .marks
        .iter()
        .filter_map(|id| state.index_of(id))
        .collect();
    let pane_rank = |i: u32| match state.pane_of(&state.entries[i as usize].referral) {
        Some(p) if p == state.active => 0,
        Some(_) => 1,
        None => 2,
    };
    v.sort_by(|&a, &b| {
        pane_rank(a)
            .cmp(&pane_rank(b))
            .then_with(|| state.order(a, b))
    });
    v
}

/// The body of one item, from a template action and the item's version.
pub(crate) fn item_action(template: &BatchAction, version: u64, kind: ActionKind) -> BatchAction {
    match template {
        BatchAction::Reject(r) => BatchAction::Reject(RejectRequest {
            version,
            reason: r.reason.clone(),
        }),
        BatchAction::Forward(f) => BatchAction::Forward(ForwardRequest {
            version,
            ..f.clone()
        }),
        BatchAction::Withdraw(_) => BatchAction::Withdraw(WithdrawRequest { version }),
        BatchAction::Close(c) => BatchAction::Close(crate::wire::CloseRequest {
            version,
            ..c.clone()
        }),
        BatchAction::Accept(a) => {
            debug_assert_eq!(kind, ActionKind::Accept);
            BatchAction::Accept(AcceptRequest {
                version,
                note: a.note.clone(),
            })
        }
    }
}

/// Plans a batch of `template` over the marks: confirms above the
/// threshold, else starts it (undo window or send). Returns whether
/// anything changed.
pub fn plan(state: &mut State, template: BatchAction, fx: &mut Vec<Effect>) -> bool {
    let kind = template.kind();
    let verb = kind.as_str();
    if let Some(why) = may_not_act(state, verb) {
        say(state, Level::Error, why);
        return true;
    }
    if let Some(b) = &state.batch
        && matches!(
            b.phase,
            BatchPhase::Confirm | BatchPhase::Undo { .. } | BatchPhase::Sending
        )
    {
        say(
            state,
            Level::Error,
            "wait: a batch is still under way (u undoes it while it counts down)".to_string(),
        );
        return true;
    }
    let to = match &template {
        BatchAction::Forward(f) => Some(f.to_partner.clone()),
        _ => None,
    };
    let mut items = Vec::new();
    let mut skipped = Vec::new();
    let mut companies = BTreeMap::new();
    for i in marked_entries(state) {
        let e = &state.entries[i as usize];
        let r = &e.referral;
        let why = skip_reason(state, kind, e).or_else(|| {
            to.as_ref()
                .filter(|t| r.chain.iter().any(|c| c == *t))
                .map(|_| "already passed through it")
        });
        match why {
            Some(w) => skipped.push((r.id.clone(), w)),
            None => {
                companies.insert(r.id.clone(), r.lead.company.clone());
                items.push(BatchItem {
                    id: r.id.clone(),
                    action: item_action(&template, r.version, kind),
                });
            }
        }
    }
    // Marked ids not loaded (yet) count as skipped too: nothing to act on.
    let unknown = state
        .marks
        .iter()
        .filter(|id| state.index_of(id).is_none())
        .count();
    for _ in 0..unknown {
        skipped.push((String::new(), "not loaded"));
    }
    if items.is_empty() {
        let b = Batch {
            id: 0,
            kind,
            detail: String::new(),
            items: Vec::new(),
            companies,
            skipped,
            phase: BatchPhase::Done,
            chunks: Vec::new(),
            results: Vec::new(),
            single: None,
        };
        say(
            state,
            Level::Error,
            format!(
                "nothing to {verb}: none of the {} selected applies{}",
                state.marks.len(),
                b.skipped_words()
            ),
        );
        return true;
    }
    let detail = match &template {
        BatchAction::Forward(f) => format!("to {}", f.to_partner),
        BatchAction::Reject(r) => format!("as {}", r.reason.code.as_str()),
        _ => String::new(),
    };
    let id = state.next_batch;
    state.next_batch += 1;
    let n = items.len();
    state.batch = Some(Batch {
        id,
        kind,
        detail,
        items,
        companies,
        skipped,
        phase: BatchPhase::Confirm,
        chunks: Vec::new(),
        results: Vec::new(),
        single: None,
    });
    if n > state.batch_settings.confirm_over {
        state.popup = Some(Popup::BatchConfirm);
    } else {
        confirm(state, fx);
    }
    true
}

/// `a` / `r` / `f` / `w` with marks: batch instead of the cursor row.
pub fn batch_command(state: &mut State, cmd: Command, fx: &mut Vec<Effect>) -> bool {
    match cmd {
        Command::Accept => plan(
            state,
            BatchAction::Accept(AcceptRequest {
                version: 0,
                note: None,
            }),
            fx,
        ),
        Command::Withdraw => plan(
            state,
            BatchAction::Withdraw(WithdrawRequest { version: 0 }),
            fx,
        ),
        Command::Reject => {
            if let Some(why) = may_not_act(state, "reject") {
                say(state, Level::Error, why);
                return true;
            }
            let n = state.marks.len();
            state.popup = Some(Popup::Reject(RejectPopup {
                id: String::new(),
                version: 0,
                company: format!("{n} selected referral{}", plural(n)),
                selected: 0,
                note: None,
                error: None,
                batch: true,
            }));
            true
        }
        Command::Forward => {
            if let Some(why) = may_not_act(state, "forward") {
                say(state, Level::Error, why);
                return true;
            }
            let n = state.marks.len();
            let mut p = ForwardPopup {
                id: String::new(),
                version: 0,
                company: format!("{n} selected referral{}", plural(n)),
                excluded: state.my_partner().map(str::to_string).into_iter().collect(),
                query: Input::default(),
                matches: Vec::new(),
                selected: 0,
                offset: 0,
                picked: None,
                batch: true,
            };
            refresh_matches(&state.partners, &mut p);
            if state.partners.is_empty() {
                fx.push(Effect::LoadPartners);
            }
            state.popup = Some(Popup::Forward(p));
            true
        }
        _ => false,
    }
}

// ---------------------------------------------------------------- sort and views
