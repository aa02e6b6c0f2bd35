//! Drawing: `render(state, theme, frame)` only READS the state. One file
//! per area. Text in the state is already sanitized (see
//! [`super::update`]); views only fit it to columns.

pub mod compose;
pub mod detail;
pub mod header;
pub mod help;
#[cfg(test)]
mod help_tests;
pub mod hints;
pub mod messages;
#[cfg(test)]
mod narrow_tests;
pub mod popups;
pub mod power;
pub mod status_bar;
#[cfg(test)]
mod status_bar_tests;
pub mod table;
pub mod too_small;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Clear, Widget};

use super::layout::layout;
use super::state::State;
use crate::sanitize;
use crate::theme::Theme;

/// Draws the whole screen.
pub fn render(state: &State, theme: &Theme, frame: &mut Frame) {
    let l = layout(state);
    if l.too_small {
        too_small::render(l.area, theme, frame.buffer_mut());
        return;
    }
    let buf = frame.buffer_mut();
    buf.set_style(l.area, theme.text);
    header::render(state, theme, l.header, buf);
    for (pane, rect) in &l.panes {
        table::render(state, theme, *pane, *rect, buf);
    }
    if state.detail_full && state.show_detail && l.status.y > 1 {
        // `z`: the detail covers the panes (and the monitor's summary).
        let body = Rect::new(l.area.x, 1, l.area.width, l.status.y - 1);
        Widget::render(Clear, body, buf);
        buf.set_style(body, theme.text);
        detail::render(state, theme, body, buf);
    } else if let Some(d) = l.detail {
        detail::render(state, theme, d, buf);
    }
    if let Some(r) = l.summary
        && !(state.detail_full && state.show_detail)
    {
        power::queues(state, theme, r, buf);
    }
    status_bar::render(state, theme, l.status, buf);
    hints::render(state, theme, l.hints, buf);
    if l.status.y > 0 {
        let above = Rect::new(l.status.x, l.status.y - 1, l.status.width, 1);
        power::undo_banner(state, theme, above, buf);
    }
    popups::render(state, theme, l.area, frame);
    power::cmdline(state, theme, l.status, frame);
}

/// Writes `s` at (x, y) fitted to exactly `w` columns (cut with `…`).
pub(crate) fn put(buf: &mut Buffer, x: u16, y: u16, w: u16, s: &str, style: Style) {
    if w == 0 {
        return;
    }
    if sanitize::width(s) <= w as usize {
        buf.set_stringn(x, y, s, w as usize, style);
    } else {
        buf.set_stringn(x, y, sanitize::fit(s, w as usize), w as usize, style);
    }
}

/// Writes `s` at (x, y), at most `w` columns, returning the column after it.
pub(crate) fn put_run(buf: &mut Buffer, x: u16, y: u16, max_x: u16, s: &str, style: Style) -> u16 {
    if x >= max_x {
        return x;
    }
    let (nx, _) = buf.set_stringn(x, y, s, (max_x - x) as usize, style);
    nx
}

/// Clears `rect` and draws a popup's bordered box titled `title` there;
/// returns the inside.
pub(crate) fn popup_box(theme: &Theme, title: String, rect: Rect, frame: &mut Frame) -> Rect {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.popup_border)
        .title(Span::styled(
            title,
            theme.popup_title.add_modifier(Modifier::BOLD),
        ));
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block.style(theme.text), rect);
    inner
}

/// A rectangle of `w`x`h` centred in `area` (clamped to it).
pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
