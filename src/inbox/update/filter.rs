//! The filter line: a query narrows the panes as it is typed.

use crate::inbox::state::{Pane, State};
use crate::inbox::update::{marks::*, rows::*, sort::*};

/// Applies `text` as the filter query. When it does not parse, the error
/// (with its column) is kept for the status bar and the last good filter
/// stays applied. A `sort:` term sets the sort.
pub(crate) fn set_filter(state: &mut State, text: String) {
    let q = match crate::query::Query::parse(&text) {
        Ok(q) => q,
        Err(e) => {
            state.filter_error = Some(e);
            return;
        }
    };
    state.filter_error = None;
    if let Some(spec) = q.sort() {
        set_sort(state, Some(spec));
    }
    let q = q.with_sort(None);
    let applied = if q.matches_all() {
        String::new()
    } else {
        text.trim().to_lowercase()
    };
    if q == state.filter_query {
        state.filter_applied = applied;
        return;
    }
    state.filter_query = q;
    state.filter_applied = applied;
    // One scan serves both panes.
    let word = single_word(&state.filter_applied);
    let bits = word.as_deref().map(|w| {
        state.filter_text.ensure(&state.entries);
        state.filter_text.scan(w)
    });
    for pane in [Pane::Incoming, Pane::Outgoing] {
        let anchor = anchor_of(state, pane);
        refilter_with(state, pane, anchor, bits.as_deref());
    }
    follow_range(state);
}
