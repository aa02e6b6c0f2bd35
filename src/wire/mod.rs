//! The wire types of PROTOCOL.md v1: what the server sends and the client
//! reads. They know neither the server nor the inbox; both depend on them.
//!
//! Request bodies reject unknown fields (`deny_unknown_fields`), as the
//! protocol requires. Response types are lenient so that a client keeps
//! working against a newer server.

mod error;
mod name;
mod referral;
mod request;
mod time;

pub use error::{ApiError, ErrorBody, ErrorCode};
pub use name::Name;
pub use referral::{
    Box as ReferralBox, DecidedBy, Lead, Me, MePartner, MeUser, Outcome, Partner, PartnerKind,
    PartnerList, Reason, ReasonCode, Referral, ReferralPage, Role, Status,
};
pub use request::{
    AcceptRequest, ActionKind, BatchAction, BatchItem, BatchOutcome, BatchRequest, BatchResponse,
    BatchResult, BatchSummary, CloseRequest, CloseStatus, CreateReferral, ForwardRequest,
    ForwardResponse, LeadInput, OutcomeInput, ReasonInput, RejectRequest, WithdrawRequest,
};
pub use time::{Timestamp, format_timestamp, now_seconds, parse_timestamp};

/// Longest one-line field (company, domain, contact fields, category,
/// region, names), in Unicode scalar values.
pub const MAX_LINE_CHARS: usize = 200;
/// Longest multi-line field (summary and every note), in Unicode scalar values.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Most items in one batch request.
pub const MAX_BATCH_ITEMS: usize = 500;
/// Most partners in a lead's chain (so at most four hops).
pub const MAX_CHAIN: usize = 5;
/// Largest request body in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Default life of a pending referral, in hours.
pub const DEFAULT_EXPIRES_IN_HOURS: u32 = 72;
/// Largest `expires_in_hours`.
pub const MAX_EXPIRES_IN_HOURS: u32 = 720;
/// Header that carries an idempotency key.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// Header set on a replayed idempotent response.
pub const IDEMPOTENT_REPLAYED: &str = "Idempotent-Replayed";
