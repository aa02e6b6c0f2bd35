//! Power-user triage in the reducer: marks (multi-select), batch actions
//! with confirmation, undo window and per-item results, the query filter
//! and sort, saved views, and the `:` command line.
//!
//! Pure like the rest of the reducer: the undo window ends on a
//! [`Msg::Tick`](super::msg::Msg::Tick), files are written by the runtime.

use std::collections::{BTreeMap, HashSet};

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use tui_input::Input;

use super::command::{COMMANDS, Command};
use super::msg::{ActionRequest, Effect, ExportFormat};
use super::state::{Entry, ForwardPopup, Level, Pane, Popup, RejectPopup, State};
use super::update::{self as up, describe_decision};
use crate::query::{self, Query, SortField, SortSpec};
use crate::sanitize;
use crate::wire::{
    AcceptRequest, ActionKind, BatchAction, BatchItem, BatchOutcome, BatchRequest, BatchResponse,
    ForwardRequest, MAX_CHAIN, MAX_LINE_CHARS, ReasonCode, ReasonInput, RejectRequest, Role,
    Status, Timestamp, WithdrawRequest,
};

/// Most items in one `POST /v1/referrals/batch`.
pub const CHUNK: usize = 500;

/// A range being marked with `v`: from `anchor` to the cursor, on top of
/// the marks there were when it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeMark {
    /// The referral where the range started.
    pub anchor: String,
    /// The marks before the range started.
    pub base: HashSet<String>,
}

/// Where a batch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchPhase {
    /// Waiting for `y` / `n`.
    Confirm,
    /// Confirmed; sent at `until` unless `u` cancels it first.
    Undo {
        /// When the window closes.
        until: Timestamp,
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

    /// `197 accepted · 3 conflict · 1 not found`.
    pub fn summary(&self) -> String {
        let mut counts: BTreeMap<u8, (usize, &str)> = BTreeMap::new();
        for r in &self.results {
            let (rank, word) = match r.outcome {
                BatchOutcome::Applied => (0, past(self.kind)),
                BatchOutcome::Conflict => (1, "conflict"),
                BatchOutcome::NotFound => (2, "not found"),
                BatchOutcome::Invalid => (3, "invalid"),
                BatchOutcome::Forbidden => (4, "forbidden"),
            };
            counts.entry(rank).or_insert((0, word)).0 += 1;
        }
        let mut parts: Vec<String> = counts.values().map(|(n, w)| format!("{n} {w}")).collect();
        if parts.is_empty() {
            parts.push(format!("0 {}", past(self.kind)));
        }
        if !self.skipped.is_empty() {
            parts.push(format!("{} skipped", self.skipped.len()));
        }
        parts.join(" · ")
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

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
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

// ---------------------------------------------------------------- marks

/// `Space`: toggles the row under the cursor and moves down.
pub fn toggle_mark(state: &mut State) -> bool {
    let Some(id) = state.current().map(|e| e.referral.id.clone()) else {
        return false;
    };
    state.range = None;
    if !state.marks.remove(&id) {
        state.marks.insert(id);
    }
    up::move_cursor(state, Command::Down);
    true
}

/// `v`: starts a range at the cursor, or ends the one being marked.
pub fn mark_range(state: &mut State) -> bool {
    if state.range.take().is_some() {
        say(state, Level::Info, "range marked".to_string());
        return true;
    }
    let Some(id) = state.current().map(|e| e.referral.id.clone()) else {
        return false;
    };
    state.range = Some(RangeMark {
        anchor: id,
        base: state.marks.clone(),
    });
    follow_range(state);
    say(
        state,
        Level::Info,
        "marking a range: move to extend it, v ends it".to_string(),
    );
    true
}

/// After the cursor moved: the range covers anchor..=cursor.
pub fn follow_range(state: &mut State) {
    let Some(range) = &state.range else {
        return;
    };
    let p = state.pane(state.active);
    let anchor = p
        .rows
        .iter()
        .position(|&i| state.entries[i as usize].referral.id == range.anchor);
    let Some(anchor) = anchor else {
        // The anchor left the view: the range ends where it is.
        state.range = None;
        return;
    };
    let (a, b) = if anchor <= p.cursor {
        (anchor, p.cursor)
    } else {
        (p.cursor, anchor)
    };
    let mut marks = range.base.clone();
    for &i in &p.rows[a..=b.min(p.rows.len().saturating_sub(1))] {
        marks.insert(state.entries[i as usize].referral.id.clone());
    }
    state.marks = marks;
}

/// `*`: marks every row the filter shows.
pub fn mark_all(state: &mut State) -> bool {
    state.range = None;
    let ids: Vec<String> = shown_ids(state);
    let n = ids.len();
    state.marks.extend(ids);
    say(state, Level::Info, format!("marked {n} shown"));
    true
}

/// `!`: inverts the marks among the rows the filter shows.
pub fn invert_marks(state: &mut State) -> bool {
    state.range = None;
    for id in shown_ids(state) {
        if !state.marks.remove(&id) {
            state.marks.insert(id);
        }
    }
    true
}

/// `Esc`: clears every mark (hidden ones too).
pub fn clear_marks(state: &mut State) -> bool {
    let had = !state.marks.is_empty() || state.range.is_some();
    state.marks.clear();
    state.range = None;
    had
}

fn shown_ids(state: &State) -> Vec<String> {
    state
        .pane(state.active)
        .rows
        .iter()
        .map(|&i| state.entries[i as usize].referral.id.clone())
        .collect()
}

/// `12 selected (3 hidden)`, or `None` with no marks.
pub fn marks_words(state: &State) -> Option<String> {
    if state.marks.is_empty() {
        return None;
    }
    let hidden = state.hidden_marks();
    let range = if state.range.is_some() {
        " [range]"
    } else {
        ""
    };
    Some(if hidden > 0 {
        format!("{} selected ({hidden} hidden){range}", state.marks.len())
    } else {
        format!("{} selected{range}", state.marks.len())
    })
}

// ---------------------------------------------------------------- batches

/// Why `kind` does not apply to `e`, in two or three words, or `None`.
pub fn skip_reason(state: &State, kind: ActionKind, e: &Entry) -> Option<&'static str> {
    let r = &e.referral;
    let me = state.my_partner().unwrap_or_default();
    if e.in_flight.is_some() {
        return Some("in flight");
    }
    match kind {
        ActionKind::Withdraw => {
            if r.from_partner != me {
                return Some("not sent by you");
            }
        }
        _ => {
            if r.to_partner != me {
                return Some("not sent to you");
            }
        }
    }
    let wanted = if kind == ActionKind::Close {
        Status::Accepted
    } else {
        Status::Pending
    };
    if r.status != wanted {
        return Some(if wanted == Status::Pending {
            "not pending"
        } else {
            "not accepted"
        });
    }
    if kind == ActionKind::Forward && r.chain.len() >= MAX_CHAIN {
        return Some("too many hops");
    }
    None
}

/// Why the user may not act at all, if so.
fn may_not_act(state: &State, verb: &str) -> Option<String> {
    if state.readonly {
        return Some(format!("read-only mode (--readonly): cannot {verb}"));
    }
    match state.role() {
        None => Some("still loading your account".to_string()),
        Some(Role::Viewer) => Some(format!("viewers can read but not {verb}")),
        Some(Role::Operator) => Some(format!("operators can read but not {verb}")),
        Some(Role::Agent | Role::Admin) => None,
    }
}

/// The marked referrals, in the order they are shown (active pane first).
fn marked_entries(state: &State) -> Vec<u32> {
    let mut v: Vec<u32> = state
        .marks
        .iter()
        .filter_map(|id| state.index_of(id))
        .collect();
    let pane_rank = |i: u32| match state.pane_of(&state.entries[i as usize].referral) {
        Some(p) if p == state.active => 0,
        Some(_) => 1,
        None => 2,
    };
    v.sort_by(|&a, &b| {
        pane_rank(a)
            .cmp(&pane_rank(b))
            .then_with(|| state.order(a, b))
    });
    v
}

/// The body of one item, from a template action and the item's version.
fn item_action(template: &ActionRequest, version: u64, kind: ActionKind) -> BatchAction {
    match template {
        ActionRequest::Reject(r) => BatchAction::Reject(RejectRequest {
            version,
            reason: r.reason.clone(),
        }),
        ActionRequest::Forward(f) => BatchAction::Forward(ForwardRequest {
            version,
            ..f.clone()
        }),
        ActionRequest::Withdraw(_) => BatchAction::Withdraw(WithdrawRequest { version }),
        ActionRequest::Close(c) => BatchAction::Close(crate::wire::CloseRequest {
            version,
            ..c.clone()
        }),
        ActionRequest::Accept(a) => {
            debug_assert_eq!(kind, ActionKind::Accept);
            BatchAction::Accept(AcceptRequest {
                version,
                note: a.note.clone(),
            })
        }
    }
}

/// Plans a batch of `template` over the marks: confirms above the
/// threshold, else starts it (undo window or send). Returns whether
/// anything changed.
pub fn plan(state: &mut State, template: ActionRequest, fx: &mut Vec<Effect>) -> bool {
    let kind = template.kind();
    let verb = kind.as_str();
    if let Some(why) = may_not_act(state, verb) {
        say(state, Level::Error, why);
        return true;
    }
    if let Some(b) = &state.batch
        && matches!(
            b.phase,
            BatchPhase::Confirm | BatchPhase::Undo { .. } | BatchPhase::Sending
        )
    {
        say(
            state,
            Level::Error,
            "wait: a batch is still under way (u undoes it while it counts down)".to_string(),
        );
        return true;
    }
    let to = match &template {
        ActionRequest::Forward(f) => Some(f.to_partner.clone()),
        _ => None,
    };
    let mut items = Vec::new();
    let mut skipped = Vec::new();
    let mut companies = BTreeMap::new();
    for i in marked_entries(state) {
        let e = &state.entries[i as usize];
        let r = &e.referral;
        let why = skip_reason(state, kind, e).or_else(|| {
            to.as_ref()
                .filter(|t| r.chain.iter().any(|c| c == *t))
                .map(|_| "already passed through it")
        });
        match why {
            Some(w) => skipped.push((r.id.clone(), w)),
            None => {
                companies.insert(r.id.clone(), r.lead.company.clone());
                items.push(BatchItem {
                    id: r.id.clone(),
                    action: item_action(&template, r.version, kind),
                });
            }
        }
    }
    // Marked ids not loaded (yet) count as skipped too: nothing to act on.
    let unknown = state
        .marks
        .iter()
        .filter(|id| state.index_of(id).is_none())
        .count();
    for _ in 0..unknown {
        skipped.push((String::new(), "not loaded"));
    }
    if items.is_empty() {
        let b = Batch {
            id: 0,
            kind,
            detail: String::new(),
            items: Vec::new(),
            companies,
            skipped,
            phase: BatchPhase::Done,
            chunks: Vec::new(),
            results: Vec::new(),
        };
        say(
            state,
            Level::Error,
            format!(
                "nothing to {verb}: none of the {} selected applies{}",
                state.marks.len(),
                b.skipped_words()
            ),
        );
        return true;
    }
    let detail = match &template {
        ActionRequest::Forward(f) => format!("to {}", f.to_partner),
        ActionRequest::Reject(r) => format!("as {}", r.reason.code.as_str()),
        _ => String::new(),
    };
    let id = state.next_batch;
    state.next_batch += 1;
    let n = items.len();
    state.batch = Some(Batch {
        id,
        kind,
        detail,
        items,
        companies,
        skipped,
        phase: BatchPhase::Confirm,
        chunks: Vec::new(),
        results: Vec::new(),
    });
    if n > state.batch_settings.confirm_over {
        state.popup = Some(Popup::BatchConfirm);
    } else {
        confirm(state, fx);
    }
    true
}

/// The user said yes: open the undo window, or send now when it is off.
pub fn confirm(state: &mut State, fx: &mut Vec<Effect>) {
    if matches!(state.popup, Some(Popup::BatchConfirm)) {
        state.popup = None;
    }
    let undo = state.batch_settings.undo_seconds;
    let now = state.now;
    let Some(b) = &mut state.batch else {
        return;
    };
    if b.phase != BatchPhase::Confirm {
        return;
    }
    if undo == 0 {
        dispatch(state, fx);
    } else {
        b.phase = BatchPhase::Undo {
            until: now + chrono::Duration::seconds(undo as i64),
        };
    }
}

/// `n` / `Esc` on the confirmation: drop the batch, keep the marks.
pub fn decline(state: &mut State) {
    state.popup = None;
    state.batch = None;
    say(state, Level::Info, "batch cancelled".to_string());
}

/// `u`: cancels a batch in its undo window. Nothing was sent.
pub fn undo(state: &mut State) -> bool {
    match &state.batch {
        Some(Batch {
            phase: BatchPhase::Undo { .. },
            kind,
            items,
            ..
        }) => {
            let text = format!(
                "undone: {} of {} referral{} cancelled, nothing was sent",
                kind.as_str(),
                items.len(),
                plural(items.len())
            );
            state.batch = None;
            say(state, Level::Success, text);
        }
        Some(Batch {
            phase: BatchPhase::Sending,
            ..
        }) => say(
            state,
            Level::Error,
            "too late to undo: the batch is already sent".to_string(),
        ),
        _ => say(state, Level::Info, "nothing to undo".to_string()),
    }
    true
}

/// The seconds left in the undo window, if one is open.
pub fn undo_left(state: &State) -> Option<i64> {
    match state.batch.as_ref()?.phase {
        BatchPhase::Undo { until } => Some((until - state.now).num_seconds().max(0)),
        _ => None,
    }
}

/// On every tick: sends the batch when its undo window is over.
pub fn on_tick(state: &mut State, fx: &mut Vec<Effect>) {
    if let Some(Batch {
        phase: BatchPhase::Undo { until },
        ..
    }) = &state.batch
        && state.now >= *until
    {
        dispatch(state, fx);
    }
}

/// Splits the batch into chunks of at most [`CHUNK`], each with its own
/// key, and asks the runtime to send them.
fn dispatch(state: &mut State, fx: &mut Vec<Effect>) {
    let prefix = state.key_prefix.clone();
    let Some(b) = &mut state.batch else {
        return;
    };
    b.phase = BatchPhase::Sending;
    b.chunks = b
        .items
        .chunks(CHUNK)
        .enumerate()
        .map(|(k, items)| Chunk {
            key: format!("{prefix}-b{}-{k}", b.id),
            items: items.to_vec(),
            done: false,
            unsent: false,
        })
        .collect();
    let kind = b.kind;
    for (k, c) in b.chunks.iter().enumerate() {
        fx.push(Effect::SendBatch {
            batch: b.id,
            chunk: k,
            request: BatchRequest {
                items: c.items.clone(),
            },
            idempotency_key: c.key.clone(),
        });
    }
    let ids: Vec<String> = b.items.iter().map(|i| i.id.clone()).collect();
    let n = ids.len();
    for id in ids {
        if let Some(i) = state.index_of(&id) {
            state.entries[i as usize].in_flight = Some(kind);
        }
    }
    say(
        state,
        Level::Info,
        format!("{} {n} referral{}…", sending_word(kind), plural(n)),
    );
}

fn sending_word(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Accept => "accepting",
        ActionKind::Reject => "rejecting",
        ActionKind::Forward => "forwarding",
        ActionKind::Withdraw => "withdrawing",
        ActionKind::Close => "closing",
    }
}

/// A chunk failed without an answer: it stays queued with its key.
pub fn on_retrying(state: &mut State, batch: u64, chunk: usize, error: &str) -> bool {
    let Some(b) = state.batch.as_mut().filter(|b| b.id == batch) else {
        return false;
    };
    let Some(c) = b.chunks.get_mut(chunk) else {
        return false;
    };
    c.unsent = true;
    let n = b.outstanding();
    say(
        state,
        Level::Error,
        format!(
            "batch: {n} unsent, queued and retrying with the same keys: {}",
            sanitize::clean_line(error)
        ),
    );
    true
}

/// A chunk's answer: apply what applied, keep failures marked, record why.
pub fn on_done(
    state: &mut State,
    batch: u64,
    chunk: usize,
    result: Result<BatchResponse, String>,
) -> bool {
    let Some(b) = state.batch.as_mut().filter(|b| b.id == batch) else {
        return false;
    };
    let Some(c) = b.chunks.get_mut(chunk) else {
        return false;
    };
    if c.done {
        return false;
    }
    c.done = true;
    let ids: Vec<String> = c.items.iter().map(|i| i.id.clone()).collect();
    for id in &ids {
        if let Some(i) = state.index_of(id) {
            state.entries[i as usize].in_flight = None;
        }
    }
    let mut results = Vec::with_capacity(ids.len());
    match result {
        Ok(resp) => {
            let mut answered: HashSet<String> = HashSet::new();
            for r in resp.results {
                let id = sanitize::clean_line(&r.id);
                answered.insert(id.clone());
                let mut reason = None;
                match r.outcome {
                    BatchOutcome::Applied => {
                        for x in [r.referral, r.forwarded].into_iter().flatten() {
                            up::apply_referral(state, sanitize::clean_referral(x), false);
                        }
                        state.marks.remove(&id);
                    }
                    other => {
                        let current = r.referral.or_else(|| {
                            r.error.as_ref().and_then(|e| e.current.as_deref().cloned())
                        });
                        if let Some(cur) = current {
                            let cur = sanitize::clean_referral(cur);
                            if other == BatchOutcome::Conflict && cur.decided_by.is_some() {
                                reason = Some(describe_decision(state, &cur));
                            }
                            up::apply_referral(state, cur, false);
                        }
                        if reason.is_none() {
                            reason = Some(match &r.error {
                                Some(e) => sanitize::clean_line(&e.message),
                                None => other.as_str().replace('_', " "),
                            });
                        }
                    }
                }
                results.push((id, r.outcome, reason));
            }
            for id in ids.iter().filter(|id| !answered.contains(*id)) {
                results.push((
                    id.clone(),
                    BatchOutcome::Invalid,
                    Some("no result for this item in the answer".to_string()),
                ));
            }
        }
        Err(e) => {
            let why = sanitize::clean_line(&e);
            for id in &ids {
                results.push((id.clone(), BatchOutcome::Invalid, Some(why.clone())));
            }
        }
    }
    let b = state.batch.as_mut().expect("checked above");
    for (id, outcome, reason) in results {
        let company = b.companies.get(&id).cloned().unwrap_or_else(|| id.clone());
        b.results.push(ItemResult {
            id,
            company,
            outcome,
            reason,
        });
    }
    if b.chunks.iter().all(|c| c.done) {
        b.phase = BatchPhase::Done;
        let summary = b.summary();
        let failed = b.failures().count();
        state.popup = Some(Popup::BatchResults { scroll: 0 });
        let level = if failed == 0 {
            Level::Success
        } else {
            Level::Error
        };
        say(state, level, summary);
    }
    true
}

/// Keys on the batch confirmation and results views.
pub fn on_batch_key(state: &mut State, ev: &KeyEvent, fx: &mut Vec<Effect>) -> bool {
    match state.popup {
        Some(Popup::BatchConfirm) => match ev.code {
            KeyCode::Char('y' | 'Y') | KeyCode::Enter => {
                confirm(state, fx);
                true
            }
            KeyCode::Char('n' | 'N') | KeyCode::Esc => {
                decline(state);
                true
            }
            _ => false,
        },
        Some(Popup::BatchResults { ref mut scroll }) => {
            let max = state
                .batch
                .as_ref()
                .map_or(0, |b| b.failures().count().saturating_sub(1));
            match ev.code {
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => state.popup = None,
                KeyCode::Down | KeyCode::Char('j') => *scroll = (*scroll + 1).min(max),
                KeyCode::Up | KeyCode::Char('k') => *scroll = scroll.saturating_sub(1),
                _ => return false,
            }
            true
        }
        _ => false,
    }
}

/// `a` / `r` / `f` / `w` with marks: batch instead of the cursor row.
pub fn batch_command(state: &mut State, cmd: Command, fx: &mut Vec<Effect>) -> bool {
    match cmd {
        Command::Accept => plan(
            state,
            ActionRequest::Accept(AcceptRequest {
                version: 0,
                note: None,
            }),
            fx,
        ),
        Command::Withdraw => plan(
            state,
            ActionRequest::Withdraw(WithdrawRequest { version: 0 }),
            fx,
        ),
        Command::Reject => {
            if let Some(why) = may_not_act(state, "reject") {
                say(state, Level::Error, why);
                return true;
            }
            let n = state.marks.len();
            state.popup = Some(Popup::Reject(RejectPopup {
                id: String::new(),
                version: 0,
                company: format!("{n} selected referral{}", plural(n)),
                selected: 0,
                note: None,
                error: None,
                batch: true,
            }));
            true
        }
        Command::Forward => {
            if let Some(why) = may_not_act(state, "forward") {
                say(state, Level::Error, why);
                return true;
            }
            let n = state.marks.len();
            let mut p = ForwardPopup {
                id: String::new(),
                version: 0,
                company: format!("{n} selected referral{}", plural(n)),
                excluded: state.my_partner().map(str::to_string).into_iter().collect(),
                query: Input::default(),
                matches: Vec::new(),
                selected: 0,
                offset: 0,
                picked: None,
                batch: true,
            };
            up::refresh_matches(&state.partners, &mut p);
            if state.partners.is_empty() {
                fx.push(Effect::LoadPartners);
            }
            state.popup = Some(Popup::Forward(p));
            true
        }
        _ => false,
    }
}

// ---------------------------------------------------------------- sort and views

/// `s`: the next sort column (newest first → age → expires → …).
pub fn sort_next(state: &mut State) -> bool {
    let next = match state.sort {
        None => SortSpec::ascending(SortField::ALL[0]),
        Some(s) => SortSpec {
            field: s.field.next(),
            descending: s.descending,
        },
    };
    set_sort(state, Some(next));
    true
}

/// `S`: reverses the sort.
pub fn sort_reverse(state: &mut State) -> bool {
    let spec = state
        .sort
        .unwrap_or(SortSpec::ascending(SortField::Age))
        .reversed();
    set_sort(state, Some(spec));
    true
}

/// Re-sorts every pane, keeping each cursor on its referral.
pub fn set_sort(state: &mut State, spec: Option<SortSpec>) {
    if state.sort == spec {
        return;
    }
    state.sort = spec;
    for pane in [Pane::Incoming, Pane::Outgoing] {
        let anchor = up::anchor_of(state, pane);
        let mut all = std::mem::take(&mut state.panes[pane.index()].all);
        all.sort_by(|&a, &b| state.order(a, b));
        let mut rows = std::mem::take(&mut state.panes[pane.index()].rows);
        rows.sort_by(|&a, &b| state.order(a, b));
        let p = &mut state.panes[pane.index()];
        p.all = all;
        p.rows = rows;
        up::relocate(state, pane, anchor);
    }
    let words = sort_words(state);
    say(state, Level::Info, format!("sorted by {words}"));
}

/// `value ↓`, `newest first`.
pub fn sort_words(state: &State) -> String {
    match state.sort {
        None => "newest first".to_string(),
        Some(s) => format!(
            "{} {}",
            s.field.as_str(),
            if s.descending { "↓" } else { "↑" }
        ),
    }
}

/// `]`: the next saved view (after the last: no view).
pub fn next_view(state: &mut State) -> bool {
    if state.views.is_empty() {
        say(
            state,
            Level::Info,
            "no saved views: add [views.NAME] query = \"...\" to the config".to_string(),
        );
        return true;
    }
    let next = match state.view {
        None => Some(0),
        Some(i) if i + 1 < state.views.len() => Some(i + 1),
        Some(_) => None,
    };
    select_view(state, next);
    true
}

/// Shows saved view `i` (its query becomes the filter), or none.
pub fn select_view(state: &mut State, i: Option<usize>) {
    state.view = i;
    let text = i.map(|i| state.views[i].1.clone()).unwrap_or_default();
    state.filter = Input::new(text.clone());
    up::set_filter(state, text);
}

// ---------------------------------------------------------------- the : line

/// The `:` command line while open.
#[derive(Debug, Clone, Default)]
pub struct CmdLine {
    /// What is typed (without the `:`).
    pub input: Input,
    /// Candidates of the last Tab, when more than one.
    pub completions: Vec<String>,
    /// Position in the history while browsing it with Up/Down.
    pub history_pos: Option<usize>,
}

/// Names of the `:` commands, for completion and errors.
pub const LINE_COMMANDS: &[&str] = &[
    "accept", "reject", "forward", "withdraw", "select", "filter", "sort", "view", "theme",
    "export", "help", "quit",
];

/// The `:` commands for the help overlay: usage, what it does, and
/// whether it acts (hidden in a read-only monitor).
pub const LINE_HELP: &[(&str, &str, bool)] = &[
    (":accept", "Accept the selection, else the row", true),
    (
        ":reject CODE [note]",
        "Reject with a reason code (Tab completes)",
        true,
    ),
    (
        ":forward PARTNER [note]",
        "Forward to a partner (Tab completes)",
        true,
    ),
    (":withdraw", "Withdraw the selection, else the row", true),
    (
        ":select QUERY",
        "Mark every row of the pane the query matches",
        false,
    ),
    (":filter QUERY", "Filter the panes with a query", false),
    (
        ":sort [-]FIELD",
        "Sort (age, expires, value, company, …)",
        false,
    ),
    (
        ":view [NAME]",
        "Show a saved view (none: every referral)",
        false,
    ),
    (":theme NAME", "Switch the theme", false),
    (":export PATH", "Write the view as .csv or .json", false),
    (":help  :quit", "This help; leave", false),
];

/// A row of the command table `:NAME` runs (not the ones the line
/// handles itself, nor `command`).
fn palette_command(name: &str) -> Option<&'static super::command::CommandInfo> {
    COMMANDS.iter().find(|c| {
        c.name == name
            && c.command != Command::Command
            && !LINE_COMMANDS.contains(&c.name)
            && c.contexts.contains(&super::command::Context::List)
    })
}

/// `:` opens the command line.
pub fn open_cmdline(state: &mut State) -> bool {
    state.cmdline = Some(CmdLine::default());
    true
}

/// Keys while the command line is open.
pub fn on_cmdline_key(state: &mut State, ev: &KeyEvent, fx: &mut Vec<Effect>) -> bool {
    let Some(mut line) = state.cmdline.take() else {
        return false;
    };
    match ev.code {
        KeyCode::Esc => return true,
        KeyCode::Enter => {
            let text = line.input.value().trim().to_string();
            if !text.is_empty() {
                if state.history.last() != Some(&text) {
                    state.history.push(text.clone());
                    fx.push(Effect::SaveHistory(text.clone()));
                }
                run_line(state, &text, fx);
            }
            return true;
        }
        KeyCode::Tab => {
            complete(state, &mut line);
        }
        KeyCode::Up | KeyCode::Down => {
            let n = state.history.len();
            if n > 0 {
                let pos = match (ev.code, line.history_pos) {
                    (KeyCode::Up, None) => Some(n - 1),
                    (KeyCode::Up, Some(p)) => Some(p.saturating_sub(1)),
                    (_, Some(p)) if p + 1 < n => Some(p + 1),
                    _ => None,
                };
                line.history_pos = pos;
                let text = pos.map(|p| state.history[p].clone()).unwrap_or_default();
                line.input = Input::new(text);
                line.completions.clear();
            }
        }
        KeyCode::Backspace if line.input.value().is_empty() => return true,
        _ => {
            if !up::edit(&mut line.input, ev, MAX_LINE_CHARS) {
                state.cmdline = Some(line);
                return false;
            }
            line.completions.clear();
        }
    }
    state.cmdline = Some(line);
    true
}

/// Tab: completes the word being typed.
fn complete(state: &State, line: &mut CmdLine) {
    let text = line.input.value().to_string();
    let (head, word) = match text.rfind(' ') {
        Some(i) => (&text[..=i], &text[i + 1..]),
        None => ("", text.as_str()),
    };
    let cmd = text.split_whitespace().next().unwrap_or("");
    let args_before = head.split_whitespace().count();
    let candidates: Vec<String> = if head.is_empty() {
        // Read-only (viewer, operator, --readonly): no actions offered.
        let line_acts = |name: &str| {
            LINE_HELP
                .iter()
                .any(|(usage, _, acts)| *acts && usage[1..].split(' ').next() == Some(name))
        };
        let names = LINE_COMMANDS
            .iter()
            .copied()
            .filter(|n| state.may_act() || !line_acts(n))
            .chain(
                COMMANDS
                    .iter()
                    .filter(|c| palette_command(c.name).is_some())
                    .filter(|c| state.may_act() || !c.acts)
                    .map(|c| c.name),
            );
        prefixed(names.map(str::to_string), word)
    } else {
        match (cmd, args_before) {
            ("reject", 1) => prefixed(ReasonCode::ALL.iter().map(|c| c.as_str().into()), word),
            ("forward", 1) => prefixed(state.partners.iter().map(|p| p.id.clone()), word),
            ("view", 1) => prefixed(state.views.iter().map(|v| v.0.clone()), word),
            ("theme", 1) => prefixed(state.themes.iter().cloned(), word),
            ("sort", 1) => {
                let (dash, name) = match word.strip_prefix('-') {
                    Some(r) => ("-", r),
                    None => ("", word),
                };
                prefixed(
                    SortField::ALL
                        .iter()
                        .map(|f| format!("{dash}{}", f.as_str())),
                    &format!("{dash}{name}"),
                )
            }
            ("select" | "filter", _) => {
                let neg = word
                    .chars()
                    .next()
                    .filter(|c| *c == '-' || *c == '!')
                    .map(String::from)
                    .unwrap_or_default();
                let w = &word[neg.len()..];
                match w.split_once(':') {
                    Some((field, value))
                        if matches!(
                            field.to_ascii_lowercase().as_str(),
                            "from" | "to" | "partner"
                        ) =>
                    {
                        prefixed(state.partners.iter().map(|p| p.id.clone()), value)
                            .into_iter()
                            .map(|v| format!("{neg}{field}:{v}"))
                            .collect()
                    }
                    Some((field, value)) => query::complete_value(field, value)
                        .into_iter()
                        .map(|v| format!("{neg}{field}:{v}"))
                        .collect(),
                    None => query::complete_field(w)
                        .into_iter()
                        .map(|f| format!("{neg}{f}:"))
                        .collect(),
                }
            }
            _ => Vec::new(),
        }
    };
    match candidates.len() {
        0 => line.completions.clear(),
        1 => {
            let c = &candidates[0];
            let space = if c.ends_with(':') { "" } else { " " };
            line.input = Input::new(format!("{head}{c}{space}"));
            line.completions.clear();
        }
        _ => {
            let common = common_prefix(&candidates);
            if common.len() > word.len() {
                line.input = Input::new(format!("{head}{common}"));
            }
            line.completions = candidates;
        }
    }
}

fn prefixed(all: impl Iterator<Item = String>, word: &str) -> Vec<String> {
    let lw = word.to_lowercase();
    all.filter(|s| s.to_lowercase().starts_with(&lw)).collect()
}

fn common_prefix(v: &[String]) -> String {
    let first = &v[0];
    let mut n = first.len();
    for s in &v[1..] {
        n = n.min(
            first
                .char_indices()
                .zip(s.chars())
                .take_while(|((_, a), b)| a == b)
                .last()
                .map_or(0, |((i, a), _)| i + a.len_utf8()),
        );
    }
    first[..n].to_string()
}

/// Runs one command line.
pub fn run_line(state: &mut State, text: &str, fx: &mut Vec<Effect>) {
    let text = text.trim().trim_start_matches(':');
    let (cmd, rest) = match text.split_once(char::is_whitespace) {
        Some((c, r)) => (c, r.trim()),
        None => (text, ""),
    };
    let err = |state: &mut State, why: String| say(state, Level::Error, format!(":{cmd}: {why}"));
    let hidden_for_monitor = ["accept", "reject", "forward", "withdraw"];
    if state.monitor() && hidden_for_monitor.contains(&cmd) {
        err(state, "read-only monitor: no actions here".to_string());
        return;
    }
    match cmd {
        "accept" | "withdraw" => {
            if !rest.is_empty() {
                return err(state, "expected no argument".to_string());
            }
            let command = if cmd == "accept" {
                Command::Accept
            } else {
                Command::Withdraw
            };
            act(state, command, fx);
        }
        "reject" => {
            let (code, note) = split_word(rest);
            let Some(code) = ReasonCode::parse(code) else {
                return err(
                    state,
                    format!("expected a reason code ({}) then an optional note", codes()),
                );
            };
            if code == ReasonCode::Other && note.is_none() {
                return err(state, "expected a note after \"other\"".to_string());
            }
            let template = ActionRequest::Reject(RejectRequest {
                version: 0,
                reason: ReasonInput { code, note },
            });
            act_with(state, template, fx);
        }
        "forward" => {
            let (to, note) = split_word(rest);
            if to.is_empty() {
                return err(
                    state,
                    "expected a partner id (Tab completes) then an optional note".to_string(),
                );
            }
            if !state.partners.is_empty() && !state.partners.iter().any(|p| p.id == to) {
                return err(
                    state,
                    format!("expected a partner id (Tab completes), not \"{to}\""),
                );
            }
            let template = ActionRequest::Forward(ForwardRequest {
                version: 0,
                to_partner: to.to_string(),
                note,
                commission_pct: None,
                expires_in_hours: None,
            });
            act_with(state, template, fx);
        }
        "select" => match Query::parse(rest) {
            Ok(q) => {
                let p = state.pane(state.active);
                let ids: Vec<String> = p
                    .all
                    .iter()
                    .map(|&i| &state.entries[i as usize].referral)
                    .filter(|r| q.matches(r, state.now))
                    .map(|r| r.id.clone())
                    .collect();
                let n = ids.len();
                state.range = None;
                state.marks.extend(ids);
                let total = state.marks.len();
                say(
                    state,
                    Level::Info,
                    format!("marked {n} matching; {total} selected"),
                );
            }
            Err(e) => err(
                state,
                format!("{e} (expected a query, e.g. status:pending)"),
            ),
        },
        "filter" => {
            state.view = None;
            state.filter = Input::new(rest.to_string());
            up::set_filter(state, rest.to_string());
            if let Some(e) = state.filter_error.clone() {
                err(state, format!("{e}; the last good filter stays applied"));
            }
        }
        "sort" => {
            if rest.is_empty() || rest == "newest" {
                set_sort(state, None);
                return;
            }
            match SortSpec::parse(rest) {
                Some(spec) => set_sort(state, Some(spec)),
                None => {
                    let names: Vec<&str> = SortField::ALL.iter().map(|f| f.as_str()).collect();
                    err(
                        state,
                        format!(
                            "expected a field ({}), optionally with a leading -",
                            names.join(", ")
                        ),
                    )
                }
            }
        }
        "view" => {
            if rest.is_empty() {
                select_view(state, None);
                say(state, Level::Info, "no view: every referral".to_string());
                return;
            }
            match state.views.iter().position(|v| v.0 == rest) {
                Some(i) => select_view(state, Some(i)),
                None => {
                    let names: Vec<&str> = state.views.iter().map(|v| v.0.as_str()).collect();
                    let known = if names.is_empty() {
                        "none configured".to_string()
                    } else {
                        names.join(", ")
                    };
                    err(state, format!("expected a view name ({known})"))
                }
            }
        }
        "theme" => {
            if rest.is_empty() {
                return err(
                    state,
                    format!("expected a theme name ({})", state.themes.join(", ")),
                );
            }
            fx.push(Effect::SetTheme(rest.to_string()));
        }
        "export" => {
            let lower = rest.to_lowercase();
            let format = if lower.ends_with(".csv") {
                ExportFormat::Csv
            } else if lower.ends_with(".json") {
                ExportFormat::Json
            } else {
                return err(
                    state,
                    "expected a file path ending in .csv or .json".to_string(),
                );
            };
            let p = state.pane(state.active);
            let referrals = p
                .rows
                .iter()
                .map(|&i| state.entries[i as usize].referral.clone())
                .collect();
            fx.push(Effect::Export {
                path: rest.to_string(),
                format,
                referrals,
            });
        }
        "help" => state.popup = Some(Popup::Help { scroll: 0 }),
        "quit" | "q" => {
            up::quit(state, fx);
        }
        "" => {}
        // Every bindable command of the table runs by its name too, so the
        // palette, the keys and the help agree.
        name if palette_command(name).is_some() => {
            let info = palette_command(name).expect("checked");
            if info.acts && !state.may_act() {
                return err(state, "read-only: this command acts".to_string());
            }
            up::list_command(state, info.command, fx);
        }
        other => {
            let other = other.to_string();
            err(
                state,
                format!(
                    "unknown command \"{other}\"; expected one of: {} (or a key command's name, e.g. reload)",
                    LINE_COMMANDS.join(", ")
                ),
            )
        }
    }
}

fn codes() -> String {
    ReasonCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn split_word(s: &str) -> (&str, Option<String>) {
    let s = s.trim();
    match s.split_once(char::is_whitespace) {
        Some((w, rest)) => {
            let rest = rest.trim();
            (w, (!rest.is_empty()).then(|| rest.to_string()))
        }
        None => (s, None),
    }
}

/// `:accept` / `:withdraw`: the marks if any, else the row under the cursor.
fn act(state: &mut State, cmd: Command, fx: &mut Vec<Effect>) {
    if state.marks.is_empty() {
        up::list_command(state, cmd, fx);
    } else {
        batch_command(state, cmd, fx);
    }
}

/// `:reject` / `:forward` with their arguments given.
fn act_with(state: &mut State, template: ActionRequest, fx: &mut Vec<Effect>) {
    if !state.marks.is_empty() {
        plan(state, template, fx);
        return;
    }
    let kind = template.kind();
    match up::check(state, kind) {
        Ok((id, version, company)) => {
            if let ActionRequest::Forward(f) = &template
                && state
                    .entry(&id)
                    .is_some_and(|e| e.referral.chain.iter().any(|c| *c == f.to_partner))
            {
                say(
                    state,
                    Level::Error,
                    format!(
                        ":forward: {company} already passed through {}",
                        f.to_partner
                    ),
                );
                return;
            }
            let req = match item_action(&template, version, kind) {
                BatchAction::Reject(r) => ActionRequest::Reject(r),
                BatchAction::Forward(f) => ActionRequest::Forward(f),
                BatchAction::Accept(a) => ActionRequest::Accept(a),
                BatchAction::Withdraw(w) => ActionRequest::Withdraw(w),
                BatchAction::Close(c) => ActionRequest::Close(c),
            };
            up::send(state, id, req, fx);
            say(
                state,
                Level::Info,
                format!("{} {company}…", sending_word(kind)),
            );
        }
        Err(why) => say(state, Level::Error, why),
    }
}

fn say(state: &mut State, level: Level, text: String) {
    state.status = Some(super::state::StatusMessage::new(text, level, state.now));
}

// ---------------------------------------------------------------- monitor

/// One partner's queue in the monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRow {
    /// The partner whose queue it is (the receiving side).
    pub partner: String,
    /// Pending referrals waiting for it.
    pub pending: usize,
    /// Seconds the oldest pending one has waited.
    pub oldest_secs: i64,
    /// How many pending ones expire within 24 h.
    pub expiring_24h: usize,
}

/// The per-partner queue summary, most pending first.
pub fn queue_summary(state: &State) -> Vec<QueueRow> {
    let mut by: BTreeMap<&str, QueueRow> = BTreeMap::new();
    let day = state.now + chrono::Duration::hours(24);
    for e in &state.entries {
        let r = &e.referral;
        if r.status != Status::Pending || r.expires_at <= state.now {
            continue;
        }
        let row = by.entry(r.to_partner.as_str()).or_insert_with(|| QueueRow {
            partner: r.to_partner.to_string(),
            pending: 0,
            oldest_secs: 0,
            expiring_24h: 0,
        });
        row.pending += 1;
        row.oldest_secs = row
            .oldest_secs
            .max((state.now - r.created_at).num_seconds());
        if r.expires_at <= day {
            row.expiring_24h += 1;
        }
    }
    let mut v: Vec<QueueRow> = by.into_values().collect();
    v.sort_by(|a, b| {
        b.pending
            .cmp(&a.pending)
            .then_with(|| a.partner.cmp(&b.partner))
    });
    v
}
