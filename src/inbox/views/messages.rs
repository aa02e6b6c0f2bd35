//! The message log (`:messages`, `M`): every message of the session,
//! whole and wrapped, newest first, with its time.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{centered, popup_box};
use crate::inbox::format;
use crate::inbox::state::{Level, State};
use crate::theme::Theme;

/// The glyph before a message of `level` (readable without colour).
pub fn level_glyph(level: Level) -> &'static str {
    match level {
        Level::Info => "·",
        Level::Success => "✓",
        Level::Error => "✕",
    }
}

/// Draws the log, starting `scroll` messages below the newest.
pub fn render(state: &State, scroll: usize, theme: &Theme, area: Rect, frame: &mut Frame) {
    let w = area.width.saturating_sub(4).min(100);
    let h = area.height.saturating_sub(2);
    let rect = centered(area, w, h);
    let total = state.messages.len();
    let title = if total == 0 {
        " Messages — Esc closes ".to_string()
    } else {
        format!(
            " Messages {}/{total}, newest first — Esc closes ",
            (scroll + 1).min(total)
        )
    };
    let inner = popup_box(theme, title, rect, frame);
    if total == 0 {
        frame.render_widget(
            Paragraph::new(Span::styled("no messages yet", theme.placeholder)),
            inner,
        );
        return;
    }
    // `HH:MM:SS ✕ ` before the first row, as many spaces before the rest.
    const GUTTER: usize = 11;
    let text_w = (inner.width as usize).saturating_sub(GUTTER).max(1);
    let rows = inner.height as usize;
    let mut lines = Vec::new();
    // Messages whose first row is shown.
    let mut started = 0;
    for m in state.messages.iter().rev().skip(scroll) {
        if lines.len() >= rows {
            break;
        }
        started += 1;
        let style = match m.level {
            Level::Info => theme.text,
            Level::Success => theme.success,
            Level::Error => theme.error,
        };
        for (i, row) in format::wrap(&m.text, text_w).into_iter().enumerate() {
            let gutter = if i == 0 {
                format!(
                    "{} {} ",
                    format::clock_secs(m.at, state.utc_offset),
                    level_glyph(m.level)
                )
            } else {
                " ".repeat(GUTTER)
            };
            lines.push(Line::from(vec![
                Span::styled(gutter, theme.dim),
                Span::styled(row, style),
            ]));
        }
    }
    if lines.len() > rows || scroll + started < total {
        // The last row says how many older ones are below.
        lines.truncate(rows.saturating_sub(1));
        let mut shown = 0;
        let mut used = 0;
        for m in state.messages.iter().rev().skip(scroll) {
            if used >= lines.len() {
                break;
            }
            used += format::wrap(&m.text, text_w).len();
            shown += 1;
        }
        let below = total.saturating_sub(scroll + shown);
        lines.push(Line::from(Span::styled(
            format!("↓ {below} older (j/↓ scrolls)"),
            theme.dim,
        )));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
