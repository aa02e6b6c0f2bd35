//! The mouse (`ui.mouse`, on by default): a click selects a row, the wheel
//! moves through the pane under the pointer, a click on a pane's title
//! switches to it (one pane at a time: on the other pane's counts at the
//! right of the title). Hit-testing reads the same layout the views draw
//! with ([`crate::inbox::layout`]), computed from the state and its size.

use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use crate::inbox::command::Command;
use crate::inbox::layout::{layout, table_rows};
use crate::inbox::state::{Pane, Popup, State};
use crate::inbox::update::{marks::follow_range, navigation::*, rows::clamp_view};

/// Rows the wheel moves per notch.
pub const WHEEL_ROWS: usize = 3;

/// What a point on the screen is, for a click.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// A pane's title (top border).
    Title(Pane),
    /// A table row of a pane (index into its `rows`).
    Row(Pane, usize),
    /// Elsewhere inside a pane.
    Pane(Pane),
}

/// What is at (`column`, `row`).
pub fn hit(state: &State, column: u16, row: u16) -> Option<Hit> {
    let l = layout(state);
    if l.too_small {
        return None;
    }
    let at = Position::new(column, row);
    let (pane, rect) = l.panes.iter().copied().find(|(_, r)| r.contains(at))?;
    if row == rect.y {
        return Some(Hit::Title(title_target(
            state,
            pane,
            rect,
            column,
            l.panes.len(),
        )));
    }
    // Border, then the column header, then the rows.
    let first = rect.y + 2;
    let shown = table_rows(rect);
    if row >= first && ((row - first) as usize) < shown {
        let idx = state.pane(pane).offset + (row - first) as usize;
        if idx < state.pane(pane).rows.len() {
            return Some(Hit::Row(pane, idx));
        }
    }
    Some(Hit::Pane(pane))
}

/// Which pane a click on `pane`'s title means: alone on screen, its title
/// ends where the other pane's counts begin.
fn title_target(state: &State, pane: Pane, rect: Rect, column: u16, shown: usize) -> Pane {
    if shown == 1 && state.pane_count() == 2 {
        let own = crate::sanitize::width(&crate::inbox::views::table::title(state, pane));
        // The corner, the `▸` mark, then the title.
        if column as usize >= rect.x as usize + 2 + own {
            return pane.other();
        }
    }
    pane
}

/// A mouse event; true when something visible changed.
pub(crate) fn on_mouse(state: &mut State, ev: MouseEvent) -> bool {
    if !state.mouse {
        return false;
    }
    let wheel = match ev.kind {
        MouseEventKind::ScrollUp => Some(Command::Up),
        MouseEventKind::ScrollDown => Some(Command::Down),
        _ => None,
    };
    let help_max =
        crate::inbox::views::help::max_scroll(&state.keymap, state.may_act(), state.size);
    if let Some(Popup::Help { scroll }) = &mut state.popup {
        // The wheel scrolls the help; clicks do nothing under a popup.
        return match wheel {
            Some(Command::Up) => {
                *scroll = scroll.saturating_sub(WHEEL_ROWS);
                true
            }
            Some(_) => {
                *scroll = (*scroll + WHEEL_ROWS).min(help_max);
                true
            }
            None => false,
        };
    }
    if state.popup.is_some() || state.cmdline.is_some() || state.filter_editing {
        return false;
    }
    let Some(at) = hit(state, ev.column, ev.row) else {
        return false;
    };
    if let Some(dir) = wheel {
        let pane = match at {
            Hit::Title(p) | Hit::Row(p, _) | Hit::Pane(p) => p,
        };
        if pane != state.active {
            switch_pane(state, pane);
        }
        for _ in 0..WHEEL_ROWS {
            move_cursor(state, dir);
        }
        follow_range(state);
        return true;
    }
    if ev.kind != MouseEventKind::Down(MouseButton::Left) {
        return false;
    }
    match at {
        Hit::Title(p) => switch_pane(state, p),
        Hit::Row(p, idx) => {
            if p != state.active {
                switch_pane(state, p);
            }
            let ps = &mut state.panes[p.index()];
            ps.cursor = idx;
            let e = ps.rows[idx];
            ps.cursor_entry = Some(e);
            state.entries[e as usize].fresh = false;
            clamp_view(state, p);
            follow_range(state);
            true
        }
        Hit::Pane(p) => p != state.active && switch_pane(state, p),
    }
}
