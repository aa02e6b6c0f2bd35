//! Power-user views: the batch confirmation and results, the undo
//! countdown, the `:` command line with its completions, and the
//! monitor's per-partner queue summary.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use super::{centered, popup_box, put, put_run};
use crate::inbox::format;
use crate::inbox::state::State;
use crate::inbox::update::batch::{self, Batch};
use crate::inbox::update::monitor;
use crate::theme::Theme;

/// The confirmation: `Accept 214 referrals (3 skipped: not pending)?`.
pub fn confirm(state: &State, batch: &Batch, theme: &Theme, area: Rect, frame: &mut Frame) {
    let q = batch.question();
    let w = (q.chars().count() as u16 + 6).clamp(44, area.width.saturating_sub(4));
    let rect = centered(area, w, 7);
    let inner = popup_box(theme, " Batch ".to_string(), rect, frame);
    let undo = state.batch_settings.undo_seconds;
    let after = if undo > 0 {
        format!("then {undo}s to undo with {}", undo_key(state))
    } else {
        "sent at once".to_string()
    };
    let lines = vec![
        Line::from(Span::styled(q, theme.text.add_modifier(Modifier::BOLD))),
        Line::from(Span::styled(after, theme.dim)),
        Line::raw(""),
        Line::from(vec![
            Span::styled("y", theme.hint_key),
            Span::styled("/Enter go   ", theme.text),
            Span::styled("n", theme.hint_key),
            Span::styled("/Esc cancel", theme.text),
        ]),
    ];
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The results: summary, then every failure with its reason.
pub fn results(batch: &Batch, scroll: usize, theme: &Theme, area: Rect, frame: &mut Frame) {
    let failures: Vec<_> = batch.failures().collect();
    let h = (failures.len() as u16 + 6).clamp(6, area.height.saturating_sub(2));
    let w = area.width.saturating_sub(4).min(100);
    let rect = centered(area, w, h);
    // The title names the batch only: the counts are in the summary line,
    // so the two cannot disagree ("accepted all" over "7 skipped").
    let title = format!(" {} — results · Esc closes ", capital(batch.kind.as_str()));
    let inner = popup_box(theme, title, rect, frame);
    let mut lines = vec![Line::from(Span::styled(
        batch.summary(),
        theme.text.add_modifier(Modifier::BOLD),
    ))];
    if failures.is_empty() {
        lines.push(Line::from(Span::styled(
            "every item sent applied",
            theme.success,
        )));
    } else {
        lines.push(Line::from(Span::styled(
            "failed (still selected):",
            theme.dim,
        )));
        for f in failures.iter().skip(scroll) {
            // The reason before the id: when the line is cut, the id goes.
            lines.push(Line::from(vec![
                Span::styled("✕ ", theme.error),
                Span::styled(f.company.clone(), theme.text),
                Span::styled(
                    format!(
                        " — {}: {}",
                        f.outcome.as_str().replace('_', " "),
                        f.reason.as_deref().unwrap_or("")
                    ),
                    theme.text,
                ),
                Span::styled(format!(" ({})", f.id), theme.dim),
            ]));
        }
    }
    if !batch.skipped.is_empty() {
        // The count and the reason are in the summary line above.
        lines.insert(
            1,
            Line::from(Span::styled(
                "the skipped ones were not sent and stay selected",
                theme.dim,
            )),
        );
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The key that cancels a batch (as remapped), or `:undo` when it has none.
fn undo_key(state: &State) -> String {
    state
        .keymap
        .label_of(crate::inbox::command::Command::Undo)
        .unwrap_or_else(|| ":undo".to_owned())
}

/// The undo countdown banner above the status bar.
pub fn undo_banner(state: &State, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let (Some(left), Some(b)) = (batch::undo_left(state), &state.batch) else {
        return;
    };
    let paused = if state.popup.is_some() {
        " (paused)"
    } else {
        ""
    };
    let text = format!(
        " {} {} in {left}s{paused} — press {} to undo ",
        capital(b.kind.as_str()),
        b.what(),
        undo_key(state),
    );
    let w = (text.chars().count() as u16).min(area.width);
    let rect = Rect::new(area.x + area.width.saturating_sub(w) / 2, area.y, w, 1);
    put(
        buf,
        rect.x,
        rect.y,
        rect.width,
        &text,
        theme
            .text
            .patch(theme.cursor_row)
            .add_modifier(Modifier::BOLD),
    );
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The `:` line in place of the status bar, with the completions above it.
pub fn cmdline(state: &State, theme: &Theme, area: Rect, frame: &mut Frame) {
    let Some(line) = &state.cmdline else {
        return;
    };
    let buf = frame.buffer_mut();
    // The line replaces the status bar: clear what it drew, not just restyle it.
    Clear.render(area, buf);
    buf.set_style(area, theme.status_bar);
    let max = area.right();
    let x = put_run(buf, area.x, area.y, max, ":", theme.hint_key);
    let width = area.width.saturating_sub(2).max(1) as usize;
    let scroll = line.input.visual_scroll(width);
    let visible: String = line.input.value().chars().skip(scroll).collect();
    put_run(buf, x, area.y, max, &visible, theme.status_bar);
    let cx = x + line.input.visual_cursor().saturating_sub(scroll) as u16;
    if !line.completions.is_empty() && area.y > 0 {
        let text = line.completions.join("  ");
        let w = (text.chars().count() as u16 + 2).min(area.width);
        let y = area.y - 1;
        let r = Rect::new(area.x, y, w, 1);
        Clear.render(r, buf);
        buf.set_style(r, theme.popup_border);
        put(buf, r.x + 1, y, w.saturating_sub(1), &text, theme.hint_key);
    }
    frame.set_cursor_position(Position::new(cx.min(max.saturating_sub(1)), area.y));
}

/// The monitor's per-partner queue summary.
pub fn queues(state: &State, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.dim)
        .title(Span::styled(
            " Queues (live) ",
            theme.pane_title.add_modifier(Modifier::BOLD),
        ));
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height == 0 || inner.width < 10 {
        return;
    }
    let w = inner.width;
    let num = 8u16;
    let name_w = w.saturating_sub(3 * num + 3);
    let mut y = inner.y;
    let header = [
        ("PARTNER", name_w),
        ("PENDING", num),
        ("OLDEST", num),
        // Pending ones that expire within 24 hours.
        ("EXP<24H", num),
    ];
    let mut x = inner.x;
    for (h, cw) in header {
        put(buf, x, y, cw, h, theme.table_header);
        x += cw + 1;
    }
    y += 1;
    let rows = monitor::queue_summary(state);
    if rows.is_empty() && y < inner.bottom() {
        put(
            buf,
            inner.x,
            y,
            w,
            "no pending referrals",
            theme.placeholder,
        );
        return;
    }
    let total = rows.len();
    for (n, r) in rows.into_iter().enumerate() {
        if y >= inner.bottom() {
            break;
        }
        // No room for the rest: the last row says how many are not shown.
        if y + 1 == inner.bottom() && n + 1 < total {
            put(
                buf,
                inner.x,
                y,
                w,
                &format!("… {} more partners", total - n),
                theme.dim,
            );
            break;
        }
        let oldest = format::age(
            state.now,
            state.now - chrono::Duration::seconds(r.oldest_secs),
        );
        let cells = [
            (r.partner.clone(), name_w),
            (r.pending.to_string(), num),
            (oldest, num),
            (r.expiring_24h.to_string(), num),
        ];
        let mut x = inner.x;
        for (i, (s, cw)) in cells.iter().enumerate() {
            let style = if i == 3 && r.expiring_24h > 0 {
                theme.deadline_soon
            } else {
                theme.text
            };
            put(buf, x, y, *cw, s, style);
            x += cw + 1;
        }
        y += 1;
    }
}
