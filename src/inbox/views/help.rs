//! The `?` overlay: every command and its keys, from the same table as the
//! keymap and the hint line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::centered;
use crate::inbox::command::FIXED_KEYS;
use crate::inbox::keymap::KeyMap;
use crate::theme::Theme;

/// `(keys, text)` lines of the overlay; a `None` key is a section heading.
pub fn lines(keymap: &KeyMap) -> Vec<(Option<String>, &'static str)> {
    lines_for(keymap, true)
}

/// [`lines`], without the commands that act when `may_act` is false
/// (read-only monitor, viewers, operators).
pub fn lines_for(keymap: &KeyMap, may_act: bool) -> Vec<(Option<String>, &'static str)> {
    let mut out = vec![(None, "Commands (remap in [keys] of the config)")];
    for (keys, info) in keymap.help_rows() {
        if may_act || !info.acts {
            out.push((Some(keys), info.help));
        }
    }
    out.push((None, ""));
    out.push((None, "In popups and the filter line"));
    for (k, text) in FIXED_KEYS {
        out.push((Some((*k).to_string()), text));
    }
    out.push((None, ""));
    out.push((
        None,
        "The : command line (acts on the selection, else the row)",
    ));
    for (usage, text, acts) in crate::inbox::update::palette::LINE_HELP {
        if may_act || !acts {
            out.push((Some((*usage).to_string()), text));
        }
    }
    out
}

/// How many lines the overlay has (for scrolling).
pub fn line_count(keymap: &KeyMap, may_act: bool) -> usize {
    lines_for(keymap, may_act).len()
}

/// Draws the overlay.
pub fn render(
    keymap: &KeyMap,
    may_act: bool,
    scroll: usize,
    theme: &Theme,
    area: Rect,
    frame: &mut Frame,
) {
    let all = lines_for(keymap, may_act);
    let rect = centered(area, 76, all.len() as u16 + 2);
    let key_w = all
        .iter()
        .filter_map(|(k, _)| k.as_ref())
        .map(|k| k.chars().count())
        // Long `:` usages run into their text rather than widen every row.
        .filter(|&n| n <= 12)
        .max()
        .unwrap_or(4)
        + 2;
    let text: Vec<Line> = all
        .iter()
        .skip(scroll)
        .map(|(k, t)| match k {
            Some(k) => Line::from(vec![
                Span::styled(
                    if k.chars().count() >= key_w {
                        format!("  {k}  ")
                    } else {
                        format!("  {k:<key_w$}")
                    },
                    theme.hint_key,
                ),
                Span::styled(*t, theme.text),
            ]),
            None => Line::from(Span::styled(
                *t,
                theme.popup_title.add_modifier(Modifier::BOLD),
            )),
        })
        .collect();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.popup_border)
        .title(Span::styled(" Keys — ? or Esc closes ", theme.popup_title));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(text).style(theme.text).block(block), rect);
}
