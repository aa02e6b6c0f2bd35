//! One action on the cursor row through the batch's undo window: `a`,
//! `w`, and `r`/`f` once their popup is confirmed are held as a batch of
//! one (same window, same `u`, same countdown banner, same pause while a
//! popup is open), then sent as that one action on its own endpoint.

use std::collections::BTreeMap;

use super::*;
use crate::inbox::msg::Effect;
use crate::inbox::state::{Level, State};
use crate::wire::{BatchAction, BatchItem};

/// Holds `request` on `id` in the undo window, or sends it at once when
/// the window is off (`batch.undo_seconds = 0` or `batch.undo_single =
/// false`) or a batch is being confirmed or sent. `sending` is what the
/// status bar says when it goes (`accepting Harbor Dental…`).
pub(crate) fn hold(
    state: &mut State,
    id: String,
    company: String,
    request: BatchAction,
    sending: String,
    fx: &mut Vec<Effect>,
) {
    let s = state.batch_settings;
    let busy = state
        .batch
        .as_ref()
        .is_some_and(|b| matches!(b.phase, BatchPhase::Confirm | BatchPhase::Sending));
    if s.undo_seconds == 0 || !s.undo_single || busy {
        send(state, id, request, fx);
        say(state, Level::Info, sending);
        return;
    }
    if let Some(b) = &state.batch
        && b.single.is_some()
        && matches!(b.phase, BatchPhase::Undo { .. })
    {
        if b.items.iter().any(|i| i.id == id) {
            say(
                state,
                Level::Error,
                "already held: it is sent when the countdown ends (u undoes it)".to_string(),
            );
            return;
        }
        // A second action: the first one's window ends now, it goes.
        send_single(state, fx);
    }
    let kind = request.kind();
    let batch_id = state.next_batch;
    state.next_batch += 1;
    let mut companies = BTreeMap::new();
    companies.insert(id.clone(), company);
    state.batch = Some(Batch {
        id: batch_id,
        kind,
        detail: String::new(),
        items: vec![BatchItem {
            id,
            action: request,
        }],
        companies,
        skipped: Vec::new(),
        phase: BatchPhase::Confirm,
        chunks: Vec::new(),
        results: Vec::new(),
        single: Some(sending),
    });
    confirm(state, fx);
}

/// The held single action's window is over (or another one replaced
/// it): send it as the one action it is.
pub(crate) fn send_single(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(b) = state.batch.take() else {
        return;
    };
    let (Some(sending), Some(item)) = (b.single, b.items.into_iter().next()) else {
        return;
    };
    send(state, item.id, item.action, fx);
    say(state, Level::Info, sending);
}
