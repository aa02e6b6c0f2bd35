//! Reading a referral whole at 80x24: the detail scrolls (`J`/`K`) past
//! its overview into the uncut text, and `z` shows it over the panes.

use crate::inbox::state::{Pane, State};
use crate::inbox::update::rows::clamp_view;

/// The most rows the detail scrolls (the view stops at its last row).
const DETAIL_SCROLL_MAX: usize = 500;

/// `J` / `K`: scrolls the detail by `by` rows, opening it first if hidden.
pub(crate) fn detail_scroll(state: &mut State, by: isize) -> bool {
    if !state.show_detail {
        state.show_detail = true;
        for pane in [Pane::Incoming, Pane::Outgoing] {
            clamp_view(state, pane);
        }
        return true;
    }
    let next = state.detail_scroll.saturating_add_signed(by);
    state.detail_scroll = next.min(DETAIL_SCROLL_MAX);
    true
}

/// `z`: the detail over the whole body, or back under the table.
pub(crate) fn detail_full(state: &mut State) -> bool {
    state.detail_full = !state.detail_full;
    if state.detail_full {
        state.show_detail = true;
    }
    for pane in [Pane::Incoming, Pane::Outgoing] {
        clamp_view(state, pane);
    }
    true
}
