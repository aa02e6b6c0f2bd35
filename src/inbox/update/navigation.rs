//! Moving the cursor and switching panes.

use crate::inbox::command::Command;
use crate::inbox::state::{Level, Pane, State};
use crate::inbox::update::{rows::*, shared::*};

pub(crate) fn move_cursor(state: &mut State, cmd: Command) -> bool {
    // Another row: its detail starts at its overview.
    state.detail_scroll = 0;
    let pane = state.active;
    let page = state.page_rows(pane).unwrap_or(1);
    let p = &mut state.panes[pane.index()];
    let len = p.rows.len();
    if len == 0 {
        return true;
    }
    let last = len - 1;
    p.cursor = match cmd {
        Command::Up => p.cursor.saturating_sub(1),
        Command::Down => (p.cursor + 1).min(last),
        Command::Top => 0,
        Command::Bottom => last,
        Command::PageUp => p.cursor.saturating_sub(page),
        Command::PageDown => (p.cursor + page).min(last),
        _ => p.cursor,
    };
    p.cursor_entry = Some(p.rows[p.cursor]);
    let e = p.rows[p.cursor];
    state.entries[e as usize].fresh = false;
    clamp_view(state, pane);
    true
}

pub(crate) fn switch_pane(state: &mut State, pane: Pane) -> bool {
    if state.pane_count() == 1 {
        say(
            state,
            Level::Info,
            "operators have one pane: every referral".to_string(),
        );
        return true;
    }
    state.active = pane;
    clamp_view(state, pane);
    true
}
