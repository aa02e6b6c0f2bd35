//! A batch's answers: per-item outcomes, retries, and the keys of the
//! confirmation and results views.

use std::collections::HashSet;

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::*;
use crate::inbox::msg::Effect;
use crate::inbox::state::{Level, Popup, State};
use crate::sanitize;
use crate::wire::{BatchOutcome, BatchResponse};

/// A chunk failed without an answer: it stays queued with its key.
pub fn on_retrying(state: &mut State, batch: u64, chunk: usize, error: &str) -> bool {
    let Some(b) = state.batch.as_mut().filter(|b| b.id == batch) else {
        return false;
    };
    let Some(c) = b.chunks.get_mut(chunk) else {
        return false;
    };
    c.unsent = true;
    let n = b.outstanding();
    say(
        state,
        Level::Error,
        format!(
            "batch: {n} unsent, queued and retrying with the same keys: {}",
            sanitize::clean_line(error)
        ),
    );
    true
}

/// A chunk's answer: apply what applied, keep failures marked, record why.
pub fn on_done(
    state: &mut State,
    batch: u64,
    chunk: usize,
    result: Result<BatchResponse, String>,
) -> bool {
    let Some(b) = state.batch.as_mut().filter(|b| b.id == batch) else {
        return false;
    };
    let Some(c) = b.chunks.get_mut(chunk) else {
        return false;
    };
    if c.done {
        return false;
    }
    c.done = true;
    let ids: Vec<String> = c.items.iter().map(|i| i.id.clone()).collect();
    for id in &ids {
        if let Some(i) = state.index_of(id) {
            state.entries[i as usize].in_flight = None;
        }
    }
    let mut results = Vec::with_capacity(ids.len());
    match result {
        Ok(resp) => {
            let mut answered: HashSet<String> = HashSet::new();
            for r in resp.results {
                let id = sanitize::clean_line(&r.id);
                answered.insert(id.clone());
                let mut reason = None;
                match r.outcome {
                    BatchOutcome::Applied => {
                        for x in [r.referral, r.forwarded].into_iter().flatten() {
                            apply_referral(state, sanitize::clean_referral(x), false);
                        }
                        state.marks.remove(&id);
                    }
                    other => {
                        let current = r.referral.or_else(|| {
                            r.error.as_ref().and_then(|e| e.current.as_deref().cloned())
                        });
                        if let Some(cur) = current {
                            let cur = sanitize::clean_referral(cur);
                            if other == BatchOutcome::Conflict && cur.decided_by.is_some() {
                                reason = Some(describe_decision(state, &cur));
                            }
                            apply_referral(state, cur, false);
                        }
                        if reason.is_none() {
                            reason = Some(match &r.error {
                                Some(e) => sanitize::clean_line(&e.message),
                                None => other.as_str().replace('_', " "),
                            });
                        }
                    }
                }
                results.push((id, r.outcome, reason));
            }
            for id in ids.iter().filter(|id| !answered.contains(*id)) {
                results.push((
                    id.clone(),
                    BatchOutcome::Invalid,
                    Some("no result for this item in the answer".to_string()),
                ));
            }
        }
        Err(e) => {
            let why = sanitize::clean_line(&e);
            for id in &ids {
                results.push((id.clone(), BatchOutcome::Invalid, Some(why.clone())));
            }
        }
    }
    let b = state.batch.as_mut().expect("checked above");
    for (id, outcome, reason) in results {
        let company = b.companies.get(&id).cloned().unwrap_or_else(|| id.clone());
        b.results.push(ItemResult {
            id,
            company,
            outcome,
            reason,
        });
    }
    if b.chunks.iter().all(|c| c.done) {
        b.phase = BatchPhase::Done;
        let summary = b.summary();
        let failed = b.failures().count();
        state.popup = Some(Popup::BatchResults { scroll: 0 });
        let level = if failed == 0 {
            Level::Success
        } else {
            Level::Error
        };
        say(state, level, summary);
    }
    true
}

/// Keys on the batch confirmation and results views.
pub fn on_batch_key(state: &mut State, ev: &KeyEvent, fx: &mut Vec<Effect>) -> bool {
    match state.popup {
        Some(Popup::BatchConfirm) => match ev.code {
            KeyCode::Char('y' | 'Y') | KeyCode::Enter => {
                confirm(state, fx);
                true
            }
            KeyCode::Char('n' | 'N') | KeyCode::Esc => {
                decline(state);
                true
            }
            _ => false,
        },
        Some(Popup::BatchResults { ref mut scroll }) => {
            let max = state
                .batch
                .as_ref()
                .map_or(0, |b| b.failures().count().saturating_sub(1));
            match ev.code {
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => state.popup = None,
                KeyCode::Down | KeyCode::Char('j') => *scroll = (*scroll + 1).min(max),
                KeyCode::Up | KeyCode::Char('k') => *scroll = scroll.saturating_sub(1),
                _ => return false,
            }
            true
        }
        _ => false,
    }
}
