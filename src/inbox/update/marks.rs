//! Marks (multi-select): toggle, ranges, all shown, invert, clear.

use std::collections::HashSet;

use crate::inbox::state::{Level, State};
use crate::inbox::update::shared::*;

/// A range being marked with `v`: from `anchor` to the cursor, on top of
/// the marks there were when it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeMark {
    /// The referral where the range started.
    pub anchor: String,
    /// The marks before the range started.
    pub base: HashSet<String>,
}

// ---------------------------------------------------------------- marks

/// `Space`: toggles the row under the cursor (the dispatcher then moves
/// the cursor down).
pub fn toggle_mark(state: &mut State) -> bool {
    let Some(id) = state.current().map(|e| e.referral.id.clone()) else {
        return false;
    };
    state.range = None;
    if !state.marks.remove(&id) {
        state.marks.insert(id);
    }
    true
}

/// `v`: starts a range at the cursor, or ends the one being marked.
pub fn mark_range(state: &mut State) -> bool {
    if state.range.take().is_some() {
        say(state, Level::Info, "range marked".to_string());
        return true;
    }
    let Some(id) = state.current().map(|e| e.referral.id.clone()) else {
        return false;
    };
    state.range = Some(RangeMark {
        anchor: id,
        base: state.marks.clone(),
    });
    follow_range(state);
    say(
        state,
        Level::Info,
        "marking a range: move to extend it, v ends it".to_string(),
    );
    true
}

/// After the cursor moved: the range covers anchor..=cursor.
pub fn follow_range(state: &mut State) {
    let Some(range) = &state.range else {
        return;
    };
    let p = state.pane(state.active);
    let anchor = p
        .rows
        .iter()
        .position(|&i| state.entries[i as usize].referral.id == range.anchor);
    let Some(anchor) = anchor else {
        // The anchor left the view: the range ends where it is.
        state.range = None;
        return;
    };
    let (a, b) = if anchor <= p.cursor {
        (anchor, p.cursor)
    } else {
        (p.cursor, anchor)
    };
    let mut marks = range.base.clone();
    for &i in &p.rows[a..=b.min(p.rows.len().saturating_sub(1))] {
        marks.insert(state.entries[i as usize].referral.id.clone());
    }
    state.marks = marks;
}

/// `*`: marks every row the filter shows.
pub fn mark_all(state: &mut State) -> bool {
    state.range = None;
    let ids: Vec<String> = shown_ids(state);
    let n = ids.len();
    state.marks.extend(ids);
    say(state, Level::Info, format!("marked {n} shown"));
    true
}

/// `!`: inverts the marks among the rows the filter shows.
pub fn invert_marks(state: &mut State) -> bool {
    state.range = None;
    for id in shown_ids(state) {
        if !state.marks.remove(&id) {
            state.marks.insert(id);
        }
    }
    true
}

/// `Esc`: clears every mark (hidden ones too).
pub fn clear_marks(state: &mut State) -> bool {
    let had = !state.marks.is_empty() || state.range.is_some();
    state.marks.clear();
    state.range = None;
    had
}

pub(crate) fn shown_ids(state: &State) -> Vec<String> {
    state
        .pane(state.active)
        .rows
        .iter()
        .map(|&i| state.entries[i as usize].referral.id.clone())
        .collect()
}

/// `12 selected (3 hidden)`, or `None` with no marks.
pub fn marks_words(state: &State) -> Option<String> {
    if state.marks.is_empty() {
        return None;
    }
    let hidden = state.hidden_marks();
    let range = if state.range.is_some() {
        " [range]"
    } else {
        ""
    };
    Some(if hidden > 0 {
        format!("{} selected ({hidden} hidden){range}", state.marks.len())
    } else {
        format!("{} selected{range}", state.marks.len())
    })
}
