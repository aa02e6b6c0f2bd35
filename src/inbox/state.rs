//! The inbox's model: everything the views draw, nothing they compute.
//!
//! Referrals live once, in `entries`, keyed by id with the highest version
//! seen. Each pane holds an ordered list of entry indices (newest first)
//! and the filtered rows shown; its cursor follows a referral id, so rows
//! inserted or re-sorted around it never move the user off their row nor
//! the row under the cursor on screen.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use chrono::FixedOffset;
use tui_input::Input;

use super::keymap::KeyMap;
use super::layout;
use super::msg::{ActionRequest, OpId};
use super::update::batch::Batch;
use super::update::marks::RangeMark;
use super::update::palette::CmdLine;
use crate::config::BatchSettings;
use crate::query::{ParseError, Query, SortSpec};
use crate::wire::{
    ActionKind, DecidedBy, Me, Name, Partner, ReasonCode, Referral, Role, Status, Timestamp,
};

/// One of the two panes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    /// Referrals sent to my partner (for operators: every referral).
    Incoming,
    /// Referrals my partner sent.
    Outgoing,
}

impl Pane {
    /// Index into [`State::panes`].
    pub fn index(self) -> usize {
        match self {
            Self::Incoming => 0,
            Self::Outgoing => 1,
        }
    }

    /// The other pane.
    pub fn other(self) -> Pane {
        match self {
            Self::Incoming => Self::Outgoing,
            Self::Outgoing => Self::Incoming,
        }
    }
}

/// One referral and what the inbox knows about it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The referral, sanitized, at the highest version seen.
    pub referral: Referral,
    /// The action sent and not yet answered, if any.
    pub in_flight: Option<ActionKind>,
    /// Arrived live and the cursor has not been on it yet (the row's `•`).
    pub fresh: bool,
}

impl Entry {
    /// Wraps a (sanitized) referral.
    pub fn new(referral: Referral) -> Self {
        Self {
            referral,
            in_flight: None,
            fresh: false,
        }
    }
}

/// One shared copy of each repeated value in the referrals held: partner
/// ids, categories, currencies, regions, deciders and forward chains. A
/// hundred thousand referrals name a few dozen partners; decoded from JSON,
/// each would carry its own copies (about half a kilobyte a referral).
#[derive(Debug, Clone, Default)]
pub struct Interner {
    names: HashSet<Name>,
    deciders: HashSet<Arc<DecidedBy>>,
    chains: HashSet<Arc<[Name]>>,
}

impl Interner {
    /// The shared copy of `n` (which becomes it, if it is the first).
    pub fn name(&mut self, n: &Name) -> Name {
        if let Some(x) = self.names.get(n.as_str()) {
            return x.clone();
        }
        self.names.insert(n.clone());
        n.clone()
    }

    /// Replaces every repeated value in `r` with its shared copy.
    pub fn referral(&mut self, r: &mut Referral) {
        r.from_partner = self.name(&r.from_partner);
        r.to_partner = self.name(&r.to_partner);
        r.lead.category = self.name(&r.lead.category);
        r.lead.currency = self.name(&r.lead.currency);
        if let Some(region) = &r.lead.region {
            r.lead.region = Some(self.name(region));
        }
        if let Some(d) = &r.decided_by {
            r.decided_by = Some(match self.deciders.get(&**d) {
                Some(x) => x.clone(),
                None => {
                    let x = Arc::new(DecidedBy {
                        user: self.name(&d.user),
                        name: self.name(&d.name),
                        partner: self.name(&d.partner),
                    });
                    self.deciders.insert(x.clone());
                    x
                }
            });
        }
        r.chain = match self.chains.get(&*r.chain) {
            Some(x) => x.clone(),
            None => {
                let x: Arc<[Name]> = r.chain.iter().map(|n| self.name(n)).collect();
                self.chains.insert(x.clone());
                x
            }
        };
    }

    /// Distinct values held (names, deciders, chains).
    pub fn len(&self) -> (usize, usize, usize) {
        (self.names.len(), self.deciders.len(), self.chains.len())
    }
}

/// Referral id → index in `entries`, without a second copy of every id:
/// an open-addressing table of entry indices placed by the id's hash, the
/// id itself compared against `entries[i].referral.id` on lookup (~4 bytes
/// a slot instead of a cloned `String` and a map bucket per referral).
/// Entries are never removed, so neither are slots.
#[derive(Debug, Clone, Default)]
pub struct IdIndex {
    /// Entry index per slot, [`EMPTY_SLOT`] when free; a power of two long.
    slots: Vec<u32>,
    len: usize,
    hasher: RandomState,
}

const EMPTY_SLOT: u32 = u32::MAX;

impl IdIndex {
    fn slot_of(&self, id: &str) -> usize {
        (self.hasher.hash_one(id) as usize) & (self.slots.len() - 1)
    }

    /// The index of the entry whose referral has `id`.
    pub fn get(&self, entries: &[Entry], id: &str) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut s = self.slot_of(id);
        loop {
            let i = self.slots[s];
            if i == EMPTY_SLOT {
                return None;
            }
            if entries[i as usize].referral.id == id {
                return Some(i);
            }
            s = (s + 1) & mask;
        }
    }

    /// Number of ids indexed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no id is indexed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Makes room for `additional` more ids without growing again.
    pub fn reserve(&mut self, entries: &[Entry], additional: usize) {
        let want = (self.len + additional)
            .saturating_mul(2)
            .next_power_of_two();
        if want > self.slots.len() {
            self.rebuild(entries, want.max(16));
        }
    }

    /// Indexes `entries[i]` (already pushed, its id not indexed yet).
    pub fn insert(&mut self, entries: &[Entry], i: u32) {
        self.reserve(entries, 1);
        self.place(entries, i);
        self.len += 1;
    }

    fn place(&mut self, entries: &[Entry], i: u32) {
        let mask = self.slots.len() - 1;
        let mut s = self.slot_of(&entries[i as usize].referral.id);
        while self.slots[s] != EMPTY_SLOT {
            s = (s + 1) & mask;
        }
        self.slots[s] = i;
    }

    fn rebuild(&mut self, entries: &[Entry], slots: usize) {
        let old = std::mem::replace(&mut self.slots, vec![EMPTY_SLOT; slots]);
        for i in old.into_iter().filter(|&i| i != EMPTY_SLOT) {
            self.place(entries, i);
        }
    }
}

/// Where one entry's filter text is: its range in [`FilterText`]'s
/// buffer and its few-valued fields' tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    start: u32,
    end: u32,
    /// Index in `FilterText::tuples`; [`NO_TUPLE`] for an entry never set.
    tuple: u32,
}

const NO_TUPLE: u32 = u32::MAX;

/// Which of `crate::query::searched_text`'s fields take few distinct
/// values (both partners, category, status, region): stored once per
/// distinct combination, not once per entry.
const FEW_VALUED: [bool; 10] = [
    false, true, true, true, true, true, false, false, false, false,
];

/// The lower-cased text a bare word searches (see
/// `crate::query::searched_text`) of every entry. The fields with few
/// distinct values (partners, category, status, region) are kept once per
/// distinct combination (a "tuple") and referenced by index; the rest
/// (company, domain, id, summary, note) sits in ONE buffer, in the order
/// it was written. A keystroke tests each tuple once, then scans the buffer
/// front to back and marks the entries that match, instead of chasing
/// 100,000 heap strings in display order. A replaced entry's old text is
/// garbage until compaction. Every field ends with a separator no typed
/// filter contains, so a match never spans two fields.
#[derive(Debug, Clone, Default)]
pub struct FilterText {
    text: String,
    /// Entry index → its live range in `text` and its tuple.
    current: Vec<Slot>,
    garbage: usize,
    /// Every distinct tuple's text, lower-cased, separators included.
    tuples: Vec<Box<str>>,
    /// Tuple text → index in `tuples`.
    tuple_ids: HashMap<Box<str>, u32>,
}

/// Appends `part` lower-cased (as the query language lowers it) and the
/// field separator.
fn push_lowered(out: &mut String, part: &str) {
    if part.is_ascii() {
        let from = out.len();
        out.push_str(part);
        out[from..].make_ascii_lowercase();
    } else {
        out.push_str(&part.to_lowercase());
    }
    out.push('\u{1f}');
}

fn offset(n: usize) -> u32 {
    u32::try_from(n).expect("the filter text stays under 4 GiB")
}

impl FilterText {
    /// Indexes (or re-indexes) entry `entry`'s referral.
    pub fn set(&mut self, entry: u32, r: &Referral) {
        let fields = crate::query::searched_text(r);
        let mut tuple = String::new();
        for (part, few) in fields.iter().zip(FEW_VALUED) {
            if few {
                push_lowered(&mut tuple, part);
            }
        }
        let tuple = match self.tuple_ids.get(tuple.as_str()) {
            Some(&t) => t,
            None => {
                let t = offset(self.tuples.len());
                let text: Box<str> = tuple.into();
                self.tuples.push(text.clone());
                self.tuple_ids.insert(text, t);
                t
            }
        };
        let start = offset(self.text.len());
        for (part, few) in fields.iter().zip(FEW_VALUED) {
            if !few {
                push_lowered(&mut self.text, part);
            }
        }
        let slot = Slot {
            start,
            end: offset(self.text.len()),
            tuple,
        };
        let e = entry as usize;
        if e < self.current.len() {
            let old = self.current[e];
            self.garbage += (old.end - old.start) as usize;
            self.current[e] = slot;
        } else {
            self.current.resize(
                e + 1,
                Slot {
                    start: 0,
                    end: 0,
                    tuple: NO_TUPLE,
                },
            );
            self.current[e] = slot;
        }
        if self.garbage > 1 << 20 && self.garbage > self.text.len() / 2 {
            self.compact();
        }
    }

    /// Frees the text of replaced entries.
    fn compact(&mut self) {
        let mut text = String::with_capacity(self.text.len() - self.garbage);
        for slot in &mut self.current {
            let start = offset(text.len());
            text.push_str(&self.text[slot.start as usize..slot.end as usize]);
            slot.start = start;
            slot.end = offset(text.len());
        }
        self.text = text;
        self.garbage = 0;
    }

    /// Whether entry `entry` contains `needle` (lower-case).
    pub fn matches(&self, entry: u32, needle: &str) -> bool {
        let slot = self.current[entry as usize];
        slot.tuple != NO_TUPLE
            && (self.tuples[slot.tuple as usize].contains(needle)
                || self.text[slot.start as usize..slot.end as usize].contains(needle))
    }

    /// One bit per entry: which contain `needle` (lower-case), in one
    /// front-to-back pass over the buffer.
    pub fn scan(&self, needle: &str) -> Vec<u64> {
        let tuple_hit: Vec<bool> = self.tuples.iter().map(|t| t.contains(needle)).collect();
        let mut bits = vec![0u64; self.current.len().div_ceil(64)];
        for (e, slot) in self.current.iter().enumerate() {
            if slot.tuple != NO_TUPLE
                && (tuple_hit[slot.tuple as usize]
                    || self.text[slot.start as usize..slot.end as usize].contains(needle))
            {
                bits[e / 64] |= 1 << (e % 64);
            }
        }
        bits
    }

    /// Bytes of entry text held (live and garbage).
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.current.is_empty()
    }

    /// Gives back spare capacity (after a bulk load).
    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.current.shrink_to_fit();
    }
}

/// Whether bit `i` is set in a [`FilterText::scan`] result.
pub fn bit(bits: &[u64], i: u32) -> bool {
    bits[i as usize / 64] & (1 << (i % 64)) != 0
}

/// A pane's rows and where the user is in them.
#[derive(Debug, Clone, Default)]
pub struct PaneState {
    /// Every entry of this pane, newest first.
    pub all: Vec<u32>,
    /// The rows shown: `all` narrowed by the filter, same order.
    pub rows: Vec<u32>,
    /// Index in `rows` of the cursor.
    pub cursor: usize,
    /// The entry under the cursor: the cursor follows it.
    pub cursor_entry: Option<u32>,
    /// First row shown.
    pub offset: usize,
    /// How many of `all` are pending.
    pub pending: usize,
    /// Rows that arrived live and have not been on screen yet.
    pub new_count: usize,
}

/// The live feed's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conn {
    /// Loading or first connecting.
    Connecting,
    /// Streaming.
    Live {
        /// Since when.
        since: Timestamp,
    },
    /// Down; the next attempt is at `retry_at`.
    Reconnecting {
        /// When it went down.
        since: Timestamp,
        /// When the next attempt starts.
        retry_at: Timestamp,
        /// Why (sanitized).
        reason: String,
    },
}

/// How long the feed may be down before the status bar says "offline".
pub const OFFLINE_AFTER_SECS: i64 = 30;

/// An action sent and not yet definitely answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// The referral.
    pub referral_id: String,
    /// The request.
    pub request: ActionRequest,
    /// Its idempotency key, reused on every retry.
    pub idempotency_key: String,
    /// Some attempt failed without a definite answer: it may not have reached the server.
    pub unsent: bool,
    /// The last failure, for the status bar.
    pub last_error: Option<String>,
}

/// How a status-bar message is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Neutral.
    Info,
    /// Something worked.
    Success,
    /// Something did not (or may not) happen.
    Error,
}

/// The status bar's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMessage {
    /// The text (already safe).
    pub text: String,
    /// How to show it.
    pub level: Level,
    /// When it goes away by itself.
    pub until: Timestamp,
}

impl StatusMessage {
    /// A message said at `now`: errors stay 30 s, the rest 10 s (or until
    /// the next message replaces them).
    pub fn new(text: String, level: Level, now: Timestamp) -> Self {
        let secs = if level == Level::Error { 30 } else { 10 };
        Self {
            text,
            level,
            until: now + chrono::Duration::seconds(secs),
        }
    }
}

/// The reject popup.
#[derive(Debug, Clone)]
pub struct RejectPopup {
    /// The referral and the version the user saw.
    pub id: String,
    /// The version the user saw.
    pub version: u64,
    /// The company, for the title.
    pub company: String,
    /// Highlighted reason (index into [`ReasonCode::ALL`]).
    pub selected: usize,
    /// Once a reason is picked: the note being typed.
    pub note: Option<Input>,
    /// Why Enter did not send (e.g. `other` without a note).
    pub error: Option<String>,
    /// For every marked referral (a batch), not the one under the cursor.
    pub batch: bool,
}

impl RejectPopup {
    /// The highlighted reason.
    pub fn reason(&self) -> ReasonCode {
        ReasonCode::ALL[self.selected]
    }
}

/// The forward popup.
#[derive(Debug, Clone)]
pub struct ForwardPopup {
    /// The referral.
    pub id: String,
    /// The version the user saw.
    pub version: u64,
    /// The company, for the title.
    pub company: String,
    /// Partners that may not receive it (already in the chain, and me).
    pub excluded: Vec<String>,
    /// The filter typed over the directory.
    pub query: Input,
    /// Indices into [`State::partners`] matching the query.
    pub matches: Vec<usize>,
    /// Highlighted match.
    pub selected: usize,
    /// First match shown.
    pub offset: usize,
    /// Once a partner is picked: its id, and the note being typed.
    pub picked: Option<(String, Input)>,
    /// For every marked referral (a batch), not the one under the cursor.
    pub batch: bool,
}

/// Which step of the close popup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseStep {
    /// Won or lost.
    Choose,
    /// The deal's value.
    Value,
    /// A note.
    Note,
}

/// The close popup.
#[derive(Debug, Clone)]
pub struct ClosePopup {
    /// The referral.
    pub id: String,
    /// The version the user saw.
    pub version: u64,
    /// The company, for the title.
    pub company: String,
    /// 0 = won, 1 = lost.
    pub selected: usize,
    /// Current step.
    pub step: CloseStep,
    /// The value typed (in currency units, e.g. `12000` or `12.5k`).
    pub value: Input,
    /// The note typed.
    pub note: Input,
    /// Why Enter did not go on.
    pub error: Option<String>,
}

/// What covers the panes.
#[derive(Debug, Clone)]
pub enum Popup {
    /// The key list.
    Help {
        /// First line shown.
        scroll: usize,
    },
    /// Reject: reason, then note.
    Reject(RejectPopup),
    /// Forward: partner, then note.
    Forward(ForwardPopup),
    /// Close: won/lost, value, note.
    Close(ClosePopup),
    /// Quit while actions are unsent?
    ConfirmQuit,
    /// `Accept 214 referrals (3 skipped: not pending)?`
    BatchConfirm,
    /// A finished batch's per-item outcomes.
    BatchResults {
        /// First failure line shown.
        scroll: usize,
    },
}

/// The whole model.
#[derive(Debug, Clone)]
pub struct State {
    /// Every referral seen, once.
    pub entries: Vec<Entry>,
    /// Id → index in `entries`.
    pub by_id: IdIndex,
    /// What the filter searches, for every entry.
    pub filter_text: FilterText,
    /// The shared copies of the referrals' repeated values.
    pub interner: Interner,
    /// How the panes share a large screen (`layout` in the config).
    pub layout: crate::config::Layout,
    /// The server refused the token (401), with its reason.
    pub refused: Option<String>,
    /// Why `GET /v1/me` definitely failed (shown while nothing is loaded).
    pub load_error: Option<String>,
    /// Entries that arrived live and have not been on screen yet (each
    /// pane's `new_count` counts those among its rows).
    pub unseen: HashSet<u32>,
    /// Incoming and outgoing (see [`Pane::index`]).
    pub panes: [PaneState; 2],
    /// The pane keys act on.
    pub active: Pane,
    /// Who I am, once known (sanitized).
    pub me: Option<Me>,
    /// The live server's URL, for the header (sanitized).
    pub server: String,
    /// How many servers the client may use (`server.url` may name several);
    /// with more than one, the status bar names the live one.
    pub servers: usize,
    /// `--readonly`: no actions at all.
    pub readonly: bool,
    /// The partner directory (sanitized).
    pub partners: Vec<Partner>,
    /// The time, as last told by a message.
    pub now: Timestamp,
    /// Offset for showing clock times (the runtime passes the local one).
    pub utc_offset: FixedOffset,
    /// Terminal size (columns, rows).
    pub size: (u16, u16),
    /// The filter (typed with `/`).
    pub filter: Input,
    /// Lower-cased filter actually applied.
    pub filter_applied: String,
    /// Typing the filter now.
    pub filter_editing: bool,
    /// The detail pane is shown.
    pub show_detail: bool,
    /// What covers the panes, if anything.
    pub popup: Option<Popup>,
    /// The feed.
    pub conn: Conn,
    /// No heartbeat in time: data may be stale.
    pub stale: bool,
    /// When the last feed event arrived.
    pub last_event_at: Option<Timestamp>,
    /// Highest event sequence number applied.
    pub last_seq: u64,
    /// Actions sent and not definitely answered.
    pub ops: BTreeMap<OpId, Op>,
    /// Next action id.
    pub next_op: OpId,
    /// Random per run; idempotency keys are `{prefix}-{op}`.
    pub key_prefix: String,
    /// The status bar's message.
    pub status: Option<StatusMessage>,
    /// Keys.
    pub keymap: KeyMap,
    /// Boxes still being listed, and the lowest `as_of` seen in this round.
    pub listing: Vec<crate::wire::ReferralBox>,
    /// Lowest `as_of` of the lists of this round.
    pub list_as_of: Option<u64>,
    /// Whether the feed must be (re)started when the lists are in.
    pub watch_after_list: bool,
    /// Something visible changed since the last frame.
    pub dirty: bool,
    /// The next frame clears the screen and draws everything (`Ctrl-L`).
    pub repaint: bool,
    /// The user chose to leave.
    pub quitting: bool,
    /// Marked referrals, by id: kept across updates, reloads and filters.
    pub marks: HashSet<String>,
    /// A range being marked with `v`, following the cursor.
    pub range: Option<RangeMark>,
    /// The filter query actually applied (the last one that parsed).
    pub filter_query: Query,
    /// Why the filter being typed does not parse (the last good one stays applied).
    pub filter_error: Option<ParseError>,
    /// The sort (`None`: newest first).
    pub sort: Option<SortSpec>,
    /// The batch being confirmed, in its undo window, sent, or its results.
    pub batch: Option<Batch>,
    /// Next batch number (idempotency keys are `{prefix}-b{n}-{chunk}`).
    pub next_batch: u64,
    /// `batch.confirm_over` and `batch.undo_seconds`.
    pub batch_settings: BatchSettings,
    /// The `:` command line, while open.
    pub cmdline: Option<CmdLine>,
    /// Command lines entered, oldest first (kept between runs by the runtime).
    pub history: Vec<String>,
    /// Saved views (`[views.NAME] query`), by name.
    pub views: Vec<(String, String)>,
    /// The saved view shown, if any (index into `views`).
    pub view: Option<usize>,
    /// Theme names `:theme` completes.
    pub themes: Vec<String>,
}

impl State {
    /// An empty model; `key_prefix` must be random per run.
    pub fn new(
        server: impl Into<String>,
        readonly: bool,
        keymap: KeyMap,
        key_prefix: impl Into<String>,
        now: Timestamp,
    ) -> Self {
        Self {
            entries: Vec::new(),
            by_id: IdIndex::default(),
            filter_text: FilterText::default(),
            interner: Interner::default(),
            layout: crate::config::Layout::Auto,
            refused: None,
            load_error: None,
            unseen: HashSet::new(),
            panes: [PaneState::default(), PaneState::default()],
            active: Pane::Incoming,
            me: None,
            server: server.into(),
            servers: 1,
            readonly,
            partners: Vec::new(),
            now,
            utc_offset: FixedOffset::east_opt(0).expect("zero offset"),
            size: (80, 24),
            filter: Input::default(),
            filter_applied: String::new(),
            filter_editing: false,
            show_detail: false,
            popup: None,
            conn: Conn::Connecting,
            stale: false,
            last_event_at: None,
            last_seq: 0,
            ops: BTreeMap::new(),
            next_op: 1,
            key_prefix: key_prefix.into(),
            status: None,
            keymap,
            listing: Vec::new(),
            list_as_of: None,
            watch_after_list: true,
            dirty: true,
            repaint: false,
            quitting: false,
            marks: HashSet::new(),
            range: None,
            filter_query: Query::default(),
            filter_error: None,
            sort: None,
            batch: None,
            next_batch: 1,
            batch_settings: BatchSettings::default(),
            cmdline: None,
            history: Vec::new(),
            views: Vec::new(),
            view: None,
            themes: Vec::new(),
        }
    }

    /// The role, once known.
    pub fn role(&self) -> Option<Role> {
        self.me.as_ref().map(|m| m.user.role)
    }

    /// My partner's id, once known.
    pub fn my_partner(&self) -> Option<&str> {
        self.me.as_ref().map(|m| m.partner.id.as_str())
    }

    /// Operators see one pane of everything; partners see two.
    pub fn pane_count(&self) -> usize {
        if self.role() == Some(Role::Operator) {
            1
        } else {
            2
        }
    }

    /// The pane's title word.
    pub fn pane_title(&self, pane: Pane) -> &'static str {
        match (pane, self.role()) {
            (_, Some(Role::Operator)) => "All referrals",
            (Pane::Incoming, _) => "Incoming",
            (Pane::Outgoing, _) => "Outgoing",
        }
    }

    /// Whether this user may act at all (role and `--readonly`).
    pub fn may_act(&self) -> bool {
        !self.readonly && self.role().is_some_and(Role::may_act)
    }

    /// The pane a referral belongs to, if any.
    pub fn pane_of(&self, r: &Referral) -> Option<Pane> {
        let me = self.me.as_ref()?;
        if me.user.role == Role::Operator {
            return Some(Pane::Incoming);
        }
        if r.to_partner == me.partner.id {
            Some(Pane::Incoming)
        } else if r.from_partner == me.partner.id {
            Some(Pane::Outgoing)
        } else {
            None
        }
    }

    /// A pane's state.
    pub fn pane(&self, pane: Pane) -> &PaneState {
        &self.panes[pane.index()]
    }

    /// The referral under the active pane's cursor.
    pub fn current(&self) -> Option<&Entry> {
        let p = self.pane(self.active);
        p.rows.get(p.cursor).map(|&i| &self.entries[i as usize])
    }

    /// The entry of a referral id.
    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.index_of(id).map(|i| &self.entries[i as usize])
    }

    /// The index in `entries` of a referral id.
    pub fn index_of(&self, id: &str) -> Option<u32> {
        self.by_id.get(&self.entries, id)
    }

    /// Actions not yet definitely answered (a batch's items included,
    /// from its undo window on).
    pub fn in_flight(&self) -> usize {
        use super::update::batch::BatchPhase;
        let batch = match &self.batch {
            Some(b) if matches!(b.phase, BatchPhase::Undo { .. }) => b.items.len(),
            Some(b) if b.phase == BatchPhase::Sending => b.outstanding(),
            _ => 0,
        };
        self.ops.len() + batch
    }

    /// Actions that failed at least once without an answer (a batch's
    /// queued items included).
    pub fn unsent(&self) -> usize {
        let batch = self.batch.as_ref().map_or(0, |b| {
            b.chunks
                .iter()
                .filter(|c| c.unsent && !c.done)
                .map(|c| c.items.len())
                .sum()
        });
        self.ops.values().filter(|o| o.unsent).count() + batch
    }

    /// The rows' order: by [`State::sort`] when set, else newest first;
    /// ties newest first, then by id (descending).
    pub fn order(&self, a: u32, b: u32) -> Ordering {
        let ra = &self.entries[a as usize].referral;
        let rb = &self.entries[b as usize].referral;
        let by = match self.sort {
            Some(spec) => crate::query::compare(ra, rb, spec, self.now),
            None => Ordering::Equal,
        };
        by.then_with(|| rb.created_at.cmp(&ra.created_at))
            .then_with(|| rb.id.cmp(&ra.id))
    }

    /// Whether an entry passes the filter.
    pub fn matches_filter(&self, i: u32) -> bool {
        self.filter_query.matches_all()
            || self
                .filter_query
                .matches(&self.entries[i as usize].referral, self.now)
    }

    /// Whether a referral is marked.
    pub fn is_marked(&self, id: &str) -> bool {
        self.marks.contains(id)
    }

    /// Marked referrals not shown in the active pane's rows (filtered out,
    /// or in the other pane).
    pub fn hidden_marks(&self) -> usize {
        if self.marks.is_empty() {
            return 0;
        }
        // O(marks), not O(rows): a mark is shown when its referral is in
        // the active pane and passes the filter.
        let shown = self
            .marks
            .iter()
            .filter_map(|id| self.index_of(id))
            .filter(|&i| {
                self.pane_of(&self.entries[i as usize].referral) == Some(self.active)
                    && self.matches_filter(i)
            })
            .count();
        self.marks.len() - shown
    }

    /// Read-only monitor: `--readonly` or an operator token. Shows the
    /// per-partner queue summary and no action anywhere.
    pub fn monitor(&self) -> bool {
        self.readonly || self.role() == Some(Role::Operator)
    }

    /// Table rows of a pane at the current size (at least 1), as if it
    /// were shown; `None` when the terminal is too small to draw it.
    pub fn page_rows(&self, pane: Pane) -> Option<usize> {
        let l = layout::layout_for(self, pane);
        l.pane_rect(pane).map(|r| layout::table_rows(r).max(1))
    }

    /// The rows of `pane` currently on screen, as `rows` indices.
    pub fn visible_range(&self, pane: Pane) -> std::ops::Range<usize> {
        let l = layout::layout(self);
        let Some(r) = l.pane_rect(pane) else {
            return 0..0;
        };
        let p = self.pane(pane);
        let start = p.offset.min(p.rows.len());
        start..(start + layout::table_rows(r)).min(p.rows.len())
    }

    /// When something visible next changes with time alone (a countdown or
    /// an age), or `None` when nothing does: the runtime's timer.
    pub fn next_wakeup(&self) -> Option<Timestamp> {
        let mut best: Option<Timestamp> = None;
        let mut consider = |t: Timestamp| {
            if t > self.now && best.is_none_or(|b| t < b) {
                best = Some(t);
            }
        };
        if let Conn::Reconnecting {
            since, retry_at, ..
        } = &self.conn
        {
            if *retry_at > self.now {
                consider(self.now + chrono::Duration::seconds(1));
            }
            let offline_at = *since + chrono::Duration::seconds(OFFLINE_AFTER_SECS);
            consider(offline_at);
        }
        if let Some(m) = &self.status {
            consider(m.until);
        }
        if let Some(Batch {
            phase: super::update::batch::BatchPhase::Undo { until },
            ..
        }) = &self.batch
        {
            consider((self.now + chrono::Duration::seconds(1)).min(*until));
        }
        for pane in [Pane::Incoming, Pane::Outgoing] {
            for idx in self.visible_range(pane) {
                let r = &self.entries[self.pane(pane).rows[idx] as usize].referral;
                consider(super::format::next_age_change(self.now, r.created_at));
                if r.status == Status::Pending {
                    consider(super::format::next_left_change(self.now, r.expires_at));
                }
            }
        }
        best
    }
}
