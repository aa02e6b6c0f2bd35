//! `leadx accept|reject|forward|withdraw (ID... | --query Q) [--reason CODE]
//! [--to PARTNER] [--note TEXT] [--dry-run] [--yes]`.
//!
//! The referrals are read first (for their versions), then acted on through
//! `POST /v1/referrals/batch` in chunks of at most 500, each chunk with its
//! own idempotency key, reused while network errors, 5xx and 429 are
//! retried with backoff, so a chunk never applies twice. Each item's
//! outcome is printed (`r_... accepted`, `r_... conflict: accepted by Dana
//! Reyes (acme-web) at 10:42`), then a summary (`197 applied · 3 conflict ·
//! 1 not found`).

use std::io::{self, Write};
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::output::{Lenient, money, write_json};
use super::plan::{Plan, box_for, check_partner, plan_ids, plan_query};
use super::report::{Report, Tally};
use super::select::Selector;
use super::{ConnectArgs, EXIT_OK, EXIT_REFUSED, Failure, client_failure, connect_to_act};
use crate::client::{
    Backoff, Client, ClientError, new_idempotency_key, retry_until_definite_or_cancelled,
};
use crate::domain::rules::{already_done_by, describe, status_after};
use crate::sanitize::clean_line;
use crate::wire::{
    AcceptRequest, ActionKind, BatchAction, BatchItem, BatchOutcome, BatchRequest, BatchResult,
    ForwardRequest, MAX_BATCH_ITEMS, ReasonCode, ReasonInput, Referral, RejectRequest, Status,
    Timestamp, WithdrawRequest, now_seconds,
};

/// How long a batch is retried when `--retry-for` is not given.
const DEFAULT_BATCH_RETRY_SECS: u64 = 120;

/// `leadx accept|reject|forward|withdraw`.
#[derive(Debug, Clone, Args)]
pub struct ActArgs {
    /// The referrals to act on (`r_...`).
    #[arg(
        value_name = "ID",
        required_unless_present = "query",
        conflicts_with = "query"
    )]
    pub ids: Vec<String>,
    /// Act on the caller's referrals that match this query and that the
    /// action applies to (pending incoming; pending outgoing for withdraw).
    /// Acts only with --yes.
    #[arg(long, short = 'q', value_name = "QUERY", allow_hyphen_values = true)]
    pub query: Option<String>,
    /// reject: unclear_need, unable_to_support, duplicate, wrong_partner or
    /// other (other needs --note).
    #[arg(long, value_name = "CODE")]
    pub reason: Option<String>,
    /// forward: the partner to forward to.
    #[arg(long, value_name = "PARTNER")]
    pub to: Option<String>,
    /// A note with the decision (accept, reject, forward).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Print what would be done and do nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Act on what --query selects (without it, --query only shows the plan).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Output: a line per referral and a summary (text), or one JSON array
    /// of the per-item results (json; with --dry-run, of the referrals).
    #[arg(long, value_enum, default_value = "text")]
    pub format: ActFormat,
    /// How long to keep retrying when the server does not answer: given,
    /// it covers the first read of the referrals as well as each batch;
    /// not given, the read is tried 3 times and each batch for 120 s.
    #[arg(long, value_name = "SECS")]
    pub retry_for: Option<u64>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// How `accept|reject|forward|withdraw` print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ActFormat {
    /// `r_... accepted` lines and a summary.
    Text,
    /// One JSON array of the batch results.
    Json,
}

/// What one item does besides its version.
#[derive(Debug, Clone)]
enum Verb {
    Accept {
        note: Option<String>,
    },
    Reject {
        code: ReasonCode,
        note: Option<String>,
    },
    Forward {
        to: String,
        note: Option<String>,
    },
    Withdraw,
}

impl Verb {
    /// Checks the flags against the action.
    fn from_args(kind: ActionKind, args: &ActArgs) -> Result<Self, Failure> {
        let name = kind.as_str();
        if args.reason.is_some() && kind != ActionKind::Reject {
            return Err(Failure::usage(format!(
                "{name} takes no --reason (reject does)"
            )));
        }
        if args.to.is_some() && kind != ActionKind::Forward {
            return Err(Failure::usage(format!(
                "{name} takes no --to (forward does)"
            )));
        }
        let note = args.note.clone().filter(|n| !n.trim().is_empty());
        match kind {
            ActionKind::Accept => Ok(Verb::Accept { note }),
            ActionKind::Reject => {
                let codes: Vec<&str> = ReasonCode::ALL.iter().map(|c| c.as_str()).collect();
                let Some(text) = &args.reason else {
                    return Err(Failure::usage(format!(
                        "reject needs --reason CODE, one of {}",
                        codes.join(", ")
                    )));
                };
                let Some(code) = ReasonCode::parse(text) else {
                    return Err(Failure::usage(format!(
                        "--reason {}: expected one of {}",
                        clean_line(text),
                        codes.join(", ")
                    )));
                };
                if code == ReasonCode::Other && note.is_none() {
                    return Err(Failure::usage("--reason other needs --note TEXT"));
                }
                Ok(Verb::Reject { code, note })
            }
            ActionKind::Forward => match &args.to {
                Some(to) if !to.trim().is_empty() => Ok(Verb::Forward {
                    to: to.trim().to_owned(),
                    note,
                }),
                _ => Err(Failure::usage("forward needs --to PARTNER")),
            },
            ActionKind::Withdraw => {
                if args.note.is_some() {
                    return Err(Failure::usage("withdraw takes no --note"));
                }
                Ok(Verb::Withdraw)
            }
            ActionKind::Close => Err(Failure::usage("close is not a headless command")),
        }
    }

    /// The batch item for referral `id` at `version`.
    fn item(&self, id: &str, version: u64) -> BatchItem {
        let action = match self {
            Verb::Accept { note } => BatchAction::Accept(AcceptRequest {
                version,
                note: note.clone(),
            }),
            Verb::Reject { code, note } => BatchAction::Reject(RejectRequest {
                version,
                reason: ReasonInput {
                    code: *code,
                    note: note.clone(),
                },
            }),
            Verb::Forward { to, note } => BatchAction::Forward(ForwardRequest {
                version,
                to_partner: to.clone(),
                note: note.clone(),
                commission_pct: None,
                expires_in_hours: None,
            }),
            Verb::Withdraw => BatchAction::Withdraw(WithdrawRequest { version }),
        };
        BatchItem {
            id: id.to_owned(),
            action,
        }
    }
}

pub(super) async fn run(kind: ActionKind, args: ActArgs) -> Result<u8, Failure> {
    let verb = Verb::from_args(kind, &args)?;
    let selector = args.query.as_deref().map(Selector::parse).transpose()?;
    let client = connect_to_act(&args.connect, kind.as_str())?;
    if kind == ActionKind::Forward
        && let Some(to) = &args.to
    {
        check_partner(&client, to.trim(), args.retry_for).await?;
    }
    let now = now_seconds();
    let mut plan = match &selector {
        Some(s) => plan_query(&client, kind, s, now, args.retry_for).await?,
        None => plan_ids(&client, &args.ids, args.retry_for).await?,
    };
    let mut me = Me::default();
    let already = done_already(&client, kind, &mut plan, &mut me, args.retry_for).await?;
    // Once acting has begun, a closed stdout must not stop it or turn
    // its exit status into success.
    let stdout = io::stdout();
    let mut out = Lenient::new(stdout.lock());
    let from_query = selector.is_some();
    if args.dry_run || (from_query && !args.yes) {
        match args.format {
            ActFormat::Text => write_plan(&mut out, kind, &verb, &plan, now)?,
            ActFormat::Json => {
                write_json(&mut out, &plan.targets)?;
                writeln!(out)?;
            }
        }
        out.flush()?;
        if args.dry_run || plan.targets.is_empty() {
            return Ok(EXIT_OK);
        }
        drop(out);
        return Err(Failure::refused(format!(
            "nothing done: add --yes to {} these {} referrals (or --dry-run to only see the plan)",
            kind.as_str(),
            plan.targets.len()
        )));
    }
    let mut report = Report {
        out,
        format: args.format,
        kind,
        now,
        tally: Tally::default(),
        results: Vec::new(),
    };
    if plan.skipped > 0 {
        report.note(&format!(
            "({} skipped: not pending {})",
            plan.skipped,
            box_for(kind).as_str()
        ))?;
    }
    for missing in plan.missing {
        report.item(missing)?;
    }
    for referral in already {
        report.already(referral)?;
    }
    report.out.flush()?;
    let items: Vec<BatchItem> = plan
        .targets
        .iter()
        .map(|r| verb.item(&r.id, r.version))
        .collect();
    let chunks: Vec<&[BatchItem]> = items.chunks(MAX_BATCH_ITEMS).collect();
    let retry_for = Duration::from_secs(args.retry_for.unwrap_or(DEFAULT_BATCH_RETRY_SECS));
    for (n, chunk) in chunks.iter().enumerate() {
        let results = match send_chunk(&client, chunk, n + 1, chunks.len(), retry_for).await {
            Ok(r) => r,
            Err(e) => {
                let unsent: usize = chunks[n..].iter().map(|c| c.len()).sum();
                report.tally.not_sent += unsent;
                report.finish()?;
                let context = format!(
                    "batch {} of {} ({} referrals not sent{})",
                    n + 1,
                    chunks.len(),
                    unsent,
                    if e.is_definite() {
                        ""
                    } else {
                        "; the server may have acted on this chunk"
                    }
                );
                return Err(client_failure(&context, &e));
            }
        };
        for result in results {
            // A conflict whose current state is what this user asked for
            // (an earlier run's answer lost, or two runs at once) is done.
            let mine = match result.error.as_ref().and_then(|e| e.current.as_deref()) {
                Some(current) if result.outcome == BatchOutcome::Conflict => {
                    let user = me.id(&client, args.retry_for).await?;
                    already_done_by(kind, current, user).then(|| current.clone())
                }
                _ => None,
            };
            match mine {
                Some(current) => report.already(current)?,
                None => report.item(result)?,
            }
        }
        report.out.flush()?;
    }
    report.finish()?;
    Ok(if report.tally.all_applied() {
        EXIT_OK
    } else {
        EXIT_REFUSED
    })
}

/// The caller's user id, read once when first needed.
#[derive(Default)]
struct Me(Option<String>);

impl Me {
    async fn id(&mut self, client: &Client, retry_for: Option<u64>) -> Result<&str, Failure> {
        if self.0.is_none() {
            let me = super::read_within(retry_for, || client.me())
                .await
                .map_err(|e| client_failure("reading who you are", &e))?;
            self.0 = Some(me.user.id.to_string());
        }
        Ok(self.0.as_deref().unwrap_or_default())
    }
}

/// Takes out of the plan the referrals the caller had already made what
/// `kind` asks (the domain's [`already_done_by`]), so that re-running an
/// accept, reject or withdraw is done, not a conflict; returns them.
async fn done_already(
    client: &Client,
    kind: ActionKind,
    plan: &mut Plan,
    me: &mut Me,
    retry_for: Option<u64>,
) -> Result<Vec<Referral>, Failure> {
    let Some(done) = status_after(kind) else {
        return Ok(Vec::new());
    };
    if !plan.targets.iter().any(|r| r.status == done) {
        return Ok(Vec::new());
    }
    let user = me.id(client, retry_for).await?;
    let (mine, rest): (Vec<Referral>, Vec<Referral>) = std::mem::take(&mut plan.targets)
        .into_iter()
        .partition(|r| already_done_by(kind, r, user));
    plan.targets = rest;
    Ok(mine)
}

/// Sends one chunk with one idempotency key until the server gives a
/// definite answer (or `retry_for` has passed).
async fn send_chunk(
    client: &Client,
    chunk: &[BatchItem],
    n: usize,
    of: usize,
    retry_for: Duration,
) -> Result<Vec<BatchResult>, ClientError> {
    let request = BatchRequest {
        items: chunk.to_vec(),
    };
    let key = new_idempotency_key();
    let response = retry_until_definite_or_cancelled(
        Backoff::default(),
        tokio::time::sleep(retry_for),
        || client.batch(&request, &key),
        |attempt, error, wait| {
            say_err!(
                "leadx: batch {n} of {of}, attempt {attempt}: {}; retrying in {:.1}s",
                clean_line(&error.to_string()),
                wait.as_secs_f64()
            );
        },
    )
    .await?;
    let ids_match = response.results.len() == chunk.len()
        && response
            .results
            .iter()
            .zip(chunk)
            .all(|(r, item)| r.id == item.id);
    if !ids_match {
        return Err(ClientError::Decode(format!(
            "the batch answer does not match the {} items sent",
            chunk.len()
        )));
    }
    Ok(response.results)
}

/// `r_... accepted`, `r_... conflict: accepted by Dana Reyes (acme-web) at 10:42`.
pub(super) fn outcome_line(kind: ActionKind, result: &BatchResult, now: Timestamp) -> String {
    let id = clean_line(&result.id);
    let message = || {
        result
            .error
            .as_ref()
            .map(|e| clean_line(&e.message))
            .filter(|m| !m.is_empty())
    };
    match result.outcome {
        BatchOutcome::Applied => {
            let past = match kind {
                ActionKind::Accept => "accepted".to_owned(),
                ActionKind::Reject => {
                    match result.referral.as_ref().and_then(|r| r.reason.as_ref()) {
                        Some(reason) => format!("rejected ({})", reason.code.as_str()),
                        None => "rejected".to_owned(),
                    }
                }
                ActionKind::Forward => match &result.forwarded {
                    Some(child) => format!(
                        "forwarded to {} as {}",
                        clean_line(&child.to_partner),
                        clean_line(&child.id)
                    ),
                    None => "forwarded".to_owned(),
                },
                ActionKind::Withdraw => "withdrawn".to_owned(),
                ActionKind::Close => "closed".to_owned(),
            };
            format!("{id} {past}")
        }
        BatchOutcome::Conflict => {
            let why = result
                .error
                .as_ref()
                .and_then(|e| e.current.as_deref())
                .map(|cur| clean_line(&describe(cur, now)))
                .or_else(message)
                .unwrap_or_else(|| "changed meanwhile".to_owned());
            format!("{id} conflict: {why}")
        }
        BatchOutcome::NotFound => format!("{id} not found"),
        BatchOutcome::Invalid => match message() {
            Some(m) => format!("{id} invalid: {m}"),
            None => format!("{id} invalid"),
        },
        BatchOutcome::Forbidden => match message() {
            Some(m) => format!("{id} forbidden: {m}"),
            None => format!("{id} forbidden"),
        },
    }
}

/// `would accept 3 referrals:` then one line each, and what is skipped.
fn write_plan(
    out: &mut dyn Write,
    kind: ActionKind,
    verb: &Verb,
    plan: &Plan,
    now: Timestamp,
) -> io::Result<()> {
    let n = plan.targets.len();
    let what = match verb {
        Verb::Accept { .. } | Verb::Withdraw => String::new(),
        Verb::Reject { code, .. } => format!(" ({})", code.as_str()),
        Verb::Forward { to, .. } => format!(" to {}", clean_line(to)),
    };
    writeln!(
        out,
        "would {} {n} referral{}{what}{}",
        kind.as_str(),
        if n == 1 { "" } else { "s" },
        if n == 0 { "" } else { ":" }
    )?;
    for r in &plan.targets {
        let mut line = format!(
            "  {}  {}  {} → {}  {}",
            clean_line(&r.id),
            r.status.as_str(),
            clean_line(&r.from_partner),
            clean_line(&r.to_partner),
            clean_line(&r.lead.company),
        );
        let value = money(r.lead.est_value_cents, &r.lead.currency);
        if !value.is_empty() {
            line.push_str("  ");
            line.push_str(&value);
        }
        if r.status != Status::Pending {
            line.push_str(&format!("  (now {})", clean_line(&describe(r, now))));
        }
        writeln!(out, "{line}")?;
    }
    for result in &plan.missing {
        writeln!(out, "  {}", outcome_line(kind, result, now))?;
    }
    if plan.skipped > 0 {
        writeln!(
            out,
            "({} skipped: not pending {})",
            plan.skipped,
            box_for(kind).as_str()
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::EXIT_USAGE;
    use super::*;

    #[test]
    fn tally_line_names_only_what_happened() {
        let mut t = Tally::default();
        for _ in 0..197 {
            t.count(BatchOutcome::Applied);
        }
        for _ in 0..3 {
            t.count(BatchOutcome::Conflict);
        }
        t.count(BatchOutcome::NotFound);
        assert_eq!(t.line(), "197 applied · 3 conflict · 1 not found");
        assert!(!t.all_applied());
        let mut ok = Tally::default();
        ok.count(BatchOutcome::Applied);
        assert_eq!(ok.line(), "1 applied");
        assert!(ok.all_applied());
        assert_eq!(Tally::default().line(), "0 applied");
    }

    fn args() -> ActArgs {
        ActArgs {
            ids: vec!["r_1".into()],
            query: None,
            reason: None,
            to: None,
            note: None,
            dry_run: false,
            yes: false,
            format: ActFormat::Text,
            retry_for: Some(1),
            connect: ConnectArgs::default(),
        }
    }

    #[test]
    fn flags_are_checked_against_the_action() {
        let usage = |r: Result<Verb, Failure>| match r {
            Err(Failure::Message { code, message }) => {
                assert_eq!(code, EXIT_USAGE);
                message
            }
            other => panic!("expected a usage error, got {other:?}"),
        };
        let m = usage(Verb::from_args(ActionKind::Reject, &args()));
        assert!(
            m.contains("--reason") && m.contains("unable_to_support"),
            "{m}"
        );
        let m = usage(Verb::from_args(
            ActionKind::Reject,
            &ActArgs {
                reason: Some("meh".into()),
                ..args()
            },
        ));
        assert!(m.contains("expected one of"), "{m}");
        let m = usage(Verb::from_args(
            ActionKind::Reject,
            &ActArgs {
                reason: Some("other".into()),
                ..args()
            },
        ));
        assert!(m.contains("--note"), "{m}");
        usage(Verb::from_args(ActionKind::Forward, &args()));
        usage(Verb::from_args(
            ActionKind::Accept,
            &ActArgs {
                to: Some("x".into()),
                ..args()
            },
        ));
        assert!(matches!(
            Verb::from_args(
                ActionKind::Reject,
                &ActArgs {
                    reason: Some("duplicate".into()),
                    ..args()
                }
            ),
            Ok(Verb::Reject {
                code: ReasonCode::Duplicate,
                note: None
            })
        ));
    }

    #[test]
    fn items_carry_the_action_fields() {
        let v = Verb::Forward {
            to: "harbor-host".into(),
            note: Some("yours".into()),
        };
        let json = serde_json::to_value(v.item("r_1", 3)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": "r_1", "action": "forward", "version": 3,
                "to_partner": "harbor-host", "note": "yours"})
        );
        let json = serde_json::to_value(Verb::Withdraw.item("r_2", 1)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": "r_2", "action": "withdraw", "version": 1})
        );
    }
}
