//! `leadx show ID [--format text|json]`.

use std::io::{self, Write};

use clap::{Args, ValueEnum};

use super::output::{expires_in, indented, money, write_json};
use super::{ConnectArgs, EXIT_OK, Failure, client_failure, connect, read};
use crate::domain::rules::describe;
use crate::sanitize::clean_line;
use crate::wire::{Referral, Timestamp, format_timestamp, now_seconds};

/// How `show` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    /// Labelled lines for a person.
    Text,
    /// The referral object as the server sent it.
    Json,
}

/// `leadx show`.
#[derive(Debug, Clone, Args)]
pub struct ShowArgs {
    /// The referral's id (`r_...`).
    pub id: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ShowFormat,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

pub(super) async fn run(args: ShowArgs) -> Result<u8, Failure> {
    let client = connect(&args.connect)?;
    let referral = read(|| client.get(&args.id))
        .await
        .map_err(|e| client_failure(&format!("show {}", clean_line(&args.id)), &e))?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match args.format {
        ShowFormat::Json => {
            write_json(&mut out, &referral)?;
            writeln!(out)?;
        }
        ShowFormat::Text => write_text(&mut out, &referral, now_seconds())?,
    }
    out.flush()?;
    Ok(EXIT_OK)
}

/// The referral as labelled lines, every string cleaned.
pub(super) fn write_text(out: &mut dyn Write, r: &Referral, now: Timestamp) -> io::Result<()> {
    const INDENT: &str = "                ";
    let line = |s: &str| clean_line(s);
    let opt = |s: &Option<String>| s.as_deref().map(clean_line);
    let mut rows: Vec<(&str, String)> = vec![
        ("id", line(&r.id)),
        ("status", {
            let mut s = format!("{} (version {})", r.status.as_str(), r.version);
            if r.status != crate::wire::Status::Pending {
                s = format!("{s}: {}", line(&describe(r, now)));
            }
            s
        }),
        ("from", line(&r.from_partner)),
        ("to", line(&r.to_partner)),
        ("company", line(&r.lead.company)),
    ];
    if let Some(d) = opt(&r.lead.domain) {
        rows.push(("domain", d));
    }
    if r.contact_masked {
        rows.push(("contact", "(masked)".to_owned()));
    } else {
        let parts: Vec<String> = [
            &r.lead.contact_name,
            &r.lead.contact_email,
            &r.lead.contact_phone,
        ]
        .into_iter()
        .filter_map(opt)
        .collect();
        if !parts.is_empty() {
            rows.push(("contact", parts.join(", ")));
        }
    }
    rows.push(("category", line(&r.lead.category)));
    if let Some(region) = &r.lead.region {
        rows.push(("region", line(region)));
    }
    let value = money(r.lead.est_value_cents, &r.lead.currency);
    if !value.is_empty() {
        rows.push(("value", value));
    }
    rows.push(("commission", format!("{}%", r.commission_pct)));
    if let Some(summary) = &r.lead.summary {
        rows.push(("summary", indented(summary, INDENT)));
    }
    if let Some(note) = &r.note {
        rows.push(("note", indented(note, INDENT)));
    }
    if let Some(note) = &r.decision_note {
        rows.push(("decision note", indented(note, INDENT)));
    }
    if let Some(reason) = &r.reason {
        let mut s = reason.code.as_str().to_owned();
        if let Some(note) = &reason.note {
            s = format!("{s}: {}", indented(note, INDENT));
        }
        rows.push(("reason", s));
    }
    if let Some(outcome) = &r.outcome {
        let mut s = money(outcome.value_cents, &r.lead.currency);
        if let Some(note) = &outcome.note {
            s = format!("{s} {}", indented(note, INDENT)).trim().to_owned();
        }
        rows.push(("outcome", s));
    }
    rows.push(("created", format_timestamp(&r.created_at)));
    rows.push(("updated", format_timestamp(&r.updated_at)));
    let left = expires_in(r, now);
    rows.push((
        "expires",
        if left.is_empty() {
            format_timestamp(&r.expires_at)
        } else {
            format!("{} (in {left})", format_timestamp(&r.expires_at))
        },
    ));
    let chain: Vec<String> = r.chain.iter().map(|p| line(p)).collect();
    rows.push(("chain", chain.join(" → ")));
    if let Some(p) = opt(&r.parent_id) {
        rows.push(("forwarded from", p));
    }
    if let Some(c) = opt(&r.forwarded_to) {
        rows.push(("forwarded to", c));
    }
    for (label, value) in rows {
        writeln!(
            out,
            "{:<width$}{value}",
            format!("{label}:"),
            width = INDENT.len()
        )?;
    }
    Ok(())
}
