//! The top line: partner, user, role, server.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::put_run;
use crate::inbox::state::State;
use crate::inbox::theme::Theme;

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
    if state.readonly {
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
    let server = format!("│ {} ", state.server);
    put_run(buf, x, y, max, &server, theme.header);
}
