//! How `accept|reject|forward|withdraw` report: a line per referral and
//! a summary of the counts (text), or one JSON array of the results.

use std::io::{self, Write};

use super::act::{ActFormat, outcome_line};
use super::output::write_json;
use crate::sanitize::clean_line;
use crate::wire::{ActionKind, BatchOutcome, BatchResult, Referral, Timestamp};

/// Outcome counts, including items that never reached the batch.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tally {
    applied: usize,
    conflict: usize,
    not_found: usize,
    invalid: usize,
    forbidden: usize,
    pub(super) not_sent: usize,
    /// Already done by the caller before (re-running an accept, reject or
    /// withdraw).
    already: usize,
}

impl Tally {
    pub(super) fn count(&mut self, outcome: BatchOutcome) {
        match outcome {
            BatchOutcome::Applied => self.applied += 1,
            BatchOutcome::Conflict => self.conflict += 1,
            BatchOutcome::NotFound => self.not_found += 1,
            BatchOutcome::Invalid => self.invalid += 1,
            BatchOutcome::Forbidden => self.forbidden += 1,
        }
    }

    pub(super) fn all_applied(&self) -> bool {
        self.conflict + self.not_found + self.invalid + self.forbidden + self.not_sent == 0
    }

    /// `197 applied · 3 conflict · 1 not found` (zero counts left out,
    /// but for `applied`).
    pub(super) fn line(&self) -> String {
        let mut parts = vec![format!("{} applied", self.applied)];
        for (n, label) in [
            (self.already, "already done by you"),
            (self.conflict, "conflict"),
            (self.not_found, "not found"),
            (self.invalid, "invalid"),
            (self.forbidden, "forbidden"),
            (self.not_sent, "not sent"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {label}"));
            }
        }
        parts.join(" · ")
    }
}

/// Where outcomes go: a line each and a summary (text), or one JSON array
/// of the per-item results at the end (json).
pub(super) struct Report<W: Write> {
    pub(super) out: W,
    pub(super) format: ActFormat,
    pub(super) kind: ActionKind,
    pub(super) now: Timestamp,
    pub(super) tally: Tally,
    pub(super) results: Vec<BatchResult>,
}

impl<W: Write> Report<W> {
    pub(super) fn item(&mut self, result: BatchResult) -> io::Result<()> {
        self.tally.count(result.outcome);
        match self.format {
            ActFormat::Text => {
                writeln!(self.out, "{}", outcome_line(self.kind, &result, self.now))?;
            }
            ActFormat::Json => self.results.push(result),
        }
        Ok(())
    }

    /// A referral the caller had already made what it asks again
    /// (`r_... already accepted by you`): done, not a conflict.
    pub(super) fn already(&mut self, referral: Referral) -> io::Result<()> {
        self.tally.already += 1;
        match self.format {
            ActFormat::Text => writeln!(
                self.out,
                "{} already {} by you",
                clean_line(&referral.id),
                referral.status.as_str()
            ),
            ActFormat::Json => {
                self.results.push(BatchResult {
                    id: referral.id.clone(),
                    outcome: BatchOutcome::Applied,
                    referral: Some(referral),
                    forwarded: None,
                    error: None,
                });
                Ok(())
            }
        }
    }

    pub(super) fn note(&mut self, line: &str) -> io::Result<()> {
        match self.format {
            ActFormat::Text => writeln!(self.out, "{line}"),
            // JSON keeps stdout one array; notes go to stderr.
            ActFormat::Json => {
                say_err!("leadx: {line}");
                Ok(())
            }
        }
    }

    pub(super) fn finish(&mut self) -> io::Result<()> {
        match self.format {
            ActFormat::Text => writeln!(self.out, "{}", self.tally.line())?,
            ActFormat::Json => {
                write_json(&mut self.out, &self.results)?;
                writeln!(self.out)?;
            }
        }
        self.out.flush()
    }
}
