//! Batch actions on the marked referrals: plan (what applies, what is
//! skipped), confirm, the undo window, chunks, per-item results.

use std::collections::BTreeMap;

use crate::inbox::update::{actions::*, rows::*, shared::*};
use crate::wire::{ActionKind, BatchItem, BatchOutcome, Timestamp};

mod plan;
mod results;
mod send;
mod single;
pub use plan::*;
pub use results::*;
pub use send::*;
pub(crate) use single::*;

/// Most items in one `POST /v1/referrals/batch`.
pub const CHUNK: usize = 500;

/// Where a batch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchPhase {
    /// Waiting for `y` / `n`.
    Confirm,
    /// Confirmed; sent at `until` unless `u` cancels it first.
    Undo {
        /// When the window closes (pushed back while a popup is open).
        until: Timestamp,
        /// The clock when the window was last looked at: the time since
        /// then does not count if a popup was open.
        seen: Timestamp,
    },
    /// Chunks sent, some not answered yet.
    Sending,
    /// Every chunk answered: the results are in.
    Done,
}

/// One chunk of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Its idempotency key, reused on every retry.
    pub key: String,
    /// Its items.
    pub items: Vec<BatchItem>,
    /// Answered.
    pub done: bool,
    /// Some attempt failed without an answer: it is queued and retried.
    pub unsent: bool,
}

/// One referral's outcome in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemResult {
    /// The referral.
    pub id: String,
    /// Its company (for the results view).
    pub company: String,
    /// What happened.
    pub outcome: BatchOutcome,
    /// Why it failed ("accepted by Dana (acme-web) at 10:42").
    pub reason: Option<String>,
}

/// A batch action on the marked referrals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Its number.
    pub id: u64,
    /// The action.
    pub kind: ActionKind,
    /// Words for the confirmation (`to hostly`, `as duplicate`).
    pub detail: String,
    /// Every item to send, in view order.
    pub items: Vec<BatchItem>,
    /// Companies of the items, by id.
    pub companies: BTreeMap<String, String>,
    /// Marked referrals the action does not apply to: `(id, why)`.
    pub skipped: Vec<(String, &'static str)>,
    /// Where it is.
    pub phase: BatchPhase,
    /// Once sent: the chunks.
    pub chunks: Vec<Chunk>,
    /// Per-item outcomes, as they arrive.
    pub results: Vec<ItemResult>,
    /// A single action on the cursor row held in the undo window (`a`,
    /// `w`, and `r`/`f` after their popups): what the status bar says when
    /// it is sent. It is then sent as that one action, not as a batch.
    pub single: Option<String>,
}

impl Batch {
    /// `Accept 214 referrals (3 skipped: not pending)?`
    pub fn question(&self) -> String {
        let n = self.items.len();
        let detail = if self.detail.is_empty() {
            String::new()
        } else {
            format!(" {}", self.detail)
        };
        format!(
            "{} {n} referral{}{detail}{}?",
            capitalized(self.kind.as_str()),
            plural(n),
            self.skipped_words()
        )
    }

    /// ` (3 skipped: not pending)`, or `` when nothing is skipped.
    pub fn skipped_words(&self) -> String {
        if self.skipped.is_empty() {
            return String::new();
        }
        let mut why: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, w) in &self.skipped {
            *why.entry(w).or_default() += 1;
        }
        let n = self.skipped.len();
        if why.len() == 1 {
            let w = why.keys().next().expect("one reason");
            format!(" ({n} skipped: {w})")
        } else {
            let parts: Vec<String> = why.iter().map(|(w, k)| format!("{k} {w}")).collect();
            format!(" ({n} skipped: {})", parts.join(", "))
        }
    }

    /// `3 of 10 accepted; 1 conflict; 6 skipped (not pending)`: how many
    /// of all the marked referrals the action reached, then each other
    /// outcome, then what was never sent and why. One sentence, so the
    /// results popup and the status bar never contradict each other.
    pub fn summary(&self) -> String {
        let total = self.items.len() + self.skipped.len();
        let applied = self
            .results
            .iter()
            .filter(|r| r.outcome == BatchOutcome::Applied)
            .count();
        let mut parts = vec![format!("{applied} of {total} {}", past(self.kind))];
        let mut counts: BTreeMap<u8, (usize, &str)> = BTreeMap::new();
        for r in &self.results {
            let (rank, word) = match r.outcome {
                BatchOutcome::Applied => continue,
                BatchOutcome::Conflict => (1, "conflict"),
                BatchOutcome::NotFound => (2, "not found"),
                BatchOutcome::Invalid => (3, "invalid"),
                BatchOutcome::Forbidden => (4, "forbidden"),
            };
            counts.entry(rank).or_insert((0, word)).0 += 1;
        }
        parts.extend(counts.values().map(|(n, w)| format!("{n} {w}")));
        let skipped = self.skipped_words();
        if !skipped.is_empty() {
            // ` (7 skipped: not pending)` → `7 skipped (not pending)`.
            let inner = skipped.trim().trim_start_matches('(').trim_end_matches(')');
            let (n, why) = inner.split_once(": ").unwrap_or((inner, ""));
            parts.push(format!("{n} ({why})"));
        }
        parts.join("; ")
    }

    /// `Harbor Dental` for a single action, else `3 referrals`.
    pub fn what(&self) -> String {
        match (&self.single, self.items.first()) {
            (Some(_), Some(i)) => self.companies.get(&i.id).cloned().unwrap_or(i.id.clone()),
            _ => format!("{} referral{}", self.items.len(), plural(self.items.len())),
        }
    }

    /// The results that did not apply.
    pub fn failures(&self) -> impl Iterator<Item = &ItemResult> {
        self.results
            .iter()
            .filter(|r| r.outcome != BatchOutcome::Applied)
    }

    /// Items sent or waiting that have no result yet.
    pub fn outstanding(&self) -> usize {
        self.chunks
            .iter()
            .filter(|c| !c.done)
            .map(|c| c.items.len())
            .sum()
    }
}

/// The past tense of an action, as results say it.
pub fn past(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Accept => "accepted",
        ActionKind::Reject => "rejected",
        ActionKind::Forward => "forwarded",
        ActionKind::Withdraw => "withdrawn",
        ActionKind::Close => "closed",
    }
}
