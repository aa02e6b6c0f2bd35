//! `leadx list [--box incoming|outgoing|all] [--query Q] [--format table|json|csv]`.

use std::io::{self, IsTerminal, Write};

use clap::{Args, ValueEnum};

use super::output::{Column, expires_in, money, span, terminal_width, write_json, write_table};
use super::select::Selector;
use super::{ConnectArgs, EXIT_OK, Failure, LIST_PAGE, client_failure, connect, read};
use crate::export::{CsvCells, write_csv};
use crate::sanitize::clean_line;
use crate::wire::{Referral, ReferralBox, Timestamp, now_seconds};

/// Which side of the caller's referrals to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BoxArg {
    /// Sent to the caller's partner.
    Incoming,
    /// Sent by the caller's partner.
    Outgoing,
    /// Both (for an operator: every partner's).
    All,
}

impl From<BoxArg> for ReferralBox {
    fn from(b: BoxArg) -> Self {
        match b {
            BoxArg::Incoming => ReferralBox::Incoming,
            BoxArg::Outgoing => ReferralBox::Outgoing,
            BoxArg::All => ReferralBox::All,
        }
    }
}

/// How `list` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// Columns fitted to the terminal.
    Table,
    /// One JSON array of referral objects.
    Json,
    /// CSV with a header row (RFC 4180).
    Csv,
}

/// `leadx list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Which referrals: incoming, outgoing or all.
    #[arg(long = "box", value_enum, default_value = "all")]
    pub box_: BoxArg,
    /// Only referrals matching this query (the inbox's `/` language;
    /// `sort:FIELD` orders them).
    #[arg(long, short = 'q', value_name = "QUERY", allow_hyphen_values = true)]
    pub query: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ListFormat,
    /// CSV cells exactly as the server sent them: no `'` before a cell
    /// that starts with =, +, -, @, a tab or CR (a spreadsheet may run
    /// those as formulas). On a terminal the cells are still cleaned.
    #[arg(long)]
    pub csv_raw: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

pub(super) async fn run(args: ListArgs) -> Result<u8, Failure> {
    let selector = args.query.as_deref().map(Selector::parse).transpose()?;
    let client = connect(&args.connect)?;
    let box_ = ReferralBox::from(args.box_);
    let (items, _) = read(|| client.list_all_with(box_, &[], LIST_PAGE))
        .await
        .map_err(|e| client_failure("list", &e))?;
    let now = now_seconds();
    let items = match &selector {
        Some(s) => s.select(items, now),
        None => items,
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match args.format {
        ListFormat::Json => {
            write_json(&mut out, &items)?;
            writeln!(out)?;
        }
        ListFormat::Csv => write_csv(
            &mut out,
            &items,
            CsvCells {
                clean: io::stdout().is_terminal(),
                raw: args.csv_raw,
            },
        )?,
        ListFormat::Table => write_referral_table(&mut out, &items, now, terminal_width())?,
    }
    out.flush()?;
    Ok(EXIT_OK)
}

/// The table's columns: partners, age and expiry give up room first, then
/// the company, then the id (down to `…` and its last 10 characters, the
/// random end of its ULID), then status and value; age and expiry appear
/// from 80 columns, the category from 120.
const COLUMNS: [Column; 9] = [
    Column {
        title: "ID",
        min: 11,
        max: 30,
        shrink_rank: 3,
        show_from: 0,
        keep_end: true,
    },
    Column {
        title: "STATUS",
        min: 4,
        max: 9,
        shrink_rank: 4,
        show_from: 0,
        keep_end: false,
    },
    Column {
        title: "FROM",
        min: 8,
        max: 20,
        shrink_rank: 1,
        show_from: 0,
        keep_end: false,
    },
    Column {
        title: "TO",
        min: 8,
        max: 20,
        shrink_rank: 1,
        show_from: 0,
        keep_end: false,
    },
    Column {
        title: "COMPANY",
        min: 10,
        max: 40,
        shrink_rank: 2,
        show_from: 0,
        keep_end: false,
    },
    Column {
        title: "CATEGORY",
        min: 6,
        max: 14,
        shrink_rank: 1,
        show_from: 120,
        keep_end: false,
    },
    Column {
        title: "VALUE",
        min: 8,
        max: 18,
        shrink_rank: 4,
        show_from: 0,
        keep_end: false,
    },
    Column {
        title: "AGE",
        min: 3,
        max: 7,
        shrink_rank: 1,
        show_from: 80,
        keep_end: false,
    },
    Column {
        title: "EXPIRES",
        min: 7,
        max: 7,
        shrink_rank: 1,
        show_from: 80,
        keep_end: false,
    },
];

/// The referrals as a table fitted to `total` columns, every cell cleaned.
pub(super) fn write_referral_table(
    out: &mut dyn Write,
    items: &[Referral],
    now: Timestamp,
    total: usize,
) -> io::Result<()> {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|r| {
            vec![
                clean_line(&r.id),
                r.status.as_str().to_owned(),
                clean_line(&r.from_partner),
                clean_line(&r.to_partner),
                clean_line(&r.lead.company),
                clean_line(&r.lead.category),
                money(r.lead.est_value_cents, &r.lead.currency),
                span((now - r.created_at).num_seconds()),
                expires_in(r, now),
            ]
        })
        .collect();
    write_table(out, &COLUMNS, &rows, total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbox::testkit::referral;

    fn hostile() -> Referral {
        let mut r = referral(
            "r_1",
            "northwind-net",
            "acme-web",
            "=HYPERLINK(\"http://evil.example\",\"x\")",
            0,
        );
        r.lead.summary = Some("@SUM(A1:A9)".into());
        r.note = Some("\t=cmd|' /C calc'!A0".into());
        r.decision_note = Some("+1+1".into());
        r.lead.contact_phone = Some("\r-2+3".into());
        r.lead.est_value_cents = Some(-1200);
        r
    }

    fn csv(cells: CsvCells) -> String {
        let mut out = Vec::new();
        write_csv(&mut out, &[hostile()], cells).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn formula_cells_get_a_quote_unless_raw() {
        let safe = csv(CsvCells::default());
        assert!(
            safe.contains(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\","),
            "{safe}"
        );
        assert!(safe.contains(",'@SUM(A1:A9),"), "{safe}");
        assert!(safe.contains(",'\t=cmd|' /C calc'!A0,"), "{safe}");
        assert!(safe.contains(",'+1+1,"), "{safe}");
        assert!(safe.contains(",\"'\r-2+3\","), "{safe}");
        assert!(safe.contains(",-1200,"), "a plain number stays: {safe}");
        // No data cell starts a formula.
        for cell in safe.split("\r\n").nth(1).unwrap().split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(!cell.starts_with(['=', '+', '@', '\t', '\r']), "{cell:?}");
        }

        let raw = csv(CsvCells {
            raw: true,
            ..CsvCells::default()
        });
        assert!(raw.contains(",\"=HYPERLINK("), "{raw}");
        assert!(raw.contains(",@SUM(A1:A9),"), "{raw}");
    }

    #[test]
    fn on_a_terminal_cells_are_cleaned_then_neutralized() {
        let text = csv(CsvCells {
            clean: true,
            raw: false,
        });
        assert!(!text.contains('\t'), "{text:?}");
        assert!(text.contains(",\"'=HYPERLINK("), "{text}");
    }

    #[test]
    fn the_inbox_export_is_neutralized_too() {
        let mut out = Vec::new();
        crate::export::export_referrals(&mut out, &[hostile()], false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("'=HYPERLINK("), "{text}");
        assert!(!text.contains(",\"=HYPERLINK("), "{text}");
    }

    /// Two referrals whose ids share their time and differ at the end.
    fn table(total: usize) -> String {
        use crate::inbox::testkit::{NOW, t};
        let items = [
            referral(
                "r_01JDX0000000000000000000A1",
                "northwind-net",
                "acme-web",
                "Main Street Bakery",
                90,
            ),
            referral(
                "r_01JDX0000000000000000000B2",
                "harbor-host",
                "acme-web",
                "Corner Shop",
                3 * 60,
            ),
        ];
        let mut out = Vec::new();
        write_referral_table(&mut out, &items, t(NOW), total).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_wide_table_has_whole_ids_age_and_expiry() {
        let text = table(140);
        let header = text.lines().next().unwrap();
        for title in ["ID", "AGE", "EXPIRES", "CATEGORY"] {
            assert!(header.contains(title), "{text}");
        }
        assert!(text.contains("r_01JDX0000000000000000000A1"), "{text}");
        // Created 90 minutes ago, expiring in 72 h less that.
        let row = text.lines().nth(1).unwrap();
        assert!(row.contains(" 1h ") && row.ends_with("2d 22h"), "{row:?}");
    }

    #[test]
    fn at_80_columns_the_id_gives_up_its_start_for_age_and_expiry() {
        let text = table(80);
        let header = text.lines().next().unwrap();
        assert!(
            header.contains("AGE") && header.contains("EXPIRES"),
            "{text}"
        );
        for line in text.lines() {
            assert!(crate::sanitize::width(line) <= 80, "{line:?}");
        }
        let rows: Vec<&str> = text.lines().skip(1).collect();
        // Status, value and expiry stay whole: the id and company gave up
        // room instead.
        assert!(
            rows[0].contains(" pending ") && rows[0].ends_with("2d 22h"),
            "{text}"
        );
        // The shortened ids keep their distinct ends.
        assert!(
            rows[0].starts_with('…') && rows[0].contains("000A1"),
            "{text}"
        );
        assert!(
            rows[1].starts_with('…') && rows[1].contains("000B2"),
            "{text}"
        );
        // Narrower than 80: no age or expiry; the id still keeps its end.
        let narrow = table(70);
        assert!(!narrow.lines().next().unwrap().contains("AGE"), "{narrow}");
        assert!(narrow.contains("000A1"), "{narrow}");
    }
}
