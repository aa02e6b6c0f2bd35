//! Writing referrals out for a file or a pipe: RFC 4180 CSV with formula
//! injection neutralized, and JSON that is safe on a terminal. Below both
//! the command line (`leadx list --format csv|json`) and the inbox
//! (`:export`), which share it.

use std::io::{self, Write};

use serde::Serialize;

use crate::sanitize::{clean_text, is_forbidden};
use crate::wire::{Referral, format_timestamp};

/// OWASP's rule against CSV (formula) injection: a cell that starts with
/// `=`, `+`, `-`, `@`, a tab or a carriage return is one a spreadsheet may
/// run as a formula, so it gets a leading `'` (shown as text, not run). A
/// plain number such as `-1200` or `-1.5` is left as it is.
pub fn neutralize_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let plain_number = cell.strip_prefix(['-', '+']).is_some_and(|digits| {
        digits.starts_with(|c: char| c.is_ascii_digit())
            && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
            && digits.matches('.').count() <= 1
    });
    if risky && !plain_number {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// One CSV record (RFC 4180): fields with a comma, quote, CR or LF are
/// quoted, quotes doubled; records end with CRLF.
pub fn write_csv_record<S: AsRef<str>>(out: &mut dyn Write, fields: &[S]) -> io::Result<()> {
    let mut line = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        let f = f.as_ref();
        if f.contains([',', '"', '\r', '\n']) {
            line.push('"');
            line.push_str(&f.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(f);
        }
    }
    line.push_str("\r\n");
    out.write_all(line.as_bytes())
}

/// A serde_json formatter that also escapes, as `\uXXXX`, every character
/// the sanitizer would replace (DEL, C1 controls, bidi and invisible format
/// characters): the JSON means the same, and a terminal sees only ASCII
/// escapes where a hostile lead put controls.
struct SafeFormatter;

impl serde_json::ser::Formatter for SafeFormatter {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // serde_json escapes C0 itself; plain ASCII needs nothing more.
        if fragment.bytes().all(|b| b < 0x7f) {
            return writer.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_forbidden(c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Writes `value` as compact JSON through `SafeFormatter` (no newline).
pub fn write_json<T: Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, SafeFormatter);
    value.serialize(&mut ser).map_err(io::Error::other)
}

/// CSV header.
const CSV_HEADER: [&str; 28] = [
    "id",
    "version",
    "status",
    "from_partner",
    "to_partner",
    "company",
    "domain",
    "contact_name",
    "contact_email",
    "contact_phone",
    "category",
    "summary",
    "est_value_cents",
    "currency",
    "region",
    "commission_pct",
    "note",
    "decision_note",
    "created_at",
    "updated_at",
    "expires_at",
    "decided_at",
    "decided_by",
    "decided_by_partner",
    "reason",
    "reason_note",
    "parent_id",
    "chain",
];

/// How CSV cells are written.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvCells {
    /// Through the sanitizer (for a terminal).
    pub clean: bool,
    /// Without neutralizing formulas ([`neutralize_formula`]).
    pub raw: bool,
}

/// The referrals as CSV with a header row. A cell a spreadsheet could run
/// as a formula gets a leading `'` unless `raw`; on a terminal (`clean`)
/// every cell goes through the sanitizer first. Otherwise the data goes
/// out as the server sent it.
pub fn write_csv(out: &mut dyn Write, items: &[Referral], cells: CsvCells) -> io::Result<()> {
    write_csv_record(out, &CSV_HEADER)?;
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    for r in items {
        let fields = [
            r.id.clone(),
            r.version.to_string(),
            r.status.as_str().to_owned(),
            r.from_partner.to_string(),
            r.to_partner.to_string(),
            r.lead.company.clone(),
            opt(&r.lead.domain),
            opt(&r.lead.contact_name),
            opt(&r.lead.contact_email),
            opt(&r.lead.contact_phone),
            r.lead.category.to_string(),
            opt(&r.lead.summary),
            r.lead
                .est_value_cents
                .map(|v| v.to_string())
                .unwrap_or_default(),
            r.lead.currency.to_string(),
            r.lead.region.as_deref().unwrap_or_default().to_owned(),
            r.commission_pct.to_string(),
            opt(&r.note),
            opt(&r.decision_note),
            format_timestamp(&r.created_at),
            format_timestamp(&r.updated_at),
            format_timestamp(&r.expires_at),
            r.decided_at
                .as_ref()
                .map(format_timestamp)
                .unwrap_or_default(),
            r.decided_by
                .as_ref()
                .map(|d| d.name.to_string())
                .unwrap_or_default(),
            r.decided_by
                .as_ref()
                .map(|d| d.partner.to_string())
                .unwrap_or_default(),
            r.reason
                .as_ref()
                .map(|x| x.code.as_str().to_owned())
                .unwrap_or_default(),
            r.reason
                .as_ref()
                .and_then(|x| x.note.clone())
                .unwrap_or_default(),
            opt(&r.parent_id),
            r.chain.join(" > "),
        ];
        let fields = fields.map(|f| if cells.clean { clean_text(&f) } else { f });
        if cells.raw {
            write_csv_record(out, &fields)?;
        } else {
            let safe = fields.each_ref().map(|f| neutralize_formula(f));
            write_csv_record(out, &safe)?;
        }
    }
    Ok(())
}

/// Writes referrals as `leadx list --format csv|json` does (`json`: one
/// array), for the inbox's `:export`: same columns, same escaping, and the
/// same neutralized formulas (a file goes to a spreadsheet; never raw).
pub fn export_referrals(
    out: &mut dyn std::io::Write,
    items: &[crate::wire::Referral],
    json: bool,
) -> std::io::Result<()> {
    if json {
        write_json(out, items)?;
        writeln!(out)
    } else {
        write_csv(out, items, CsvCells::default())
    }
}
