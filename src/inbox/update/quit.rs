//! Leaving: at once, or asking first while actions are unsent.

use crate::inbox::msg::Effect;
use crate::inbox::state::{Popup, State};
use crate::inbox::update::batch::*;

pub(crate) fn quit(state: &mut State, fx: &mut Vec<Effect>) -> bool {
    let batch_open = state
        .batch
        .as_ref()
        .is_some_and(|b| matches!(b.phase, BatchPhase::Sending | BatchPhase::Undo { .. }));
    if state.ops.is_empty() && !batch_open {
        state.quitting = true;
        fx.push(Effect::Quit);
    } else {
        state.popup = Some(Popup::ConfirmQuit);
    }
    true
}
