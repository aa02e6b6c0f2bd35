//! Saved views: named queries from the config, cycled as tabs.

use tui_input::Input;

use crate::inbox::state::{Level, State};
use crate::inbox::update::{filter::*, shared::*, sort::*};

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
/// A view's `sort:` lasts as long as the view: leaving it (for no view,
/// or a view without one) brings back the sort from before the views.
pub fn select_view(state: &mut State, i: Option<usize>) {
    if state.view.is_none() && i.is_some() {
        state.sort_before_view = Some(state.sort);
    }
    state.view = i;
    let text = i.map(|i| state.views[i].1.clone()).unwrap_or_default();
    let own_sort = crate::query::Query::parse(&text)
        .ok()
        .and_then(|q| q.sort())
        .is_some();
    state.filter = Input::new(text.clone());
    set_filter(state, text);
    if !own_sort && let Some(before) = state.sort_before_view {
        set_sort(state, before);
    }
    if i.is_none() {
        state.sort_before_view = None;
    }
}

// ---------------------------------------------------------------- the : line
