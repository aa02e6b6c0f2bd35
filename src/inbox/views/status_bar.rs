//! The status line: connection, last event, actions, filter, message.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;

use super::put_run;
use crate::inbox::format;
use crate::inbox::state::{Conn, Level, OFFLINE_AFTER_SECS, State};
use crate::inbox::theme::Theme;

/// The connection words: `● live`, `◌ reconnecting in 3s`, `✕ offline since 10:42`.
pub fn connection(state: &State) -> String {
    match &state.conn {
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

/// Draws the status bar.
pub fn render(state: &State, theme: &Theme, area: Rect, buf: &mut Buffer) {
    buf.set_style(area, theme.status_bar);
    let max = area.right();
    let y = area.y;
    let conn_style = match &state.conn {
        Conn::Live { .. } if !state.stale => theme.conn_live,
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
    let mut parts: Vec<String> = Vec::new();
    if let Some(t) = state.last_event_at {
        parts.push(format!(
            "last event {}",
            format::clock_secs(t, state.utc_offset)
        ));
    }
    let n = state.in_flight();
    if n > 0 {
        let unsent = state.unsent();
        if unsent > 0 {
            parts.push(format!("{n} in flight, {unsent} unsent"));
        } else {
            parts.push(format!("{n} in flight"));
        }
    }
    if !state.filter.value().is_empty() || state.filter_editing {
        let cursor = if state.filter_editing { "▏" } else { "" };
        parts.push(format!("filter: {}{cursor}", state.filter.value()));
    }
    for p in parts {
        x = put_run(buf, x, y, max, " │ ", theme.status_bar);
        x = put_run(buf, x, y, max, &p, theme.status_bar);
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
        x = put_run(buf, x, y, max, " │ ", theme.status_bar);
        put_run(buf, x, y, max, &m.text, style);
    }
}
