//! Screen geometry, shared by the reducer (page sizes, which rows are
//! visible) and the views (where to draw). Pure.

use ratatui::layout::Rect;

use super::state::{Pane, State};
use crate::config::Layout;

/// Below this size the app draws only "terminal too small".
pub const MIN_WIDTH: u16 = 60;
/// Below this size the app draws only "terminal too small".
pub const MIN_HEIGHT: u16 = 15;
/// From this width both panes are shown side by side.
pub const SIDE_BY_SIDE_WIDTH: u16 = 160;
/// From this height (and below [`SIDE_BY_SIDE_WIDTH`]) the panes are stacked.
pub const STACKED_HEIGHT: u16 = 40;

/// Where each area of the screen goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppLayout {
    /// The whole screen.
    pub area: Rect,
    /// True when the screen is below the minimum size: draw nothing else.
    pub too_small: bool,
    /// One line: partner, user, role, server.
    pub header: Rect,
    /// The visible panes and their boxes (border included).
    pub panes: Vec<(Pane, Rect)>,
    /// The detail pane, when shown.
    pub detail: Option<Rect>,
    /// One line: connection, last event, actions, filter, message.
    pub status: Rect,
    /// One line: the most useful keys.
    pub hints: Rect,
    /// The monitor's per-partner queue summary, when shown.
    pub summary: Option<Rect>,
}

impl AppLayout {
    /// The box of `pane`, when it is visible.
    pub fn pane_rect(&self, pane: Pane) -> Option<Rect> {
        self.panes.iter().find(|(p, _)| *p == pane).map(|(_, r)| *r)
    }
}

/// How many table rows fit in a pane box (border and column header excluded).
pub fn table_rows(pane_box: Rect) -> usize {
    pane_box.height.saturating_sub(3) as usize
}

/// The layout for `state` at its current size.
pub fn layout(state: &State) -> AppLayout {
    layout_for(state, state.active)
}

/// The layout as it would be with `active` the active pane (so that a
/// hidden pane keeps a page size of its own).
pub fn layout_for(state: &State, active: Pane) -> AppLayout {
    let (w, h) = state.size;
    let area = Rect::new(0, 0, w, h);
    let empty = Rect::new(0, 0, 0, 0);
    if w < MIN_WIDTH || h < MIN_HEIGHT {
        return AppLayout {
            area,
            too_small: true,
            header: empty,
            panes: Vec::new(),
            detail: None,
            status: empty,
            hints: empty,
            summary: None,
        };
    }
    let header = Rect::new(0, 0, w, 1);
    // A message too long for the status line gets rows of its own under it.
    let extra = crate::inbox::views::status_bar::message_rows(state, w).len() as u16;
    let status = Rect::new(0, h - 2 - extra, w, 1 + extra);
    let hints = Rect::new(0, h - 1, w, 1);
    let body = Rect::new(0, 1, w, h - 3 - extra);

    // The read-only monitor keeps a queue summary in sight: at the right
    // when wide, else under the panes when tall enough (and not while the
    // detail pane needs those rows: below 30 rows it would cut the
    // detail's note and contact).
    let (body, summary) = if !state.monitor() {
        (body, None)
    } else if w >= 110 {
        let sw = 44;
        (
            Rect::new(0, body.y, w - sw, body.height),
            Some(Rect::new(w - sw, body.y, sw, body.height)),
        )
    } else if body.height >= 18 && !(state.show_detail && body.height < 30) {
        let sh = 7;
        (
            Rect::new(0, body.y, w, body.height - sh),
            Some(Rect::new(0, body.y + body.height - sh, w, sh)),
        )
    } else {
        (body, None)
    };
    let w = body.width;
    let (panes_area, detail) = if state.show_detail {
        // Half the body up to 16 rows (the fixed fields, the note and a
        // few lines of summary), at least 8, and at least 3 table rows left.
        // The same height for every row, so the table never jumps.
        let dh = body
            .height
            .div_ceil(2)
            .clamp(8, 16)
            .min(body.height.saturating_sub(6));
        let ph = body.height - dh;
        (
            Rect::new(0, body.y, w, ph),
            Some(Rect::new(0, body.y + ph, w, dh)),
        )
    } else {
        (body, None)
    };

    let both = state.pane_count() == 2;
    let (side, stack) = match state.layout {
        Layout::Auto => (true, true),
        Layout::SideBySide => (true, false),
        Layout::Stacked => (false, true),
        Layout::Single => (false, false),
    };
    let panes = if both && side && w >= SIDE_BY_SIDE_WIDTH {
        let left = w / 2;
        vec![
            (
                Pane::Incoming,
                Rect::new(0, panes_area.y, left, panes_area.height),
            ),
            (
                Pane::Outgoing,
                Rect::new(left, panes_area.y, w - left, panes_area.height),
            ),
        ]
    } else if both && stack && h >= STACKED_HEIGHT {
        let top = panes_area.height / 2;
        vec![
            (Pane::Incoming, Rect::new(0, panes_area.y, w, top)),
            (
                Pane::Outgoing,
                Rect::new(0, panes_area.y + top, w, panes_area.height - top),
            ),
        ]
    } else {
        vec![(active, panes_area)]
    };
    AppLayout {
        area,
        too_small: false,
        header,
        panes,
        detail,
        status,
        hints,
        summary,
    }
}
