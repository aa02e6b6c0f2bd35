//! `leadx watch [--query Q] [--format line|json]`: prints every change to
//! the caller's referrals as it happens, one per line, until SIGINT or
//! SIGTERM.
//!
//! It lists first (remembering each referral's version), then follows the
//! feed from the list's `as_of`. The feed resumes across disconnects with
//! `Last-Event-ID`; an event is printed only if its version is higher than
//! the one held, so a replayed event is never printed twice. When the
//! server no longer holds events that far back (410), it lists again,
//! prints every referral that changed meanwhile, and follows from the new
//! `as_of`: no gaps, no repeats.
//!
//! With `--query`, a change that takes a referral out of the query (a
//! pending lead rejected under `status:pending`) is printed once, marked
//! as leaving: `(leaves the query)` at the end of the line, or
//! `"leaves_query": true` in JSON. Later changes to it stay hidden until it
//! matches again.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::time::Duration;

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::output::write_json;
use super::select::Selector;
use super::{ConnectArgs, EXIT_OK, Failure, LIST_PAGE, client_failure, connect, read};
use crate::client::{Backoff, Client, FeedEvent, FeedHandle, FeedOptions, watch};
use crate::domain::rules::describe;
use crate::sanitize::clean_line;
use crate::wire::{Referral, ReferralBox, Status, Timestamp, format_timestamp, now_seconds};

/// How `watch` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WatchFormat {
    /// One readable line per change.
    Line,
    /// One JSON object per line: `{"seq": N, "referral": {...}}`.
    Json,
}

/// `leadx watch`.
#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// Only changes to referrals that match this query.
    #[arg(long, short = 'q', value_name = "QUERY", allow_hyphen_values = true)]
    pub query: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "line")]
    pub format: WatchFormat,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// One printed change in JSON form.
#[derive(Serialize)]
struct JsonEvent<'a> {
    /// The event's sequence number (null for a change found by listing
    /// again after the server dropped old events).
    seq: Option<u64>,
    referral: &'a Referral,
    /// Present (true) when this change takes the referral out of the query.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    leaves_query: bool,
}

/// The highest version seen of each referral.
#[derive(Debug, Default)]
pub(super) struct Versions(HashMap<String, u64>);

impl Versions {
    /// Records `r`; true when it is newer than anything held.
    pub(super) fn offer(&mut self, r: &Referral) -> bool {
        match self.0.get_mut(&r.id) {
            Some(v) if *v >= r.version => false,
            Some(v) => {
                *v = r.version;
                true
            }
            None => {
                self.0.insert(r.id.clone(), r.version);
                true
            }
        }
    }
}

struct Printer {
    format: WatchFormat,
    selector: Option<Selector>,
    /// With a query: the referrals that matched it when last seen, so a
    /// change that takes one out is reported.
    inside: HashSet<String>,
}

impl Printer {
    fn new(format: WatchFormat, selector: Option<Selector>, listed: &[Referral]) -> Self {
        let now = now_seconds();
        let inside = match &selector {
            Some(s) => listed
                .iter()
                .filter(|r| s.matches(r, now))
                .map(|r| r.id.clone())
                .collect(),
            None => HashSet::new(),
        };
        Self {
            format,
            selector,
            inside,
        }
    }

    fn print(&mut self, seq: Option<u64>, r: &Referral) -> Result<(), Failure> {
        let now = now_seconds();
        let mut leaves_query = false;
        if let Some(s) = &self.selector {
            if s.matches(r, now) {
                self.inside.insert(r.id.clone());
            } else if self.inside.remove(&r.id) {
                leaves_query = true;
            } else {
                return Ok(());
            }
        }
        let mut out = io::stdout().lock();
        match self.format {
            WatchFormat::Json => {
                let event = JsonEvent {
                    seq,
                    referral: r,
                    leaves_query,
                };
                write_json(&mut out, &event)?;
                writeln!(out)?;
            }
            WatchFormat::Line if leaves_query => {
                writeln!(out, "{}  {LEAVES}", event_line(r, now))?;
            }
            WatchFormat::Line => writeln!(out, "{}", event_line(r, now))?,
        }
        out.flush()?;
        Ok(())
    }
}

/// How a line says its change took the referral out of the query.
const LEAVES: &str = "(leaves the query)";

/// `2026-11-26T09:14:03Z  r_...  v2  accepted  northwind-net → acme-web  Main Street Bakery  (accepted by Dana Reyes (acme-web) at 09:14)`.
pub(super) fn event_line(r: &Referral, now: Timestamp) -> String {
    let mut line = format!(
        "{}  {}  v{}  {}  {} → {}  {}",
        format_timestamp(&r.updated_at),
        clean_line(&r.id),
        r.version,
        r.status.as_str(),
        clean_line(&r.from_partner),
        clean_line(&r.to_partner),
        clean_line(&r.lead.company),
    );
    if r.status == Status::Pending {
        if r.version == 1 {
            line.push_str("  (new)");
        }
    } else {
        line.push_str(&format!("  ({})", clean_line(&describe(r, now))));
    }
    line
}

pub(super) async fn run(args: WatchArgs) -> Result<u8, Failure> {
    let selector = args.query.as_deref().map(Selector::parse).transpose()?;
    let client = connect(&args.connect)?;
    let (items, as_of) = read(|| client.list_all_with(ReferralBox::All, &[], LIST_PAGE))
        .await
        .map_err(|e| client_failure("watch", &e))?;
    let mut versions = Versions::default();
    for r in &items {
        versions.offer(r);
    }
    let mut printer = Printer::new(args.format, selector, &items);
    let stop = crate::cli::wait_for_stop_signal();
    tokio::pin!(stop);
    let mut feed = watch(client.clone(), as_of, FeedOptions::default());
    let mut announced = false;
    let mut down = false;
    loop {
        let event = tokio::select! {
            () = &mut stop => return Ok(EXIT_OK),
            ev = feed.recv() => ev,
        };
        match event {
            Some(FeedEvent::Event { seq, referral }) => {
                if versions.offer(&referral) {
                    printer.print(Some(seq), &referral)?;
                }
            }
            Some(FeedEvent::Connected) => {
                if !announced {
                    say_err!(
                        "leadx: watching {} referrals from event {as_of}",
                        items.len()
                    );
                    announced = true;
                } else if down {
                    say_err!(
                        "leadx: feed back on {}, from event {}",
                        clean_line(&crate::client::server_label(client.base_url())),
                        feed.last_seq()
                    );
                }
                down = false;
            }
            Some(FeedEvent::Disconnected { reason, retry_in }) => {
                if !down {
                    say_err!(
                        "leadx: feed disconnected ({}); reconnecting in {:.1}s",
                        clean_line(&reason),
                        retry_in.as_secs_f64()
                    );
                }
                down = true;
            }
            Some(FeedEvent::Stale) => {
                say_err!("leadx: feed silent for too long; reconnecting");
            }
            Some(FeedEvent::Gone) | None => {
                say_err!("leadx: the server dropped events this far back; listing again");
                let relisted = tokio::select! {
                    () = &mut stop => return Ok(EXIT_OK),
                    r = relist(&client) => r,
                };
                let (fresh, fresh_as_of) = relisted;
                for r in &fresh {
                    if versions.offer(r) {
                        printer.print(None, r)?;
                    }
                }
                feed = restart(&client, fresh_as_of);
            }
        }
    }
}

/// Lists everything again, retrying (with backoff) until it works.
async fn relist(client: &Client) -> (Vec<Referral>, u64) {
    let backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
    let mut attempt = 0;
    loop {
        attempt += 1;
        match client.list_all_with(ReferralBox::All, &[], LIST_PAGE).await {
            Ok(listed) => return listed,
            Err(e) => {
                let wait = backoff.delay_after(attempt, &e);
                say_err!(
                    "leadx: listing again failed ({}); retrying in {:.1}s",
                    clean_line(&e.to_string()),
                    wait.as_secs_f64()
                );
                tokio::time::sleep(wait).await;
            }
        }
    }
}

fn restart(client: &Client, after: u64) -> FeedHandle {
    watch(client.clone(), after, FeedOptions::default())
}

#[cfg(test)]
mod tests {
    use super::Versions;
    use crate::wire::{Lead, Referral, Status, now_seconds};

    fn referral(id: &str, version: u64) -> Referral {
        let now = now_seconds();
        Referral {
            id: id.into(),
            version,
            status: Status::Pending,
            from_partner: "a".into(),
            to_partner: "b".into(),
            lead: Lead {
                company: "C".into(),
                domain: None,
                contact_name: None,
                contact_email: None,
                contact_phone: None,
                category: "hosting".into(),
                summary: None,
                est_value_cents: None,
                currency: "USD".into(),
                region: None,
            },
            contact_masked: true,
            commission_pct: 0,
            note: None,
            decision_note: None,
            created_at: now,
            updated_at: now,
            expires_at: now,
            decided_at: None,
            decided_by: None,
            reason: None,
            outcome: None,
            parent_id: None,
            forwarded_to: None,
            chain: ["a".into(), "b".into()].into(),
        }
    }

    #[test]
    fn only_newer_versions_pass() {
        let mut v = Versions::default();
        assert!(v.offer(&referral("r_1", 1)));
        assert!(!v.offer(&referral("r_1", 1)), "a replay is not new");
        assert!(v.offer(&referral("r_1", 3)));
        assert!(!v.offer(&referral("r_1", 2)), "an older version is not new");
        assert!(v.offer(&referral("r_2", 1)));
    }

    #[test]
    fn event_line_is_clean() {
        let mut r = referral("r_1", 1);
        r.lead.company = "Evil\u{1b}]52;c;AAAA\u{7}Co\u{202e}".into();
        let line = super::event_line(&r, now_seconds());
        assert!(!line.chars().any(crate::sanitize::is_forbidden), "{line:?}");
        assert!(
            line.contains("r_1  v1  pending  a → b  Evil␛Co�  (new)"),
            "{line:?}"
        );
    }
}
