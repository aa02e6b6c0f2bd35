//! The detail pane for the row under the cursor.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use crate::inbox::format;
use crate::inbox::state::State;
use crate::inbox::theme::Theme;
use crate::inbox::update::describe_decision;
use crate::wire::{Referral, Status};

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

fn field<'a>(theme: &Theme, label: &'a str, value: impl Into<Span<'a>>) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{label:<10}"), theme.detail_label),
        value.into(),
    ])
}

fn multiline<'a>(
    theme: &Theme,
    label: &'a str,
    text: &'a str,
    style: Style,
    out: &mut Vec<Line<'a>>,
) {
    for (i, l) in text.split('\n').enumerate() {
        let label = if i == 0 { label } else { "" };
        out.push(field(theme, label, Span::styled(l, style)));
    }
}

/// Draws the detail pane.
pub fn render(state: &State, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.dim)
        .title(Span::styled(" Detail ", theme.pane_title));
    let inner = block.inner(area);
    block.render(area, buf);
    let Some(e) = state.current() else {
        Paragraph::new(Span::styled("nothing selected", theme.placeholder)).render(inner, buf);
        return;
    };
    let r = &e.referral;
    let me = state.my_partner();
    let off = state.utc_offset;
    let mut lines: Vec<Line> = Vec::new();
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
    lines.push(Line::from(title));
    lines.push(field(
        theme,
        "Lead",
        format!(
            "{} · {} · {} · commission {}%",
            r.lead.category,
            r.lead.region.as_deref().unwrap_or("no region"),
            format::money(r.lead.est_value_cents, &r.lead.currency),
            r.commission_pct
        ),
    ));
    lines.push(field(theme, "Chain", chain(r, me)));
    let mut when = format!("sent {}", format::date_time(r.created_at, off));
    if r.status == Status::Pending {
        when.push_str(&format!(
            " · expires {} ({} left)",
            format::date_time(r.expires_at, off),
            format::left(state.now, r.expires_at)
        ));
    }
    lines.push(field(theme, "When", when));
    if r.status != Status::Pending {
        lines.push(field(theme, "Decision", describe_decision(state, r)));
    }
    if let Some(reason) = &r.reason {
        lines.push(field(theme, "Reason", reason.code.label()));
        if let Some(n) = &reason.note {
            multiline(theme, "", n, theme.text, &mut lines);
        }
    }
    if let Some(n) = &r.decision_note {
        multiline(theme, "Reply", n, theme.text, &mut lines);
    }
    if let Some(o) = &r.outcome {
        let v = format::money(o.value_cents, &r.lead.currency);
        lines.push(field(
            theme,
            "Outcome",
            format!("{} {v}", r.status.as_str()),
        ));
        if let Some(n) = &o.note {
            multiline(theme, "", n, theme.text, &mut lines);
        }
    }
    if let Some(child) = &r.forwarded_to {
        lines.push(field(theme, "Forwarded", format!("as {child}")));
    }
    if r.contact_masked {
        lines.push(field(
            theme,
            "Contact",
            Span::styled("contact shown after you accept", theme.placeholder),
        ));
    } else {
        let parts: Vec<&str> = [
            &r.lead.contact_name,
            &r.lead.contact_email,
            &r.lead.contact_phone,
        ]
        .into_iter()
        .filter_map(|x| x.as_deref())
        .collect();
        let contact = if parts.is_empty() {
            "none given".to_string()
        } else {
            parts.join(" · ")
        };
        lines.push(field(theme, "Contact", contact));
    }
    if let Some(s) = &r.lead.summary {
        multiline(theme, "Summary", s, theme.text, &mut lines);
    }
    if let Some(n) = &r.note {
        multiline(theme, "Note", n, theme.text, &mut lines);
    }
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .render(inner, buf);
}
