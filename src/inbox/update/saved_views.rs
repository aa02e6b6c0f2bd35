//! Saved views: named queries from the config, cycled as tabs.

use tui_input::Input;

use crate::inbox::state::{Level, State};
use crate::inbox::update::{filter::*, shared::*};

/// `]`: the next saved view (after the last: no view).
pub fn next_view(state: &mut State) -> bool {
    if state.views.is_empty() {
        say(
            state,
            Level::Info,
            "no saved views: add [views.NAME] query = \"...\" to the config".to_string(),
        );
        return true;
    }
    let next = match state.view {
        None => Some(0),
        Some(i) if i + 1 < state.views.len() => Some(i + 1),
        Some(_) => None,
    };
    select_view(state, next);
    true
}

/// Shows saved view `i` (its query becomes the filter), or none.
pub fn select_view(state: &mut State, i: Option<usize>) {
    state.view = i;
    let text = i.map(|i| state.views[i].1.clone()).unwrap_or_default();
    state.filter = Input::new(text.clone());
    set_filter(state, text);
}

// ---------------------------------------------------------------- the : line
