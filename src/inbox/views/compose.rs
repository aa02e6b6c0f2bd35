//! The `n` form: one row per field (label, text, a `✕` on a field with
//! something wrong), the focused field's error or the picker's partners
//! below, then what the keys do. Reads the state; changes nothing.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{centered, popup_box};
use crate::inbox::state::State;
use crate::inbox::update::compose::{ComposeForm, FIELDS, TO, form::candidates};
use crate::theme::Theme;

/// Label column width: the longest label, a `*` and a space.
const LABEL_W: u16 = 15;

/// Draws the form over the panes.
pub fn render(state: &State, f: &ComposeForm, theme: &Theme, area: Rect, frame: &mut Frame) {
    let rows = FIELDS.len() as u16;
    let rect = centered(area, 72, rows + 6);
    let title = if f.sending {
        " New lead (sending…) ".to_string()
    } else {
        " New lead ".to_string()
    };
    let inner = popup_box(theme, title, rect, frame);
    let value_w = inner.width.saturating_sub(LABEL_W + 2).max(1);
    for (i, field) in FIELDS.iter().enumerate() {
        let y = inner.y + i as u16;
        if y >= inner.bottom() {
            break;
        }
        let input = &f.inputs[i];
        let focused = i == f.focus;
        let scroll = if focused {
            input.visual_scroll(value_w as usize)
        } else {
            0
        };
        let text: String = input
            .value()
            .chars()
            .skip(scroll)
            .take(value_w as usize)
            .collect();
        let mark = if f.errors[i].is_some() { "✕" } else { " " };
        let label = format!("{}{}", field.label, if field.required { "*" } else { "" });
        let mut label_style = theme.detail_label;
        if focused {
            label_style = label_style.add_modifier(Modifier::BOLD);
        }
        let mut value_style = theme.text;
        if focused {
            value_style = value_style.add_modifier(Modifier::UNDERLINED);
        }
        let line = Line::from(vec![
            Span::styled(mark, theme.error),
            Span::styled(format!("{label:<w$}", w = LABEL_W as usize), label_style),
            Span::raw(" "),
            Span::styled(text, value_style),
        ]);
        frame.render_widget(Paragraph::new(line), Rect::new(inner.x, y, inner.width, 1));
        if focused && !f.sending {
            let cx =
                inner.x + 1 + LABEL_W + 1 + input.visual_cursor().saturating_sub(scroll) as u16;
            frame.set_cursor_position(Position::new(cx.min(inner.right().saturating_sub(1)), y));
        }
    }
    let below = Rect::new(
        inner.x,
        inner.y + rows + 1,
        inner.width,
        inner.bottom().saturating_sub(inner.y + rows + 2),
    );
    let asking = f.discard_armed.then(|| {
        Line::from(Span::styled(
            "Esc again discards this draft · any other key goes on editing",
            theme.error,
        ))
    });
    let message = asking
        .or_else(|| {
            f.errors[f.focus]
                .as_ref()
                .or(f.error.as_ref())
                .map(|e| Line::from(Span::styled(format!("✕ {e}"), theme.error)))
        })
        .unwrap_or_else(|| {
            if f.focus == TO {
                // While cycling, the partners of the prefix typed before.
                let prefix = f.cycle.as_ref().map_or(f.inputs[TO].value(), |(p, _)| p);
                let ids = candidates(&state.partners, state.my_partner(), prefix);
                Line::from(Span::styled(
                    format!("partners: {}", ids.join(" ")),
                    theme.dim,
                ))
            } else {
                Line::raw("")
            }
        });
    frame.render_widget(Paragraph::new(message).wrap(Wrap { trim: true }), below);
    let hint_y = inner.bottom().saturating_sub(1);
    if hint_y > inner.y + rows {
        let hint = "Tab/S-Tab field · Up/Down partner · Ctrl-S or Enter on the last: send · Esc";
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(hint, theme.dim))),
            Rect::new(inner.x, hint_y, inner.width, 1),
        );
    }
}
