//! Partners, users, leads and referrals as the protocol carries them.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::name::Name;

use super::time::{Timestamp, serde_secs};

/// What a partner is on the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartnerKind {
    Provider,
    Integrator,
    Affiliate,
}

impl PartnerKind {
    pub const ALL: [PartnerKind; 3] = [Self::Provider, Self::Integrator, Self::Affiliate];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provider => "provider",
            Self::Integrator => "integrator",
            Self::Affiliate => "affiliate",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// An organisation on the exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Partner {
    pub id: String,
    pub name: String,
    pub kind: PartnerKind,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub regions: Vec<String>,
}

/// `GET /v1/partners`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartnerList {
    pub items: Vec<Partner>,
}

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Admin,
    Viewer,
    Operator,
}

impl Role {
    pub const ALL: [Role; 4] = [Self::Agent, Self::Admin, Self::Viewer, Self::Operator];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Admin => "admin",
            Self::Viewer => "viewer",
            Self::Operator => "operator",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Agents and admins act; viewers and operators only read.
    pub fn may_act(self) -> bool {
        matches!(self, Self::Agent | Self::Admin)
    }
}

/// `GET /v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Me {
    pub user: MeUser,
    pub partner: MePartner,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MeUser {
    pub id: String,
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MePartner {
    pub id: String,
    pub name: String,
}

/// The prospective customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Lead {
    pub company: String,
    pub domain: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub category: Name,
    pub summary: Option<String>,
    pub est_value_cents: Option<i64>,
    pub currency: Name,
    pub region: Option<Name>,
}

/// A referral's status. `pending` and `accepted` are open; the rest are final.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Accepted,
    Rejected,
    Forwarded,
    Withdrawn,
    Expired,
    Won,
    Lost,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Self::Pending,
        Self::Accepted,
        Self::Rejected,
        Self::Forwarded,
        Self::Withdrawn,
        Self::Expired,
        Self::Won,
        Self::Lost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Forwarded => "forwarded",
            Self::Withdrawn => "withdrawn",
            Self::Expired => "expired",
            Self::Won => "won",
            Self::Lost => "lost",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Every status but `pending` and `accepted` is final.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Pending | Self::Accepted)
    }
}

/// Why a referral was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    UnclearNeed,
    UnableToSupport,
    Duplicate,
    WrongPartner,
    Other,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 5] = [
        Self::UnclearNeed,
        Self::UnableToSupport,
        Self::Duplicate,
        Self::WrongPartner,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnclearNeed => "unclear_need",
            Self::UnableToSupport => "unable_to_support",
            Self::Duplicate => "duplicate",
            Self::WrongPartner => "wrong_partner",
            Self::Other => "other",
        }
    }

    /// A short human label for pickers.
    pub fn label(self) -> &'static str {
        match self {
            Self::UnclearNeed => "Unclear need",
            Self::UnableToSupport => "Unable to support",
            Self::Duplicate => "Duplicate",
            Self::WrongPartner => "Wrong partner",
            Self::Other => "Other (note required)",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// `reason` on a rejected referral.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reason {
    pub code: ReasonCode,
    pub note: Option<String>,
}

/// `outcome` on a won or lost referral.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Outcome {
    pub value_cents: Option<i64>,
    pub note: Option<String>,
}

/// Who took a referral out of `pending` (or closed it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DecidedBy {
    pub user: Name,
    pub name: Name,
    pub partner: Name,
}

/// One hop of a lead from one partner to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Referral {
    pub id: String,
    pub version: u64,
    pub status: Status,
    pub from_partner: Name,
    pub to_partner: Name,
    pub lead: Lead,
    pub contact_masked: bool,
    /// Whole percent, 0..=100.
    pub commission_pct: u32,
    pub note: Option<String>,
    pub decision_note: Option<String>,
    #[serde(with = "serde_secs")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "serde_secs")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[serde(with = "serde_secs")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    #[serde(with = "serde_secs::option", default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<Timestamp>,
    /// Shared: a client holding many referrals keeps one per decider.
    pub decided_by: Option<Arc<DecidedBy>>,
    /// Boxed: only rejected referrals have one.
    pub reason: Option<std::boxed::Box<Reason>>,
    /// Boxed: only closed referrals have one.
    pub outcome: Option<std::boxed::Box<Outcome>>,
    pub parent_id: Option<String>,
    pub forwarded_to: Option<String>,
    /// Shared: many referrals travel the same path.
    #[schema(value_type = Vec<String>)]
    pub chain: Arc<[Name]>,
}

impl Referral {
    /// Blanks the contact fields and marks them masked.
    pub fn mask_contact(&mut self) {
        self.lead.contact_name = None;
        self.lead.contact_email = None;
        self.lead.contact_phone = None;
        self.contact_masked = true;
    }
}

/// Which side of the caller's referrals to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Box {
    Incoming,
    Outgoing,
    #[default]
    All,
}

impl Box {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Incoming => "incoming",
            Self::Outgoing => "outgoing",
            Self::All => "all",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "incoming" => Some(Self::Incoming),
            "outgoing" => Some(Self::Outgoing),
            "all" => Some(Self::All),
            _ => None,
        }
    }
}

/// `GET /v1/referrals`: one page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReferralPage {
    pub items: Vec<Referral>,
    pub next_cursor: Option<String>,
    /// The event sequence number at which the page was read.
    pub as_of: u64,
}
