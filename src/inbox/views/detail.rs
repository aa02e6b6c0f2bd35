//! The detail pane for the row under the cursor.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use crate::inbox::format::{self, wrap};
use crate::inbox::state::State;
use crate::inbox::update::actions::describe_decision;
use crate::sanitize::{fit, width};
use crate::theme::Theme;
use crate::wire::{Referral, Role, Status};

/// `northwind-net → acme-web → you`.
pub fn chain(r: &Referral, me: Option<&str>) -> String {
    r.chain
        .iter()
        .map(|p| {
            if Some(p.as_str()) == me {
                "you"
            } else {
                p.as_str()
            }
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

/// One part of the detail: a label and its text, wrapped to the pane; a
/// `flexible` part (summary, notes) may be cut to fit, the others are one
/// row each and always kept.
struct Part {
    label: &'static str,
    rows: Vec<String>,
    style: Style,
    flexible: bool,
    /// Who gets spare rows first (lower first) when flexible parts are cut.
    rank: u8,
}

const LABEL_W: usize = 10;

/// Draws the detail pane.
pub fn render(state: &State, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.dim);
    let inner = block.inner(area);
    let Some(e) = state.current() else {
        block
            .title(Span::styled(" Detail ", theme.pane_title))
            .render(area, buf);
        Paragraph::new(Span::styled("nothing selected", theme.placeholder)).render(inner, buf);
        return;
    };
    let r = &e.referral;
    let me = state.my_partner();
    let off = state.utc_offset;
    let text_w = (inner.width as usize).saturating_sub(LABEL_W).max(1);

    // The title: company, domain, status, what is in flight, id.
    let mut title = vec![Span::styled(
        r.lead.company.as_str(),
        theme.text.add_modifier(Modifier::BOLD),
    )];
    if let Some(d) = &r.lead.domain {
        title.push(Span::styled(format!("  {d}"), theme.dim));
    }
    title.push(Span::raw("  "));
    title.push(Span::styled(
        format!("{} {}", format::status_glyph(r.status), r.status.as_str()),
        theme.text.add_modifier(Modifier::BOLD),
    ));
    if let Some(k) = e.in_flight {
        title.push(Span::styled(
            format!("  ({} in flight)", k.as_str()),
            theme.in_flight,
        ));
    }
    title.push(Span::styled(
        format!("  {} v{}", r.id, r.version),
        theme.dim,
    ));
    let id_cut = fit_title(&mut title, r.lead.domain.is_some(), inner.width as usize);

    // The rest in the order: the lead, the note, the chain, the
    // decision, the contact.
    let mut parts: Vec<Part> = Vec::new();
    let one = |label, text: String, style| Part {
        label,
        rows: vec![text],
        style,
        flexible: false,
        rank: 0,
    };
    let lead = format!(
        "{} · {} · {} · commission {}%",
        r.lead.category,
        r.lead.region.as_deref().unwrap_or("no region"),
        format::money(r.lead.est_value_cents, &r.lead.currency),
        r.commission_pct
    );
    if id_cut {
        // No room in the title: the id keeps a row of its own.
        parts.push(one("Id", format!("{} v{}", r.id, r.version), theme.dim));
    }
    parts.push(one("Lead", lead, theme.text));
    let flex = |label, text: &str, rank| Part {
        label,
        rows: wrap(text, text_w),
        style: theme.text,
        flexible: true,
        rank,
    };
    if let Some(s) = &r.lead.summary {
        // Kept before the decision's notes: what the lead is stays in view
        // once it is decided.
        parts.push(flex("Summary", s, 0));
    }
    if let Some(n) = &r.note {
        parts.push(flex("Note", n, 1));
    }
    parts.push(one("Chain", chain(r, me), theme.text));
    let mut when = format!("sent {}", format::date_time(r.created_at, off));
    if r.status == Status::Pending {
        when.push_str(&format!(
            " · expires {} ({} left)",
            format::date_time(r.expires_at, off),
            format::left(state.now, r.expires_at)
        ));
    }
    parts.push(one("When", when, theme.text));
    if r.status != Status::Pending {
        parts.push(one("Decision", describe_decision(state, r), theme.text));
    }
    if let Some(reason) = &r.reason {
        parts.push(one("Reason", reason.code.label().to_string(), theme.text));
        if let Some(n) = &reason.note {
            parts.push(flex("Reply", n, 2));
        }
    }
    if let Some(n) = &r.decision_note {
        parts.push(flex("Reply", n, 2));
    }
    if let Some(o) = &r.outcome {
        let v = format::money(o.value_cents, &r.lead.currency);
        parts.push(one(
            "Outcome",
            format!("{} {v}", r.status.as_str()),
            theme.text,
        ));
        // The server repeats a close's note as the decision note (Reply).
        if let Some(n) = &o.note
            && r.decision_note.as_ref() != Some(n)
        {
            parts.push(flex("Reply", n, 2));
        }
    }
    if let Some(child) = &r.forwarded_to {
        parts.push(one("Forwarded", format!("as {child}"), theme.text));
    }
    if r.contact_masked {
        let why = if state.role() == Some(Role::Operator) {
            "hidden from exchange operators"
        } else if r.to_partner.as_str() == me.unwrap_or_default() && r.status == Status::Pending {
            "contact shown after you accept"
        } else if r.to_partner.as_str() == me.unwrap_or_default() {
            "stays hidden: you did not accept this lead"
        } else {
            "contact shown to the partner who accepts"
        };
        parts.push(one("Contact", why.to_string(), theme.placeholder));
    } else {
        let given: Vec<&str> = [
            &r.lead.contact_name,
            &r.lead.contact_email,
            &r.lead.contact_phone,
        ]
        .into_iter()
        .filter_map(|x| x.as_deref())
        .collect();
        let contact = if given.is_empty() {
            "none given".to_string()
        } else {
            given.join(" · ")
        };
        parts.push(one("Contact", contact, theme.text));
    }

    let room = (inner.height as usize).saturating_sub(1);
    let total: usize = parts.iter().map(|p| p.rows.len()).sum();
    // Scrolled (J): the whole text from a row on; else the overview, cut to fit.
    let start = state
        .detail_scroll
        .saturating_sub(1)
        .min(total.saturating_sub(room));
    let scrolled = state.detail_scroll > 0 && total > room;
    let heading = if scrolled {
        format!(
            " Detail {}-{}/{total}{} · K up ",
            start + 1,
            (start + room).min(total),
            if start + room < total { " ↓ J" } else { "" }
        )
    } else if total > room {
        " Detail · J reads on, z full screen ".to_string()
    } else {
        " Detail ".to_string()
    };
    block
        .title(Span::styled(heading, theme.pane_title))
        .render(area, buf);
    if !scrolled {
        fit_parts(&mut parts, room);
    }
    let mut lines = vec![Line::from(title)];
    let rows = parts.iter().flat_map(|p| {
        p.rows
            .iter()
            .enumerate()
            .map(move |(i, row)| (if i == 0 { p.label } else { "" }, row, p.style))
    });
    for (label, row, style) in rows.skip(if scrolled { start } else { 0 }) {
        lines.push(Line::from(vec![
            Span::styled(format!("{label:<LABEL_W$}"), theme.detail_label),
            Span::styled(fit_row(row, text_w), style),
        ]));
    }
    Paragraph::new(lines).render(inner, buf);
}

/// The title in `w` cells: without the id, then without the domain, then
/// with the company cut with `…` (the status always shows). `title` is
/// `[company, domain (when has_domain), gap, status, in flight?, id]`.
/// Whether the id was left out (the caller gives it a row).
fn fit_title(title: &mut Vec<Span<'_>>, has_domain: bool, w: usize) -> bool {
    let total = |t: &[Span<'_>]| t.iter().map(|s| width(&s.content)).sum::<usize>();
    let id_cut = total(title) > w;
    if id_cut {
        title.pop();
    }
    if total(title) > w && has_domain {
        title.remove(1);
    }
    let over = total(title).saturating_sub(w);
    if over > 0 {
        let company = title[0].content.to_string();
        let keep = width(&company).saturating_sub(over).max(1);
        title[0].content = fit(&company, keep).trim_end().to_string().into();
    }
    id_cut
}

/// A row cut to `w` cells with `…` when longer (fixed parts are one row).
fn fit_row(row: &str, w: usize) -> String {
    if width(row) <= w {
        row.to_string()
    } else {
        fit(row, w).trim_end().to_string()
    }
}

/// Cuts the flexible parts so that all parts fit in `room` rows: each
/// flexible part keeps at least one row (ending in `…` when cut) while
/// there is room, spare rows go to the lower ranks first (the sender's note
/// before the summary), and when even one row each does not fit, the
/// highest-ranked flexible parts go first.
fn fit_parts(parts: &mut Vec<Part>, room: usize) {
    let total: usize = parts.iter().map(|p| p.rows.len()).sum();
    if total <= room {
        return;
    }
    let fixed: usize = parts
        .iter()
        .filter(|p| !p.flexible)
        .map(|p| p.rows.len())
        .sum();
    let mut order: Vec<usize> = (0..parts.len()).filter(|&i| parts[i].flexible).collect();
    order.sort_by_key(|&i| parts[i].rank);
    // One row each, in rank order, as long as they fit.
    let mut budget = vec![0usize; parts.len()];
    let mut left = room.saturating_sub(fixed);
    for &i in &order {
        if left == 0 {
            break;
        }
        budget[i] = 1;
        left -= 1;
    }
    // Spare rows, lower ranks first.
    for &i in &order {
        let more = (parts[i].rows.len() - budget[i].min(parts[i].rows.len())).min(left);
        if budget[i] > 0 {
            budget[i] += more;
            left -= more;
        }
    }
    for &i in &order {
        let keep = budget[i];
        let p = &mut parts[i];
        if keep < p.rows.len() && keep > 0 {
            p.rows.truncate(keep);
            let last = p.rows.last_mut().expect("kept one");
            last.push('…');
        } else {
            p.rows.truncate(keep);
        }
    }
    parts.retain(|p| !p.rows.is_empty());
}

#[cfg(test)]
mod tests {
    use super::{Part, fit_parts, wrap};
    use ratatui::style::Style;

    #[test]
    fn wrap_breaks_at_spaces_newlines_and_inside_long_words() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("a\nb", 7), ["a", "b"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("日本語の文", 4), ["日本", "語の", "文"]);
        assert_eq!(wrap("", 4), [""]);
    }

    fn part(label: &'static str, rows: usize, flexible: bool, rank: u8) -> Part {
        Part {
            label,
            rows: (0..rows).map(|i| format!("{label}{i}")).collect(),
            style: Style::default(),
            flexible,
            rank,
        }
    }

    fn shape(parts: &[Part]) -> Vec<(&str, usize)> {
        parts.iter().map(|p| (p.label, p.rows.len())).collect()
    }

    #[test]
    fn flexible_parts_are_cut_note_first_fixed_parts_never() {
        let parts = || {
            vec![
                part("Lead", 1, false, 0),
                part("Summary", 5, true, 3),
                part("Note", 4, true, 0),
                part("Chain", 1, false, 0),
                part("Contact", 1, false, 0),
            ]
        };
        let mut p = parts();
        fit_parts(&mut p, 20);
        assert_eq!(
            shape(&p),
            [
                ("Lead", 1),
                ("Summary", 5),
                ("Note", 4),
                ("Chain", 1),
                ("Contact", 1)
            ]
        );
        // 8 rows: 3 fixed, one each, then the spare to the note first.
        let mut p = parts();
        fit_parts(&mut p, 8);
        assert_eq!(
            shape(&p),
            [
                ("Lead", 1),
                ("Summary", 1),
                ("Note", 4),
                ("Chain", 1),
                ("Contact", 1)
            ]
        );
        assert!(p[1].rows[0].ends_with('…'), "a cut part says so");
        // 4 rows: only the note gets its one row; the summary goes.
        let mut p = parts();
        fit_parts(&mut p, 4);
        assert_eq!(
            shape(&p),
            [("Lead", 1), ("Note", 1), ("Chain", 1), ("Contact", 1)]
        );
    }
}
