//! A pane: its box, title with counts, and the table of visible rows.
//! Only the rows on screen are built, so 100,000 referrals cost nothing.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, BorderType, Borders, Widget};

use super::put;
use crate::inbox::format::{self, Urgency};
use crate::inbox::layout::table_rows;
use crate::inbox::state::{Entry, Pane, State};
use crate::theme::Theme;
use crate::wire::{ActionKind, Role, Status};

/// A table column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    /// Time since created.
    Age,
    /// Time before expiry.
    Left,
    /// Glyph and word.
    Status,
    /// The other party (operators: from → to).
    Partner,
    /// The lead's company (takes the remaining width).
    Company,
    /// The lead's category.
    Category,
    /// Estimated value.
    Value,
    /// The lead's region.
    Region,
    /// Commission percent.
    Commission,
}

impl Col {
    fn title(self, state: &State, pane: Pane) -> &'static str {
        match self {
            Col::Age => "AGE",
            Col::Left => "LEFT",
            Col::Status => "STATUS",
            Col::Partner if state.role() == Some(Role::Operator) => "FROM → TO",
            Col::Partner if pane == Pane::Incoming => "FROM",
            Col::Partner => "TO",
            Col::Company => "COMPANY",
            Col::Category => "CATEGORY",
            Col::Value => "VALUE",
            Col::Region => "REGION",
            Col::Commission => "COMM",
        }
    }
}

/// Fixed widths, in the order columns are dropped when space runs out
/// (last dropped first).
const FIXED: [(Col, u16); 8] = [
    (Col::Status, 11),
    (Col::Partner, PARTNER_MIN),
    (Col::Left, 6),
    (Col::Age, 4),
    (Col::Value, 7),
    (Col::Category, 11),
    (Col::Region, 10),
    (Col::Commission, 4),
];
/// Narrowest company column before other columns are dropped.
const COMPANY_MIN: u16 = 14;
/// A company column this wide gives its spare width to the partner column.
const COMPANY_ROOMY: u16 = 34;
/// The partner column's default width.
const PARTNER_MIN: u16 = 16;
/// The partner column's widest.
const PARTNER_MAX: u16 = 26;
/// ... when it shows both partners (`from → to`, the operator's view).
const PAIR_MAX: u16 = 2 * PARTNER_MAX + 3;
/// The pair's narrowest: two ids of ten cells and the arrow.
const PAIR_MIN: u16 = 24;
/// STATUS as its glyph alone (on narrow screens).
pub const STATUS_NARROW: u16 = 2;
/// Marker columns: cursor and in-flight / new.
const MARKERS: u16 = 2;
/// Display order.
const ORDER: [Col; 9] = [
    Col::Age,
    Col::Left,
    Col::Status,
    Col::Partner,
    Col::Company,
    Col::Category,
    Col::Value,
    Col::Region,
    Col::Commission,
];

/// The columns that fit in `width`, with their widths, in display order.
/// `pair`: the partner column shows `from → to`: it starts at
/// `PAIR_MIN` (both ids readable at 80 columns, the category giving way
/// first) and may grow wider.
///
/// Columns are dropped from the end of `FIXED`; before VALUE would go,
/// STATUS narrows to its glyph ([`STATUS_NARROW`]): the glyph says the
/// status (the `?` legend names each), the value is not said elsewhere.
pub fn columns(width: u16, pair: bool) -> Vec<(Col, u16)> {
    let (partner_min, partner_max) = if pair {
        (PAIR_MIN, PAIR_MAX)
    } else {
        (PARTNER_MIN, PARTNER_MAX)
    };
    let value_at = FIXED
        .iter()
        .position(|(c, _)| *c == Col::Value)
        .expect("VALUE is a fixed column");
    let mut keep = FIXED.len();
    loop {
        let narrow_status: &[bool] = if keep == value_at + 1 {
            &[false, true]
        } else {
            &[false]
        };
        for &narrow in narrow_status {
            let width_of = |c: Col, w: u16| match c {
                Col::Status if narrow => STATUS_NARROW,
                Col::Partner => partner_min,
                _ => w,
            };
            let fixed: u16 = FIXED[..keep]
                .iter()
                .map(|(c, w)| width_of(*c, *w) + 1)
                .sum();
            let mut company = width.saturating_sub(MARKERS + fixed);
            if company >= COMPANY_MIN || keep == 0 {
                // Spare width goes to the partner column first (ids up to 40 chars).
                let mut partner_extra = 0;
                if company > COMPANY_ROOMY {
                    partner_extra = (company - COMPANY_ROOMY).min(partner_max - partner_min);
                    company -= partner_extra;
                }
                let kept = &FIXED[..keep];
                return ORDER
                    .iter()
                    .filter_map(|c| match c {
                        Col::Company => Some((Col::Company, company)),
                        Col::Partner => kept
                            .iter()
                            .find(|(k, _)| k == c)
                            .map(|(k, w)| (*k, width_of(*k, *w) + partner_extra)),
                        _ => kept
                            .iter()
                            .find(|(k, _)| k == c)
                            .map(|(k, w)| (*k, width_of(*k, *w))),
                    })
                    .collect();
            }
        }
        keep -= 1;
    }
}

/// `from → to` in `w` cells: when it does not fit, each id is cut to its
/// share (the sender to at most half), so the recipient stays readable.
pub fn pair_text(from: &str, to: &str, w: u16) -> String {
    use crate::sanitize::{fit, width};
    let full = format!("{from} → {to}");
    let w = w as usize;
    if width(&full) <= w || w < 9 {
        return full;
    }
    let room = w - 3;
    let from_w = width(from)
        .min(room / 2)
        .max(room.saturating_sub(width(to)));
    let to_w = room - from_w;
    format!(
        "{} → {}",
        fit(from, from_w).trim_end(),
        fit(to, to_w).trim_end()
    )
}

fn status_style(theme: &Theme, s: Status) -> Style {
    match s {
        Status::Pending => theme.status_pending,
        Status::Accepted => theme.status_accepted,
        Status::Won => theme.status_won,
        Status::Lost => theme.status_lost,
        Status::Rejected | Status::Forwarded | Status::Withdrawn | Status::Expired => {
            theme.status_closed
        }
    }
}

/// Before a row that arrived live and was not on screen yet.
pub const UNSEEN_GLYPH: &str = "•";
/// Before a marked row.
pub const MARKED_GLYPH: &str = "✓";

/// Before a row with an action in flight (or queued in an undo window).
pub fn in_flight_glyph(k: ActionKind) -> &'static str {
    match k {
        ActionKind::Accept => "A",
        ActionKind::Reject => "R",
        ActionKind::Forward => "F",
        ActionKind::Withdraw => "W",
        ActionKind::Close => "C",
    }
}

/// The pane title: `Incoming 124 · 12 pending · 3 new`, plus the filter count.
pub fn title(state: &State, pane: Pane) -> String {
    let p = state.pane(pane);
    let mut t = format!(
        " {} {} · {} pending",
        state.pane_title(pane),
        p.all.len(),
        p.pending
    );
    if p.new_count > 0 {
        t.push_str(&format!(" · {} new", p.new_count));
    }
    if !state.filter_applied.is_empty() {
        t.push_str(&format!(" · {} shown", p.rows.len()));
    }
    if let Some(v) = state.view {
        t.push_str(&format!(" · view {}", state.views[v].0));
    }
    if state.sort.is_some() {
        t.push_str(&format!(
            " · sort {}",
            crate::inbox::update::sort::sort_words(state)
        ));
    }
    t.push(' ');
    t
}

/// Draws one pane into `area` (its box included).
pub fn render(state: &State, theme: &Theme, pane: Pane, area: Rect, buf: &mut Buffer) {
    let active = pane == state.active;
    let (border_style, title_style) = if active {
        (
            theme.pane_title_active,
            theme.pane_title_active.add_modifier(Modifier::BOLD),
        )
    } else {
        (theme.dim, theme.pane_title)
    };
    let mark = if active { "▸" } else { " " };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(if active {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(border_style)
        .title(ratatui::text::Span::styled(
            format!("{mark}{}", title(state, pane)),
            title_style,
        ));
    // One pane at a time: the other's counts stay in sight, with its key.
    let alone = crate::inbox::layout::layout(state).panes.len() == 1;
    let block = if alone && state.pane_count() == 2 {
        let other = pane.other();
        let key = state
            .keymap
            .label_in(
                if other == Pane::Incoming {
                    crate::inbox::command::Command::PaneIncoming
                } else {
                    crate::inbox::command::Command::PaneOutgoing
                },
                crate::inbox::command::Context::List,
            )
            .map(|k| format!("{k}: "))
            .unwrap_or_default();
        let style = if state.pane(other).new_count > 0 {
            theme.pane_title.add_modifier(Modifier::BOLD)
        } else {
            theme.dim
        };
        // Compact, "new" first, and cut visibly in what the first title
        // leaves of the top border.
        let o = state.pane(other);
        let mut text = format!(" {key}{} {}", state.pane_title(other), o.all.len());
        if o.new_count > 0 {
            text.push_str(&format!(" · {} new", o.new_count));
        }
        text.push_str(&format!(" · {} pending ", o.pending));
        let first = 1 + crate::sanitize::width(&title(state, pane));
        let room = (area.width as usize).saturating_sub(2 + first + 1);
        if crate::sanitize::width(&text) > room {
            text = if room >= 8 {
                format!("{} ", crate::sanitize::fit(&text, room - 1).trim_end())
            } else {
                String::new()
            };
        }
        block.title(ratatui::text::Span::styled(text, style))
    } else {
        block
    };
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let cols = columns(inner.width, state.role() == Some(Role::Operator));
    // Column header.
    let y = inner.y;
    buf.set_style(Rect::new(inner.x, y, inner.width, 1), theme.table_header);
    let mut x = inner.x + MARKERS;
    for (c, w) in &cols {
        let t = match c {
            Col::Status if *w <= STATUS_NARROW => "ST",
            _ => c.title(state, pane),
        };
        put(buf, x, y, *w, t, theme.table_header);
        x += w + 1;
    }
    let p = state.pane(pane);
    let body = Rect::new(
        inner.x,
        inner.y + 1,
        inner.width,
        inner.height.saturating_sub(1),
    );
    if p.rows.is_empty() {
        // Why the table is empty, one line each, so nothing is lost to a
        // narrow pane (each line is cut with "…" at worst).
        let lines: Vec<String> = if let Some(why) = &state.refused {
            vec![
                format!("the server refused this token: {why}"),
                "set server.token, server.token_file (--token-file) or".to_string(),
                "LEADX_SERVER__TOKEN, then start leadx again".to_string(),
            ]
        } else if let (None, Some(why)) = (&state.me, &state.load_error) {
            vec![
                format!("cannot load your account: {why}"),
                format!("is {} the exchange's address (server.url)?", state.server),
            ]
        } else if state.me.is_none() || !state.listing.is_empty() {
            vec!["loading…".to_string()]
        } else if !state.filter_applied.is_empty() {
            vec!["no referral matches the filter (Esc clears it)".to_string()]
        } else {
            vec!["no referrals yet".to_string()]
        };
        for (k, msg) in lines.iter().enumerate() {
            let y = body.y + k as u16;
            if y >= body.bottom() {
                break;
            }
            put(
                buf,
                body.x + 2,
                y,
                body.width.saturating_sub(2),
                msg,
                theme.placeholder,
            );
        }
        return;
    }
    let range = state.visible_range(pane);
    debug_assert!(range.len() <= table_rows(area));
    for (line, idx) in range.enumerate() {
        let y = body.y + line as u16;
        if y >= body.bottom() {
            break;
        }
        let e = &state.entries[p.rows[idx] as usize];
        let cursor = match (idx == p.cursor, active) {
            (false, _) => Cursor::Elsewhere,
            (true, false) => Cursor::InOtherPane,
            (true, true) => Cursor::Focused,
        };
        let area = Rect::new(body.x, y, body.width, 1);
        row(state, theme, e, &cols, area, cursor, buf);
    }
}

/// Whether a row is the cursor's, and in the focused pane.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cursor {
    Elsewhere,
    /// The cursor of the pane that is not focused (underlined).
    InOtherPane,
    Focused,
}

fn row(
    state: &State,
    theme: &Theme,
    e: &Entry,
    cols: &[(Col, u16)],
    area: Rect,
    at: Cursor,
    buf: &mut Buffer,
) {
    let focused = at == Cursor::Focused;
    let cursor = at != Cursor::Elsewhere;
    let r = &e.referral;
    let marked = state.is_marked(&r.id);
    let text = if marked {
        theme.text.patch(theme.marked_row)
    } else {
        theme.text
    };
    let base = if focused {
        text.patch(theme.cursor_row)
    } else if cursor {
        text.add_modifier(Modifier::UNDERLINED)
    } else {
        text
    };
    buf.set_style(area, base);
    let y = area.y;
    let marker = if focused {
        "▶"
    } else if cursor {
        "›"
    } else {
        " "
    };
    put(buf, area.x, y, 1, marker, base);
    match e.in_flight {
        Some(k) => put(
            buf,
            area.x + 1,
            y,
            1,
            in_flight_glyph(k),
            base.patch(theme.in_flight),
        ),
        None if marked => put(buf, area.x + 1, y, 1, MARKED_GLYPH, base),
        None if e.fresh => put(
            buf,
            area.x + 1,
            y,
            1,
            UNSEEN_GLYPH,
            base.patch(theme.status_pending),
        ),
        None => {}
    }
    let mut x = area.x + MARKERS;
    let now = state.now;
    let me = state.my_partner().unwrap_or_default();
    for (c, w) in cols {
        let w = *w;
        match c {
            Col::Age => put(
                buf,
                x,
                y,
                w,
                &format::age(now, r.created_at),
                base.patch(theme.dim),
            ),
            Col::Left => {
                if r.status == Status::Pending {
                    let style = match format::urgency(now, r.expires_at) {
                        Urgency::Ok => theme.deadline_ok,
                        Urgency::Soon => theme.deadline_soon,
                        Urgency::Urgent => theme.deadline_urgent,
                    };
                    put(
                        buf,
                        x,
                        y,
                        w,
                        &format::left(now, r.expires_at),
                        base.patch(style),
                    );
                } else {
                    put(buf, x, y, w, "-", base.patch(theme.dim));
                }
            }
            Col::Status => {
                let s = if w <= STATUS_NARROW {
                    format::status_glyph(r.status).to_string()
                } else {
                    format!("{} {}", format::status_glyph(r.status), r.status.as_str())
                };
                let mut style = base.patch(status_style(theme, r.status));
                if r.status == Status::Pending {
                    style = style.add_modifier(Modifier::BOLD);
                }
                put(buf, x, y, w, &s, style);
            }
            Col::Partner => {
                let s = if state.role() == Some(Role::Operator) {
                    pair_text(&r.from_partner, &r.to_partner, w)
                } else if r.to_partner == me {
                    r.from_partner.to_string()
                } else {
                    r.to_partner.to_string()
                };
                put(buf, x, y, w, &s, base);
            }
            Col::Company => put(buf, x, y, w, &r.lead.company, base),
            Col::Category => put(buf, x, y, w, &r.lead.category, base),
            Col::Value => {
                let s = format::money(r.lead.est_value_cents, &r.lead.currency);
                let pad = (w as usize).saturating_sub(crate::sanitize::width(&s)) as u16;
                put(buf, x + pad, y, w - pad, &s, base);
            }
            Col::Region => put(buf, x, y, w, r.lead.region.as_deref().unwrap_or("-"), base),
            Col::Commission => put(buf, x, y, w, &format!("{:>3}%", r.commission_pct), base),
        }
        x += w + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_tables_drop_the_least_useful_columns_first() {
        let wide = columns(200, false);
        assert_eq!(wide.len(), 9);
        let narrow = columns(78, false);
        let names: Vec<Col> = narrow.iter().map(|(c, _)| *c).collect();
        assert!(names.contains(&Col::Company) && names.contains(&Col::Status));
        assert!(!names.contains(&Col::Commission));
        let used: u16 = narrow.iter().map(|(_, w)| w + 1).sum::<u16>() + MARKERS;
        assert!(used <= 79, "{used}");
        let company = narrow.iter().find(|(c, _)| *c == Col::Company).unwrap().1;
        // What the kept columns leave, above COMPANY_MIN (14).
        assert_eq!(company, 15);
    }

    #[test]
    fn the_operators_from_to_column_takes_spare_width_before_company() {
        let width = |cols: &[(Col, u16)], c: Col| cols.iter().find(|(k, _)| *k == c).unwrap().1;
        let (one, pair) = (columns(196, false), columns(196, true));
        assert_eq!(width(&one, Col::Partner), PARTNER_MAX);
        assert_eq!(width(&pair, Col::Partner), PAIR_MAX);
        // Roomy (COMPANY_ROOMY is 34) with the pair at its widest.
        assert_eq!(width(&pair, Col::Company), 78);
        let used = |cols: &[(Col, u16)]| cols.iter().map(|(_, w)| w + 1).sum::<u16>();
        assert_eq!(used(&one), used(&pair), "the same total width");
        // At 80 columns the pair keeps both ids readable: the category
        // gives way to it.
        let at80 = columns(78, true);
        assert_eq!(width(&at80, Col::Partner), PAIR_MIN);
        assert!(!at80.iter().any(|(c, _)| *c == Col::Category));
        assert!(width(&at80, Col::Company) >= COMPANY_MIN);
        assert!(used(&at80) + MARKERS <= 79);
    }

    #[test]
    fn narrow_tables_show_the_status_glyph_alone_before_dropping_value() {
        // 60 columns (58 inside the box).
        let cols = columns(58, false);
        let names: Vec<Col> = cols.iter().map(|(c, _)| *c).collect();
        assert!(names.contains(&Col::Value), "{cols:?}");
        assert!(cols.contains(&(Col::Status, STATUS_NARROW)), "{cols:?}");
        assert!(cols.iter().map(|(_, w)| w + 1).sum::<u16>() + MARKERS <= 59);
        // At 80 the words stay.
        assert!(columns(78, false).contains(&(Col::Status, 11)));
    }

    #[test]
    fn the_pair_keeps_the_recipient_readable() {
        assert_eq!(
            pair_text("northwind-net", "acme-web", 24),
            "northwind-net → acme-web"
        );
        let cut = pair_text("northwind-networks-eu", "acme-web-hosting", 24);
        assert!(cut.ends_with("→ acme-web-h…"), "{cut}");
        assert!(crate::sanitize::width(&cut) <= 24, "{cut}");
        let short_to = pair_text("northwind-networks-eu", "acme", 24);
        assert!(short_to.ends_with("→ acme"), "{short_to}");
        assert!(crate::sanitize::width(&short_to) <= 24);
    }
}
