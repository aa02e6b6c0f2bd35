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
//!
//! - `args.rs`: the flags ([`ActArgs`]) and what each item asks for;
//! - `print.rs`: each outcome's line and the `--dry-run` plan.

use std::io::{self, Write};
use std::time::Duration;

use super::output::{Lenient, write_json};
use super::plan::{Plan, box_for, check_partner, plan_ids, plan_query};
use super::report::{Report, Tally};
use super::select::Selector;
use super::{EXIT_OK, EXIT_REFUSED, Failure, client_failure, connect_to_act};
use crate::client::{
    Backoff, Client, ClientError, new_idempotency_key, retry_until_definite_or_cancelled,
};
use crate::domain::rules::{already_done_by, status_after};
use crate::sanitize::clean_line;
use crate::wire::{
    ActionKind, BatchItem, BatchOutcome, BatchRequest, BatchResult, MAX_BATCH_ITEMS, Referral,
    now_seconds,
};

mod args;
mod print;

use args::Verb;
pub use args::{ActArgs, ActFormat};
pub(super) use print::outcome_line;
use print::write_plan;

/// How long a batch is retried when `--retry-for` is not given.
const DEFAULT_BATCH_RETRY_SECS: u64 = 120;

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
