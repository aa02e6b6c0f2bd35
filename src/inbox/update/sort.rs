//! Sorting the panes by a column.

use crate::inbox::state::{Level, Pane, State};
use crate::inbox::update::{rows::*, shared::*};
use crate::query::{SortField, SortSpec};

/// `s`: the next sort column (newest first → age → expires → …).
pub fn sort_next(state: &mut State) -> bool {
    let next = match state.sort {
        None => SortSpec::ascending(SortField::ALL[0]),
        Some(s) => SortSpec {
            field: s.field.next(),
            descending: s.descending,
        },
    };
    set_sort(state, Some(next));
    true
}

/// `S`: reverses the sort.
pub fn sort_reverse(state: &mut State) -> bool {
    let spec = state
        .sort
        .unwrap_or(SortSpec::ascending(SortField::Age))
        .reversed();
    set_sort(state, Some(spec));
    true
}

/// Re-sorts every pane, keeping each cursor on its referral.
pub fn set_sort(state: &mut State, spec: Option<SortSpec>) {
    if state.sort == spec {
        return;
    }
    state.sort = spec;
    for pane in [Pane::Incoming, Pane::Outgoing] {
        let anchor = anchor_of(state, pane);
        let mut all = std::mem::take(&mut state.panes[pane.index()].all);
        all.sort_by(|&a, &b| state.order(a, b));
        let mut rows = std::mem::take(&mut state.panes[pane.index()].rows);
        rows.sort_by(|&a, &b| state.order(a, b));
        let p = &mut state.panes[pane.index()];
        p.all = all;
        p.rows = rows;
        relocate(state, pane, anchor);
    }
    let words = sort_words(state);
    say(state, Level::Info, format!("sorted by {words}"));
}

/// `value ↓`, `newest first`.
pub fn sort_words(state: &State) -> String {
    match state.sort {
        None => "newest first".to_string(),
        Some(s) => format!(
            "{} {}",
            s.field.as_str(),
            if s.descending { "↓" } else { "↑" }
        ),
    }
}
