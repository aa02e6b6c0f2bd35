//! The top line: partner, user, role, server.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::put_run;
use crate::inbox::state::State;
use crate::sanitize::{fit, width};
use crate::theme::Theme;

/// Draws the header.
pub fn render(state: &State, theme: &Theme, area: Rect, buf: &mut Buffer) {
    buf.set_style(area, theme.header);
    let max = area.right();
    let y = area.y;
    let mut x = put_run(
        buf,
        area.x,
        y,
        max,
        " leadx ",
        theme.header.add_modifier(ratatui::style::Modifier::BOLD),
    );
    match &state.me {
        Some(me) => {
            x = put_run(buf, x, y, max, "│ ", theme.header);
            x = put_run(
                buf,
                x,
                y,
                max,
                &me.partner.name,
                theme.header.add_modifier(ratatui::style::Modifier::BOLD),
            );
            x = put_run(
                buf,
                x,
                y,
                max,
                &format!(" ({}) ", me.partner.id),
                theme.header,
            );
            x = put_run(buf, x, y, max, "│ ", theme.header);
            x = put_run(buf, x, y, max, &me.user.name, theme.header);
            x = put_run(
                buf,
                x,
                y,
                max,
                &format!(" · {} ", me.user.role.as_str()),
                theme.header,
            );
        }
        None => {
            x = put_run(buf, x, y, max, "│ connecting… ", theme.header);
        }
    }
    if state.monitor() {
        x = put_run(
            buf,
            x,
            y,
            max,
            "│ READ-ONLY ",
            theme
                .header
                .add_modifier(ratatui::style::Modifier::BOLD | ratatui::style::Modifier::REVERSED),
        );
    }
    if !state.views.is_empty() {
        // Saved views as tabs: `]` (or `:view NAME`) moves between them.
        x = put_run(buf, x, y, max, "│ ", theme.header);
        let tabs = std::iter::once((None, "all")).chain(
            state
                .views
                .iter()
                .enumerate()
                .map(|(i, v)| (Some(i), v.0.as_str())),
        );
        for (i, name) in tabs {
            let style = if i == state.view {
                theme.header.add_modifier(
                    ratatui::style::Modifier::BOLD | ratatui::style::Modifier::REVERSED,
                )
            } else {
                theme.header
            };
            x = put_run(buf, x, y, max, &format!(" {name} "), style);
        }
        x = put_run(buf, x, y, max, " ", theme.header);
    }
    put_run(
        buf,
        x,
        y,
        max,
        &server_words(&state.server, max.saturating_sub(x)),
        theme.header,
    );
}

/// `│ URL ` in at most `room` cells: without the scheme when the whole URL
/// does not fit, then cut with `…`; nothing when even that would mislead
/// (a port or host cut short without a sign reads as another address).
fn server_words(url: &str, room: u16) -> String {
    let room = room as usize;
    let full = format!("│ {url} ");
    if width(&full) <= room {
        return full;
    }
    let bare = url.split_once("://").map_or(url, |(_, rest)| rest);
    let short = format!("│ {bare} ");
    if width(&short) <= room {
        return short;
    }
    if room < 8 {
        return String::new();
    }
    format!("│ {}", fit(bare, room - 2))
}

#[cfg(test)]
mod tests {
    use super::server_words;

    #[test]
    fn the_server_is_shortened_visibly_never_cut_silently() {
        let url = "http://127.0.0.1:38063";
        assert_eq!(server_words(url, 40), "│ http://127.0.0.1:38063 ");
        assert_eq!(server_words(url, 20), "│ 127.0.0.1:38063 ");
        assert_eq!(server_words(url, 12), "│ 127.0.0.1…");
        assert_eq!(server_words(url, 7), "");
    }
}
