//! The exchange's own types: who acts, what they do, what a referral is as
//! the exchange holds it, and why an action is refused. The store writes
//! and reads them; it owns none of them.

use crate::wire::{CloseStatus, OutcomeInput, ReasonInput, Referral, Role};

/// Who is calling: the authenticated user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: String,
    pub user_name: String,
    pub partner_id: String,
    pub partner_name: String,
    pub role: Role,
}

/// A referral as stored: unmasked (`contact_masked` false, contacts
/// present), with what visibility and masking need to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReferral {
    pub referral: Referral,
    /// The partner that accepted a hop of this lead (that hop is
    /// `accepted`, `won` or `lost`), if any.
    pub accepted_partner: Option<String>,
}

/// An action on one referral, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Accept {
        note: Option<String>,
    },
    Reject {
        reason: ReasonInput,
    },
    Forward {
        to_partner: String,
        note: Option<String>,
        commission_pct: Option<u32>,
        expires_in_hours: Option<u32>,
    },
    Withdraw,
    Close {
        status: CloseStatus,
        outcome: OutcomeInput,
    },
}

/// An action with the referral and the version the user saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionItem {
    pub id: String,
    pub version: u64,
    pub action: Action,
}

/// Why one action or creation was not applied. The variants map one to one
/// onto the protocol's per-item outcomes and error codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainError {
    /// No such referral, or not visible to the caller (404).
    NotFound,
    /// Wrong role or wrong side (403).
    Forbidden { message: String },
    /// A rule is broken (422), with the field to blame where there is one.
    Invalid {
        field: Option<String>,
        message: String,
    },
    /// Stale version or a status the action does not allow (409), with the
    /// referral as it is now; the message says who decided and when.
    Conflict {
        message: String,
        current: Box<StoredReferral>,
    },
    /// A lead with that domain is open (409); `existing_id` only when the
    /// caller's partner is a party to that open hop.
    Duplicate {
        message: String,
        existing_id: Option<String>,
    },
}

/// An applied action (or a created referral).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub referral: StoredReferral,
    /// On a forward: the new hop.
    pub forwarded: Option<StoredReferral>,
}

/// One item's result.
pub type ItemResult = Result<Applied, DomainError>;

/// An open (`pending` or `accepted`) hop of a lead with a given domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenHop {
    /// The hop's referral id.
    pub id: String,
    /// Its sender.
    pub from_partner: String,
    /// Its recipient.
    pub to_partner: String,
}
