//! Confirming a batch, its undo window, and sending it in chunks.

use super::*;
use crate::inbox::msg::Effect;
use crate::inbox::state::{Level, Popup, State};
use crate::wire::{ActionKind, BatchRequest};

/// The user said yes: open the undo window, or send now when it is off.
pub fn confirm(state: &mut State, fx: &mut Vec<Effect>) {
    if matches!(state.popup, Some(Popup::BatchConfirm)) {
        state.popup = None;
    }
    let undo = state.batch_settings.undo_seconds;
    let now = state.now;
    let Some(b) = &mut state.batch else {
        return;
    };
    if b.phase != BatchPhase::Confirm {
        return;
    }
    if undo == 0 {
        dispatch(state, fx);
    } else {
        b.phase = BatchPhase::Undo {
            until: now + chrono::Duration::seconds(undo as i64),
            seen: now,
        };
    }
}

/// `n` / `Esc` on the confirmation: drop the batch, keep the marks.
pub fn decline(state: &mut State) {
    state.popup = None;
    state.batch = None;
    say(state, Level::Info, "batch cancelled".to_string());
}

/// `u`: cancels a batch in its undo window. Nothing was sent.
pub fn undo(state: &mut State) -> bool {
    match &state.batch {
        Some(
            b @ Batch {
                phase: BatchPhase::Undo { .. },
                ..
            },
        ) => {
            let text = format!(
                "undone: {} of {} cancelled, nothing was sent",
                b.kind.as_str(),
                b.what()
            );
            state.batch = None;
            say(state, Level::Success, text);
        }
        Some(Batch {
            phase: BatchPhase::Sending,
            ..
        }) => say(
            state,
            Level::Error,
            "too late to undo: the batch is already sent".to_string(),
        ),
        _ => say(state, Level::Info, "nothing to undo".to_string()),
    }
    true
}

/// The seconds left in the undo window, if one is open.
pub fn undo_left(state: &State) -> Option<i64> {
    match state.batch.as_ref()?.phase {
        BatchPhase::Undo { until, .. } => Some((until - state.now).num_seconds().max(0)),
        _ => None,
    }
}

/// On every tick: the window stands still while a popup is open (the
/// time since the last look is added back), and the batch is sent when
/// its window is over.
pub fn on_tick(state: &mut State, fx: &mut Vec<Effect>) {
    let modal = state.popup.is_some();
    let now = state.now;
    if let Some(Batch {
        phase: BatchPhase::Undo { until, seen },
        ..
    }) = &mut state.batch
    {
        if modal && now > *seen {
            *until += now - *seen;
        }
        *seen = now;
        if now >= *until {
            dispatch(state, fx);
        }
    }
}

/// Splits the batch into chunks of at most [`CHUNK`], each with its own
/// key, and asks the runtime to send them.
pub(crate) fn dispatch(state: &mut State, fx: &mut Vec<Effect>) {
    if state.batch.as_ref().is_some_and(|b| b.single.is_some()) {
        send_single(state, fx);
        return;
    }
    let prefix = state.key_prefix.clone();
    let Some(b) = &mut state.batch else {
        return;
    };
    b.phase = BatchPhase::Sending;
    b.chunks = b
        .items
        .chunks(CHUNK)
        .enumerate()
        .map(|(k, items)| Chunk {
            key: format!("{prefix}-b{}-{k}", b.id),
            items: items.to_vec(),
            done: false,
            unsent: false,
        })
        .collect();
    let kind = b.kind;
    for (k, c) in b.chunks.iter().enumerate() {
        fx.push(Effect::SendBatch {
            batch: b.id,
            chunk: k,
            request: BatchRequest {
                items: c.items.clone(),
            },
            idempotency_key: c.key.clone(),
        });
    }
    let ids: Vec<String> = b.items.iter().map(|i| i.id.clone()).collect();
    let n = ids.len();
    for id in ids {
        if let Some(i) = state.index_of(&id) {
            state.entries[i as usize].in_flight = Some(kind);
        }
    }
    say(
        state,
        Level::Info,
        format!("{} {n} referral{}…", sending_word(kind), plural(n)),
    );
}

pub(crate) fn sending_word(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Accept => "accepting",
        ActionKind::Reject => "rejecting",
        ActionKind::Forward => "forwarding",
        ActionKind::Withdraw => "withdrawing",
        ActionKind::Close => "closing",
    }
}
