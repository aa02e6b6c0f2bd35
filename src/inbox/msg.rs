//! What the reducer hears ([`Msg`]) and what it asks the runtime to do
//! ([`Effect`]).
//!
//! Strings from the network travel raw inside a `Msg`: the reducer
//! sanitizes them once, at the top of [`super::update::update`], before
//! they reach the model. Views never sanitize.

use ratatui::crossterm::event::{KeyEvent, MouseEvent};

use crate::wire::{
    BatchAction, BatchRequest, BatchResponse, Me, Partner, Referral, ReferralBox, Timestamp,
};

/// Identifies one user action from the moment it is made to its answer.
pub type OpId = u64;

/// An input to the reducer. Time always arrives in the message.
#[derive(Debug, Clone)]
pub enum Msg {
    /// A key press.
    Key(KeyEvent),
    /// A click or wheel turn (only with `ui.mouse`).
    Mouse(MouseEvent),
    /// Something asked to stop the app for the shell (SIGTSTP from `kill`).
    SuspendRequested,
    /// A [`TermEffect`] finished: what came of it.
    Terminal(TermDone),
    /// The terminal's new size (columns, rows).
    Resize(u16, u16),
    /// The clock moved (sent only when something visible counts down).
    Tick(Timestamp),
    /// `GET /v1/me` answered.
    Me(Result<Me, String>),
    /// `GET /v1/partners` answered.
    Partners(Result<Vec<Partner>, String>),
    /// One page of a box being listed, before [`Msg::Listed`] ends it.
    ListPage {
        /// Which box.
        box_: ReferralBox,
        /// The page's referrals.
        items: Vec<Referral>,
    },
    /// Every page of one box was listed (`as_of` of the first page).
    Listed {
        /// Which box.
        box_: ReferralBox,
        /// Referrals not yet sent as [`Msg::ListPage`] and the first page's
        /// `as_of`, or why it failed.
        result: Result<(Vec<Referral>, u64), String>,
    },
    /// A load (me, partners, list) failed for now and will be tried again.
    LoadRetrying {
        /// What is being loaded.
        what: String,
        /// Why it failed.
        error: String,
        /// Milliseconds until the next try.
        retry_in_ms: u64,
        /// When.
        at: Timestamp,
    },
    /// An action failed for now (network, 5xx) and is being retried with
    /// the same idempotency key.
    ActionRetrying {
        /// The action.
        op: OpId,
        /// Why the last attempt failed.
        error: String,
    },
    /// An action got a definite answer.
    ActionDone {
        /// The action.
        op: OpId,
        /// The answer.
        outcome: ActionOutcome,
        /// When it arrived.
        at: Timestamp,
    },
    /// The answer to [`Effect::SendLead`].
    LeadSent(Result<Box<Referral>, LeadRefusal>),
    /// Something happened on the live feed.
    Feed(FeedMsg),
    /// A batch chunk failed for now (network, 5xx) and is being retried
    /// with the same idempotency key.
    BatchRetrying {
        /// The batch.
        batch: u64,
        /// The chunk's index.
        chunk: usize,
        /// Why the last attempt failed.
        error: String,
    },
    /// A batch chunk got a definite answer: per-item results, or why the
    /// whole request was refused.
    BatchDone {
        /// The batch.
        batch: u64,
        /// The chunk's index.
        chunk: usize,
        /// The answer.
        result: Result<BatchResponse, String>,
        /// When it arrived.
        at: Timestamp,
    },
    /// `:export` finished: how many rows went to which file, or why not.
    Exported(Result<(String, usize), String>),
    /// `:theme` finished: the theme's name, or why it could not be loaded.
    ThemeChanged(Result<String, String>),
    /// The client moved to the next server: the live one could not be
    /// reached (a request's or the feed's connection failed). Base URLs.
    ServerMoved {
        /// The server that could not be reached.
        from: String,
        /// The server now live.
        to: String,
        /// Why the first could not be reached.
        reason: String,
        /// Every server failed and none has answered since: this move only
        /// picks the next one to try.
        all_down: bool,
        /// When.
        at: Timestamp,
    },
}

/// What came of a [`TermEffect`] that leaves the terminal or starts a
/// program. `Err` carries why not, e.g. "not available in this session"
/// (over SSH no local terminal, editor or browser may be used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermDone {
    /// Back from `Ctrl-Z` (`fg`), or why it could not suspend.
    Resumed(Result<(), String>),
    /// The editor's text (raw: the reducer sanitizes it), or why not.
    Edited(Result<String, String>),
    /// The URL handed to the browser or mail program, or why not.
    Opened(Result<String, String>),
}

/// A definite answer to an action.
#[derive(Debug, Clone)]
pub enum ActionOutcome {
    /// 2xx: the referral(s) as the server now has them (forward: both hops).
    Applied(Vec<Referral>),
    /// 409 conflict: someone else decided first; `current` says who and when.
    Conflict {
        /// The referral as it is now, when the server sent it.
        current: Option<Box<Referral>>,
        /// The server's message.
        message: String,
    },
    /// Any other definite failure (403, 404, 422, ...).
    Failed {
        /// The error code and message.
        message: String,
    },
}

/// The live feed, as the runtime relays it.
#[derive(Debug, Clone)]
pub enum FeedMsg {
    /// The stream is open.
    Connected {
        /// When.
        at: Timestamp,
    },
    /// One referral changed.
    Event {
        /// The event's sequence number.
        seq: u64,
        /// The referral as this user may see it.
        referral: Box<Referral>,
        /// When it arrived.
        at: Timestamp,
    },
    /// The stream dropped; it reconnects after `retry_in_ms`.
    Disconnected {
        /// Why.
        reason: String,
        /// Milliseconds until the next attempt.
        retry_in_ms: u64,
        /// When it dropped.
        at: Timestamp,
    },
    /// 410: the resume point is too old; list again.
    Gone {
        /// When.
        at: Timestamp,
    },
    /// No event or heartbeat within the timeout: the data may be stale.
    Stale {
        /// When.
        at: Timestamp,
    },
}

/// What the runtime must do for the reducer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Send an action in the background; retry network/5xx failures with
    /// the same key until the answer is definite.
    Send {
        /// The action's id, echoed in [`Msg::ActionRetrying`] and [`Msg::ActionDone`].
        op: OpId,
        /// The referral acted on.
        referral_id: String,
        /// The body.
        request: BatchAction,
        /// The idempotency key, fresh per action, the same on every retry.
        idempotency_key: String,
    },
    /// `GET /v1/me`.
    LoadMe,
    /// `GET /v1/partners`.
    LoadPartners,
    /// List every page of a box.
    List(ReferralBox),
    /// (Re)start the live feed after sequence number `after`.
    Watch {
        /// Resume point: events after it are replayed.
        after: u64,
    },
    /// Leave the app.
    Quit,
    /// Send one chunk of a batch (at most 500 items); retry network/5xx
    /// failures with the same key until the answer is definite.
    SendBatch {
        /// The batch.
        batch: u64,
        /// The chunk's index in the batch.
        chunk: usize,
        /// The items.
        request: BatchRequest,
        /// The chunk's idempotency key, the same on every retry.
        idempotency_key: String,
    },
    /// Write referrals to a file, as CSV or JSON (by `format`).
    Export {
        /// Where.
        path: String,
        /// CSV or JSON.
        format: ExportFormat,
        /// The rows, in view order.
        referrals: Vec<Referral>,
    },
    /// Append a line to the command history file.
    SaveHistory(String),
    /// Load and switch to a theme.
    SetTheme(String),
    /// Something for the terminal itself (see [`crate::inbox::suspend`]).
    Terminal(TermEffect),
    /// Put this text on the clipboard: the runtime writes it to the
    /// terminal as OSC 52 ([`super::update::yank::osc52`]).
    Copy(String),
    /// `POST /v1/referrals` (the `n` form); network/5xx failures retried
    /// with the same key until the answer is definite.
    SendLead {
        /// The body, checked by the form.
        request: crate::wire::CreateReferral,
        /// Fresh per send, the same on every retry.
        idempotency_key: String,
    },
}

/// Why the server refused a new lead: its message, and the field it
/// blamed (`lead.company`) when it named one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadRefusal {
    /// The field path, on a 422.
    pub field: Option<String>,
    /// What the server (or the network) said.
    pub message: String,
}

/// What only the local terminal front end can do: leave the screen for a
/// while, start a program, or write an escape sequence outside a frame.
/// Every string in here is already sanitized by the reducer; the runtime
/// strips what could end an OSC sequence once more when writing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermEffect {
    /// `Ctrl-Z`: give the terminal back to the shell until `fg`.
    Suspend,
    /// `Ctrl-E`: edit this note in `$VISUAL` / `$EDITOR` (fallback `vi`).
    EditNote(String),
    /// Open a checked `https://` or `mailto:` URL with `$BROWSER`,
    /// `xdg-open` or `open`.
    Open(String),
    /// Set the terminal title (OSC 2).
    Title(String),
    /// Announce a new incoming lead.
    Alert {
        /// Bell, OSC 9 or OSC 777.
        how: crate::config::Alert,
        /// A short title (OSC 777 only).
        title: String,
        /// The text.
        body: String,
    },
}

/// What `:export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// A header and one record per referral.
    Csv,
    /// One JSON array.
    Json,
}
