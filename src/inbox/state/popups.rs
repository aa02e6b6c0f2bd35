//! The popups' sub-states: reject, forward, close.

use tui_input::Input;

use crate::wire::ReasonCode;

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
    /// Indices into [`State::partners`](super::State::partners) matching the query.
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
    /// The session's messages, newest first (`:messages`).
    Messages {
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
    /// `Y`: what of the cursor row to copy.
    Yank {
        /// The highlighted row of [`crate::inbox::update::yank::CHOICES`].
        selected: usize,
    },
    /// `n`: a new lead.
    Compose(Box<crate::inbox::update::compose::ComposeForm>),
}
