//! The inbox's model: everything the views draw, nothing they compute.
//!
//! Referrals live once, in `entries`, keyed by id with the highest version
//! seen. Each pane holds an ordered list of entry indices (newest first)
//! and the filtered rows shown; its cursor follows a referral id, so rows
//! inserted or re-sorted around it never move the user off their row nor
//! the row under the cursor on screen.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};

use chrono::FixedOffset;
use tui_input::Input;

use super::keymap::KeyMap;
use super::layout;
use super::msg::OpId;
use super::update::batch::Batch;
use super::update::marks::RangeMark;
use super::update::palette::CmdLine;
use crate::config::BatchSettings;
use crate::query::{ParseError, Query, SortSpec};
use crate::wire::BatchAction;
use crate::wire::{Me, Partner, Referral, Role, Status, Timestamp};

mod filter_text;
mod popups;
mod rows;
mod status;

pub use filter_text::*;
pub use popups::*;
pub use rows::*;
pub use status::*;

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
    pub request: BatchAction,
    /// Its idempotency key, reused on every retry.
    pub idempotency_key: String,
    /// Some attempt failed without a definite answer: it may not have reached the server.
    pub unsent: bool,
    /// The last failure, for the status bar.
    pub last_error: Option<String>,
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
    /// Where the server URL and the token came from (flag, environment,
    /// config file, profile), to say what to change when the first load
    /// fails; empty where not known (an SSH session).
    pub origins: crate::config::Origins,
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
    /// The detail's first row shown below its title (0: the overview, cut to fit).
    pub detail_scroll: usize,
    /// The detail covers the panes (`z`).
    pub detail_full: bool,
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
    /// Every message of the session, oldest first (`:messages` shows them
    /// newest first); at most [`MESSAGE_LOG_MAX`].
    pub messages: Vec<LoggedMessage>,
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
    /// The sort before the first view was shown: a view's `sort:` ends
    /// with the view and this comes back.
    pub sort_before_view: Option<Option<SortSpec>>,
    /// Theme names `:theme` completes.
    pub themes: Vec<String>,
    /// `ui.mouse`: clicks and the wheel act (off until the runtime says).
    pub mouse: bool,
    /// `[notify]` (title and alerts off until the runtime sets them).
    pub notify: crate::config::NotifySettings,
    /// The terminal title last asked for, so it is written only on change.
    pub title_shown: Option<String>,
    /// When the last new-lead alert went out (a burst rings once).
    pub alerted_at: Option<Timestamp>,
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
            origins: crate::config::Origins::default(),
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
            detail_scroll: 0,
            detail_full: false,
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
            messages: Vec::new(),
            sort_before_view: None,
            views: Vec::new(),
            view: None,
            themes: Vec::new(),
            mouse: false,
            notify: crate::config::NotifySettings {
                title: false,
                alert: crate::config::Alert::Off,
                query: None,
            },
            title_shown: None,
            alerted_at: None,
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

    /// Read-only monitor: every user who may not act (`--readonly`, a
    /// viewer or an operator token), once known. Shows the per-partner
    /// queue summary, the READ-ONLY badge and no action anywhere.
    pub fn monitor(&self) -> bool {
        self.readonly || self.role().is_some_and(|r| !r.may_act())
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
            phase: super::update::batch::BatchPhase::Undo { until, .. },
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
