//! The status line: connection, last event, actions, filter, message.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;

use super::put_run;
use crate::inbox::format;
use crate::inbox::state::{Conn, Level, OFFLINE_AFTER_SECS, State};
use crate::inbox::update::batch::BatchPhase;
use crate::sanitize::{fit, width};
use crate::theme::Theme;

/// The connection words: `● live`, `◌ reconnecting in 3s`, `✕ offline since 10:42`.
pub fn connection(state: &State) -> String {
    match &state.conn {
        Conn::Connecting if state.refused.is_some() => "✕ token refused".to_string(),
        Conn::Connecting if state.me.is_none() && state.load_error.is_some() => {
            "✕ cannot load your account".to_string()
        }
        Conn::Connecting => "◌ connecting".to_string(),
        Conn::Live { .. } => "● live".to_string(),
        Conn::Reconnecting {
            since, retry_at, ..
        } => {
            let wait = (*retry_at - state.now).num_seconds().max(0);
            let retry = if wait > 0 {
                format!("in {wait}s")
            } else {
                "now".to_string()
            };
            if (state.now - *since).num_seconds() >= OFFLINE_AFTER_SECS {
                format!(
                    "✕ offline since {} · retry {retry}",
                    format::clock(*since, state.utc_offset)
                )
            } else {
                format!("◌ reconnecting {retry}")
            }
        }
    }
}

/// The widest the live server's name gets in the status bar: at 80
/// columns the rest of the line keeps room for a message.
const SERVER_MAX: usize = 24;

/// With several servers, which one is live, after the connection words:
/// `· host:port` while connected or connecting, `→ host:port` while
/// reconnecting (the server the next attempt goes to, the one the client
/// moved to when the last was unreachable). `None` with one server (the
/// header names it) or when the token was refused.
pub fn live_server(state: &State) -> Option<String> {
    if state.servers < 2 || state.refused.is_some() {
        return None;
    }
    let name = short_server(&crate::client::server_label(&state.server), SERVER_MAX);
    Some(match state.conn {
        Conn::Reconnecting { .. } => format!(" → {name}"),
        Conn::Live { .. } | Conn::Connecting => format!(" · {name}"),
    })
}

/// `host:port` in at most `max` cells: the host is cut with `…` and the
/// port kept (a port cut short would read as another address).
fn short_server(label: &str, max: usize) -> String {
    if width(label) <= max {
        return label.to_string();
    }
    let (host, port) = match label.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            (h, format!(":{p}"))
        }
        _ => (label, String::new()),
    };
    let room = max.saturating_sub(width(&port)).max(2);
    format!("{}{port}", fit(host, room).trim_end())
}

/// The filter as typed; with a parse error, the character at the error's
/// column is marked and the message follows (the last good filter stays).
fn filter_text(state: &State, theme: &Theme, x: u16, y: u16, max: u16, buf: &mut Buffer) -> u16 {
    let text = state.filter.value();
    let cursor = if state.filter_editing { "▏" } else { "" };
    let Some(e) = &state.filter_error else {
        return put_run(buf, x, y, max, &format!("{text}{cursor}"), theme.status_bar);
    };
    let err = theme
        .status_bar
        .patch(theme.error)
        .add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    let before: String = text.chars().take(e.column).collect();
    let at: String = text.chars().skip(e.column).take(1).collect();
    let after: String = text.chars().skip(e.column + 1).collect();
    let mut x = put_run(buf, x, y, max, &before, theme.status_bar);
    x = put_run(buf, x, y, max, if at.is_empty() { "␣" } else { &at }, err);
    x = put_run(buf, x, y, max, &after, theme.status_bar);
    x = put_run(buf, x, y, max, cursor, theme.status_bar);
    put_run(
        buf,
        x,
        y,
        max,
        &format!(" ✕ col {}: {}", e.column + 1, e.message),
        theme.status_bar.patch(theme.error),
    )
}

/// What the first line shows between the connection and the filter: the
/// time of the last event (given up first when room is short), then what
/// is in flight, unsent, marked.
fn parts(state: &State) -> (Option<String>, Vec<String>) {
    let mut parts: Vec<String> = Vec::new();
    let last_event = state
        .last_event_at
        .map(|t| format!("last event {}", format::clock_secs(t, state.utc_offset)));
    // Sent and not answered; failed at least once and queued again. A
    // batch in its undo window is not sent yet: its banner counts it.
    let undo = match &state.batch {
        Some(b) if matches!(b.phase, BatchPhase::Undo { .. }) => b.items.len(),
        _ => 0,
    };
    let unsent = state.unsent();
    let sending = state.in_flight().saturating_sub(undo + unsent);
    if sending > 0 {
        parts.push(format!("{sending} in flight"));
    }
    if unsent > 0 {
        parts.push(format!("{unsent} unsent"));
    }
    if let Some(m) = crate::inbox::update::marks::marks_words(state) {
        parts.push(m);
    }
    (last_event, parts)
}

/// The first line's width without the last event's time nor the message.
fn base_width(state: &State) -> usize {
    let (_, parts) = parts(state);
    let filter_shown = !state.filter.value().is_empty() || state.filter_editing;
    1 + width(&connection(state))
        + if state.stale { 8 } else { 0 }
        + live_server(state).map_or(0, |s| width(&s))
        + parts.iter().map(|p| 3 + width(p)).sum::<usize>()
        + if filter_shown {
            12 + width(state.filter.value())
                + state
                    .filter_error
                    .as_ref()
                    .map_or(0, |e| 10 + width(&e.message))
        } else {
            0
        }
}

/// The most rows a long message takes under the first line.
const MESSAGE_ROWS_MAX: usize = 3;

/// The message's rows under the first line at width `w`: none when it fits
/// after the rest of the line, else the message wrapped (at most
/// `MESSAGE_ROWS_MAX` rows, the last cut with `…`; `:messages` has it
/// whole). The layout asks this, so the status bar grows and the panes
/// give up those rows while the message is shown.
pub fn message_rows(state: &State, w: u16) -> Vec<String> {
    let Some(m) = &state.status else {
        return Vec::new();
    };
    if base_width(state) + 3 + width(&m.text) <= w as usize {
        return Vec::new();
    }
    let text_w = (w as usize).saturating_sub(2).max(1);
    let mut rows = format::wrap(&m.text, text_w);
    if rows.len() > MESSAGE_ROWS_MAX {
        rows.truncate(MESSAGE_ROWS_MAX);
        let last = rows.last_mut().expect("kept rows");
        *last = fit(&format!("{last} …"), text_w).trim_end().to_string();
        if !last.ends_with('…') {
            last.push('…');
        }
    }
    rows
}

/// Draws the status bar.
pub fn render(state: &State, theme: &Theme, area: Rect, buf: &mut Buffer) {
    buf.set_style(area, theme.status_bar);
    let max = area.right();
    let y = area.y;
    let conn_style = match &state.conn {
        Conn::Live { .. } if !state.stale => theme.conn_live,
        Conn::Connecting if state.refused.is_some() || state.load_error.is_some() => {
            theme.conn_offline
        }
        Conn::Live { .. } | Conn::Connecting => theme.conn_reconnecting,
        Conn::Reconnecting { since, .. } => {
            if (state.now - *since).num_seconds() >= OFFLINE_AFTER_SECS {
                theme.conn_offline
            } else {
                theme.conn_reconnecting
            }
        }
    };
    let mut x = put_run(buf, area.x, y, max, " ", theme.status_bar);
    x = put_run(
        buf,
        x,
        y,
        max,
        &connection(state),
        theme.status_bar.patch(conn_style),
    );
    if state.stale {
        x = put_run(
            buf,
            x,
            y,
            max,
            " (stale)",
            theme.status_bar.patch(theme.conn_reconnecting),
        );
    }
    if let Some(server) = live_server(state) {
        x = put_run(buf, x, y, max, &server, theme.status_bar);
    }
    let (last_event, mut parts) = parts(state);
    let below = message_rows(state, area.width);
    let filter_shown = !state.filter.value().is_empty() || state.filter_editing;
    // When everything does not fit, the time of the last event gives way
    // first, so that the message (why an action was refused) can be read.
    let needed = x - area.x
        + parts.iter().map(|p| 3 + width(p) as u16).sum::<u16>()
        + last_event.as_ref().map_or(0, |t| 3 + width(t) as u16)
        + if filter_shown {
            12 + width(state.filter.value()) as u16
        } else {
            0
        }
        + state
            .status
            .as_ref()
            .filter(|_| below.is_empty())
            .map_or(0, |m| 3 + width(&m.text) as u16);
    if let Some(t) = last_event
        && needed <= area.width
    {
        parts.insert(0, t);
    }
    for p in parts {
        x = put_run(buf, x, y, max, " │ ", theme.status_bar);
        x = put_run(buf, x, y, max, &p, theme.status_bar);
    }
    if filter_shown {
        x = put_run(buf, x, y, max, " │ filter: ", theme.status_bar);
        x = filter_text(state, theme, x, y, max, buf);
    }
    if let Some(m) = &state.status {
        let style = match m.level {
            Level::Info => theme.status_bar,
            Level::Success => theme.status_bar.patch(theme.success),
            Level::Error => theme
                .status_bar
                .patch(theme.error)
                .add_modifier(Modifier::BOLD),
        };
        if !below.is_empty() {
            // Too long for the line: whole rows of its own underneath.
            for (i, row) in below.iter().enumerate() {
                let ry = y + 1 + i as u16;
                if ry >= area.bottom() {
                    break;
                }
                let gx = put_run(buf, area.x, ry, max, "  ", theme.status_bar);
                put_run(buf, gx, ry, max, row, style);
            }
            return;
        }
        x = put_run(buf, x, y, max, " │ ", theme.status_bar);
        // Cut with an ellipsis, never silently.
        let room = max.saturating_sub(x) as usize;
        if width(&m.text) > room && room > 0 {
            put_run(buf, x, y, max, fit(&m.text, room).trim_end(), style);
        } else {
            put_run(buf, x, y, max, &m.text, style);
        }
    }
}
