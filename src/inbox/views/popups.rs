//! Popups over the panes: reject, forward, close, quit confirmation, help.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use tui_input::Input;

use super::{centered, help, popup_box};
use crate::inbox::state::{ClosePopup, CloseStep, ForwardPopup, Popup, RejectPopup, State};
use crate::sanitize::{fit, width};
use crate::theme::Theme;
use crate::wire::{Partner, ReasonCode};

/// Draws the open popup, if any.
pub fn render(state: &State, theme: &Theme, area: Rect, frame: &mut Frame) {
    match &state.popup {
        None => {}
        Some(Popup::Help { scroll }) => {
            help::render(&state.keymap, state.may_act(), *scroll, theme, area, frame)
        }
        Some(Popup::Messages { scroll }) => {
            super::messages::render(state, *scroll, theme, area, frame)
        }
        Some(Popup::Reject(p)) => reject(p, theme, area, frame),
        Some(Popup::Forward(p)) => forward(state, p, theme, area, frame),
        Some(Popup::Close(p)) => close(p, theme, area, frame),
        Some(Popup::ConfirmQuit) => confirm_quit(state, theme, area, frame),
        Some(Popup::BatchConfirm) => {
            if let Some(b) = &state.batch {
                super::power::confirm(state, b, theme, area, frame);
            }
        }
        Some(Popup::BatchResults { scroll }) => {
            if let Some(b) = &state.batch {
                super::power::results(b, *scroll, theme, area, frame);
            }
        }
        Some(Popup::Yank { selected }) => yank_menu(*selected, theme, area, frame),
        Some(Popup::Compose(f)) => super::compose::render(state, f, theme, area, frame),
    }
}

/// A choice line: `▶ 1 Unclear need` (cursor glyph and style).
fn choice<'a>(theme: &Theme, selected: bool, text: String) -> Line<'a> {
    if selected {
        Line::from(Span::styled(
            format!("▶ {text}"),
            theme.text.patch(theme.cursor_row),
        ))
    } else {
        Line::from(Span::styled(format!("  {text}"), theme.text))
    }
}

/// Draws a one-line input with its label at row `y` of `inner`, and puts
/// the terminal cursor in it.
fn input_line(theme: &Theme, label: &str, input: &Input, inner: Rect, y: u16, frame: &mut Frame) {
    if y >= inner.bottom() {
        return;
    }
    let label_w = label.chars().count() as u16;
    let width = inner.width.saturating_sub(label_w + 1).max(1) as usize;
    let scroll = input.visual_scroll(width);
    let visible: String = input.value().chars().skip(scroll).collect();
    let line = Line::from(vec![
        Span::styled(label.to_string(), theme.detail_label),
        Span::raw(" "),
        Span::styled(visible, theme.text.add_modifier(Modifier::UNDERLINED)),
    ]);
    frame.render_widget(Paragraph::new(line), Rect::new(inner.x, y, inner.width, 1));
    let cx = inner.x + label_w + 1 + (input.visual_cursor().saturating_sub(scroll)) as u16;
    frame.set_cursor_position(Position::new(cx.min(inner.right().saturating_sub(1)), y));
}

fn error_line<'a>(theme: &Theme, e: &Option<String>) -> Line<'a> {
    match e {
        Some(e) => Line::from(Span::styled(format!("✕ {e}"), theme.error)),
        None => Line::raw(""),
    }
}

fn reject(p: &RejectPopup, theme: &Theme, area: Rect, frame: &mut Frame) {
    let rect = centered(area, 60, 12);
    let inner = popup_box(theme, format!(" Reject {} ", p.company), rect, frame);
    let mut lines: Vec<Line> = Vec::new();
    match &p.note {
        None => {
            lines.push(Line::from(Span::styled(
                "Why? (j/k or 1-5, Enter picks)",
                theme.dim,
            )));
            for (i, code) in ReasonCode::ALL.iter().enumerate() {
                lines.push(choice(
                    theme,
                    i == p.selected,
                    format!("{} {}", i + 1, code.label()),
                ));
            }
            lines.push(error_line(theme, &p.error));
            frame.render_widget(Paragraph::new(lines), inner);
        }
        Some(note) => {
            lines.push(Line::from(vec![
                Span::styled("Reason ", theme.detail_label),
                Span::styled(p.reason().label(), theme.text.add_modifier(Modifier::BOLD)),
            ]));
            let hint = if p.reason() == ReasonCode::Other {
                "A note is required. Enter sends, Esc goes back."
            } else {
                "Optional note. Enter sends, Esc goes back."
            };
            lines.push(Line::from(Span::styled(hint, theme.dim)));
            frame.render_widget(Paragraph::new(lines), inner);
            input_line(theme, "Note", note, inner, inner.y + 3, frame);
            if inner.height > 5 {
                frame.render_widget(
                    Paragraph::new(error_line(theme, &p.error)),
                    Rect::new(inner.x, inner.y + 5, inner.width, 1),
                );
            }
        }
    }
}

fn forward(state: &State, p: &ForwardPopup, theme: &Theme, area: Rect, frame: &mut Frame) {
    let rect = centered(area, 72, area.height.saturating_sub(4).min(20));
    let inner = popup_box(theme, format!(" Forward {} ", p.company), rect, frame);
    if let Some((to, note)) = &p.picked {
        let name = state
            .partners
            .iter()
            .find(|x| &x.id == to)
            .map(|x| x.name.as_str())
            .unwrap_or("");
        let lines = vec![
            Line::from(vec![
                Span::styled("To ", theme.detail_label),
                Span::styled(
                    format!("{to}  {name}"),
                    theme.text.add_modifier(Modifier::BOLD),
                ),
            ]),
            Line::from(Span::styled(
                "Optional note. Enter sends, Esc goes back.",
                theme.dim,
            )),
        ];
        frame.render_widget(Paragraph::new(lines), inner);
        input_line(theme, "Note", note, inner, inner.y + 3, frame);
        return;
    }
    input_line(theme, "Partner", &p.query, inner, inner.y, frame);
    if inner.height < 3 {
        return;
    }
    let count = if state.partners.is_empty() {
        "loading the partner directory…".to_string()
    } else {
        let eligible = state
            .partners
            .iter()
            .filter(|x| !p.excluded.contains(&x.id))
            .count();
        format!(
            "{} of {eligible} partners · ↑/↓ move · Enter picks",
            p.matches.len()
        )
    };
    frame.render_widget(
        Paragraph::new(Span::styled(count, theme.dim)),
        Rect::new(inner.x, inner.y + 1, inner.width, 1),
    );
    let list_h = inner.height.saturating_sub(2) as usize;
    let offset = if p.selected >= list_h {
        p.selected + 1 - list_h
    } else {
        0
    };
    // Columns as wide as the directory's longest id and name (within
    // bounds), measured in cells, so a long one never shifts the rest.
    let col = |f: fn(&Partner) -> &str, max: usize| {
        let w = state.partners.iter().map(|x| width(f(x))).max();
        w.unwrap_or(0).clamp(4, max)
    };
    let (id_w, name_w) = (col(|x| &x.id, 24), col(|x| &x.name, 28));
    let lines: Vec<Line> = p
        .matches
        .iter()
        .enumerate()
        .skip(offset)
        .take(list_h)
        .map(|(i, &pi)| {
            let x = &state.partners[pi];
            let text = format!(
                "{} {} {:<10} {}",
                fit(&x.id, id_w),
                fit(&x.name, name_w),
                x.kind.as_str(),
                x.categories.join(",")
            );
            choice(theme, i == p.selected, text)
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines),
        Rect::new(inner.x, inner.y + 2, inner.width, list_h as u16),
    );
}

fn close(p: &ClosePopup, theme: &Theme, area: Rect, frame: &mut Frame) {
    let rect = centered(area, 56, 10);
    let inner = popup_box(theme, format!(" Close {} ", p.company), rect, frame);
    let outcome = if p.selected == 0 { "won" } else { "lost" };
    match p.step {
        CloseStep::Choose => {
            let lines = vec![
                Line::from(Span::styled(
                    "How did it end? (j/k, Enter picks)",
                    theme.dim,
                )),
                choice(theme, p.selected == 0, "★ Won".to_string()),
                choice(theme, p.selected == 1, "✕ Lost".to_string()),
            ];
            frame.render_widget(Paragraph::new(lines), inner);
        }
        CloseStep::Value | CloseStep::Note => {
            let lines = vec![
                Line::from(vec![
                    Span::styled("Outcome ", theme.detail_label),
                    Span::styled(outcome, theme.text.add_modifier(Modifier::BOLD)),
                ]),
                Line::from(Span::styled(
                    if p.step == CloseStep::Value {
                        "Deal value, optional (12000 or 12.5k). Enter: next"
                    } else {
                        "Optional note. Enter sends, Esc goes back."
                    },
                    theme.dim,
                )),
            ];
            frame.render_widget(Paragraph::new(lines), inner);
            if p.step == CloseStep::Value {
                input_line(theme, "Value", &p.value, inner, inner.y + 3, frame);
            } else {
                let v = Paragraph::new(Line::from(vec![
                    Span::styled("Value ", theme.detail_label),
                    Span::styled(p.value.value().to_string(), theme.text),
                ]));
                frame.render_widget(v, Rect::new(inner.x, inner.y + 3, inner.width, 1));
                input_line(theme, "Note", &p.note, inner, inner.y + 4, frame);
            }
            if inner.height > 6 {
                frame.render_widget(
                    Paragraph::new(error_line(theme, &p.error)),
                    Rect::new(inner.x, inner.y + 6, inner.width, 1),
                );
            }
        }
    }
}

fn confirm_quit(state: &State, theme: &Theme, area: Rect, frame: &mut Frame) {
    let rect = centered(area, 52, 7);
    let inner = popup_box(theme, " Quit? ".to_string(), rect, frame);
    // Held actions (in the undo window) never reached the server: quitting
    // drops them. The rest were sent and may or may not be applied.
    let held = crate::inbox::update::batch::undo_left(state)
        .and(state.batch.as_ref())
        .map_or(0, |b| b.items.len());
    let n = state.in_flight() - held;
    let unsent = state.unsent();
    let mut text = String::new();
    if n > 0 {
        text = format!(
            "{n} action{} not confirmed by the server yet",
            if n == 1 { " is" } else { "s are" }
        );
        if unsent > 0 {
            text.push_str(&format!(" ({unsent} unsent)"));
        }
        text.push_str(". ");
    }
    if held > 0 {
        text.push_str(&format!(
            "{held} held in the undo window: dropped, never sent."
        ));
    }
    let lines = vec![
        Line::from(Span::styled(text, theme.error)),
        Line::raw(""),
        Line::from(vec![
            Span::styled("y", theme.hint_key),
            Span::styled(" quit anyway   ", theme.text),
            Span::styled("n", theme.hint_key),
            Span::styled(" stay", theme.text),
        ]),
    ];
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .style(Style::default()),
        inner,
    );
}

/// `Y`: what to copy, numbered.
fn yank_menu(selected: usize, theme: &Theme, area: Rect, frame: &mut Frame) {
    use crate::inbox::update::yank::CHOICES;
    let rect = centered(area, 40, CHOICES.len() as u16 + 4);
    let inner = popup_box(theme, " Copy ".to_string(), rect, frame);
    let mut lines: Vec<Line> = CHOICES
        .iter()
        .enumerate()
        .map(|(i, c)| choice(theme, i == selected, format!("{} {c}", i + 1)))
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        "Enter/1-5 copy  Esc close",
        theme.dim,
    )));
    frame.render_widget(Paragraph::new(lines), inner);
}
