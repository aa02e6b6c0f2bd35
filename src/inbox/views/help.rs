//! The `?` overlay: every command and its keys (from the same table as the
//! keymap and the hint line), the query language (from the query module's
//! own tables) and the symbols the table draws (from the constants it draws
//! with), so none of them can disagree with what they describe.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::centered;
use super::table::{MARKED_GLYPH, UNSEEN_GLYPH, in_flight_glyph};
use crate::inbox::command::FIXED_KEYS;
use crate::inbox::format::{status_glyph, wrap};
use crate::inbox::keymap::KeyMap;
use crate::query::{self, SortField};
use crate::theme::Theme;
use crate::wire::{ActionKind, Status};

/// The widest the overlay gets.
const HELP_W: u16 = 76;
/// The key column's widest (longer `:` usages run into their text).
const KEY_MAX: usize = 12;

/// `(keys, text)` lines of the overlay; a `None` key is a section heading.
pub fn lines(keymap: &KeyMap) -> Vec<(Option<String>, String)> {
    lines_for(keymap, true)
}

fn heading(out: &mut Vec<(Option<String>, String)>, text: &str) {
    if !out.is_empty() {
        out.push((None, String::new()));
    }
    out.push((None, text.to_string()));
}

/// [`lines`], without the commands that act when `may_act` is false
/// (read-only monitor, viewers, operators).
pub fn lines_for(keymap: &KeyMap, may_act: bool) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    heading(&mut out, "Commands (remap in [keys] of the config)");
    for (keys, info) in keymap.help_rows() {
        if may_act || !info.acts {
            out.push((Some(keys), info.help.to_string()));
        }
    }
    heading(&mut out, "In popups and the filter line");
    for (k, text) in FIXED_KEYS {
        out.push((Some((*k).to_string()), (*text).to_string()));
    }
    heading(
        &mut out,
        "The : command line (acts on the selection, else the row)",
    );
    for (usage, text, acts) in crate::inbox::update::palette::LINE_HELP {
        if may_act || !acts {
            out.push((Some((*usage).to_string()), (*text).to_string()));
        }
    }
    query_lines(&mut out);
    symbol_lines(&mut out);
    out
}

/// The query language of `/`, `:filter`, `:select` and saved views.
fn query_lines(out: &mut Vec<(Option<String>, String)>) {
    heading(out, "Queries (/ filter, :filter, :select, views)");
    let words = |it: &mut dyn Iterator<Item = String>| it.collect::<Vec<_>>().join(" ");
    out.push((
        Some("fields".into()),
        format!(
            "{}; a bare word searches every text",
            words(&mut query::FIELDS.iter().map(|f| format!("{f}:")))
        ),
    ));
    out.push((
        Some("status".into()),
        format!(
            "status:{} (a comma list: any of them)",
            words(&mut Status::ALL.iter().map(|s| s.as_str().to_string())).replace(' ', ",")
        ),
    ));
    out.push((
        Some("operators".into()),
        format!(
            "{} before a number (none: equal): value, commission, age, expires",
            words(&mut query::operators().map(str::to_string))
        ),
    ));
    out.push((
        Some("units".into()),
        format!(
            "amounts {} (value:>=2.5m); durations {}, combinable (age:<1d12h)",
            words(&mut query::AMOUNT_UNITS.iter().map(|(u, _)| u.to_string())),
            words(&mut query::DURATION_UNITS.iter().map(|(u, _)| u.to_string()))
        ),
    ));
    out.push((
        Some("sort".into()),
        format!(
            "sort:FIELD or sort:-FIELD (reversed); FIELD is {}",
            words(&mut SortField::ALL.iter().map(|f| f.as_str().to_string()))
        ),
    ));
    out.push((
        Some("-term !term".into()),
        "not; terms are ANDed; \"quoted phrases\" keep spaces".into(),
    ));
}

/// Every glyph the table draws before a row and in STATUS.
fn symbol_lines(out: &mut Vec<(Option<String>, String)>) {
    heading(out, "Symbols in the table");
    out.push((
        Some(UNSEEN_GLYPH.into()),
        "arrived live, not seen yet".into(),
    ));
    out.push((Some(MARKED_GLYPH.into()), "marked (space, v, *)".into()));
    for k in ActionKind::ALL {
        out.push((
            Some(in_flight_glyph(k).into()),
            format!(
                "{} sent and not answered yet, or queued to undo",
                k.as_str()
            ),
        ));
    }
    for s in Status::ALL {
        out.push((Some(status_glyph(s).to_string()), s.as_str().to_string()));
    }
}

/// One row of the overlay as drawn: the key column (empty on a
/// continuation or a heading), the text, and whether it is a heading.
struct Row {
    key: String,
    text: String,
    heading: bool,
}

/// The overlay's box for a screen of `area`: at most [`HELP_W`] wide.
fn width_for(area_w: u16) -> u16 {
    HELP_W.min(area_w)
}

/// The overlay's rows at a box of width `w`: texts wrapped after the key
/// column, continuation rows indented under their text.
fn rows(keymap: &KeyMap, may_act: bool, w: u16) -> (Vec<Row>, usize) {
    let all = lines_for(keymap, may_act);
    let key_w = all
        .iter()
        .filter_map(|(k, _)| k.as_ref())
        .map(|k| k.chars().count())
        .filter(|&n| n <= KEY_MAX)
        .max()
        .unwrap_or(4)
        + 2;
    let inner = (w as usize).saturating_sub(2);
    let mut out = Vec::new();
    for (k, t) in &all {
        match k {
            None => out.push(Row {
                key: String::new(),
                text: t.clone(),
                heading: true,
            }),
            Some(k) => {
                let key = if k.chars().count() >= key_w {
                    format!("  {k}  ")
                } else {
                    format!("  {k:<key_w$}")
                };
                let first_w = inner.saturating_sub(key.chars().count()).max(10);
                let text_w = inner.saturating_sub(key_w + 2).max(10);
                let first = wrap(t, first_w);
                let head = first.first().cloned().unwrap_or_default();
                let rest: String = t[head.len()..].trim_start().to_string();
                out.push(Row {
                    key,
                    text: head,
                    heading: false,
                });
                if !rest.is_empty() {
                    for r in wrap(&rest, text_w) {
                        out.push(Row {
                            key: " ".repeat(key_w + 2),
                            text: r,
                            heading: false,
                        });
                    }
                }
            }
        }
    }
    (out, key_w)
}

/// How far the overlay scrolls on a screen of `size`: its rows less those
/// in view.
pub fn max_scroll(keymap: &KeyMap, may_act: bool, size: (u16, u16)) -> usize {
    let (rows, _) = rows(keymap, may_act, width_for(size.0));
    let visible = (size.1 as usize).saturating_sub(2);
    rows.len().saturating_sub(visible)
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
    let w = width_for(area.width);
    let (all, _) = rows(keymap, may_act, w);
    let rect = centered(area, w, all.len() as u16 + 2);
    let visible = rect.height.saturating_sub(2) as usize;
    let scroll = scroll.min(all.len().saturating_sub(visible));
    let text: Vec<Line> = all
        .iter()
        .skip(scroll)
        .take(visible)
        .map(|r| {
            if r.heading {
                Line::from(Span::styled(
                    r.text.clone(),
                    theme.popup_title.add_modifier(Modifier::BOLD),
                ))
            } else {
                Line::from(vec![
                    Span::styled(r.key.clone(), theme.hint_key),
                    Span::styled(r.text.clone(), theme.text),
                ])
            }
        })
        .collect();
    // Where the view is, and which way there is more.
    let last = (scroll + visible).min(all.len());
    let more = match (scroll > 0, last < all.len()) {
        (true, true) => " ↑↓",
        (false, true) => " ↓",
        (true, false) => " ↑",
        (false, false) => "",
    };
    let title = if more.is_empty() {
        " Keys — ? or Esc closes ".to_string()
    } else {
        format!(
            " Keys — ? or Esc closes · {}-{last}/{}{more} ",
            scroll + 1,
            all.len()
        )
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.popup_border)
        .title(Span::styled(title, theme.popup_title));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(text).style(theme.text).block(block), rect);
}
