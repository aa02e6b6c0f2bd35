//! Error bodies: `{"error": {"code", "message", ...}}`.

use serde::{Deserialize, Serialize};

use super::Referral;

/// The protocol's error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    Duplicate,
    IdempotencyInFlight,
    Gone,
    TooLarge,
    Invalid,
    IdempotencyMismatch,
    RateLimited,
    /// 500: the server failed; nothing was kept, so a retry runs again.
    Internal,
    /// 503: the store is not answering.
    Unavailable,
    /// A code this client does not know (a newer server).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The HTTP status this code is sent with.
    pub fn http_status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthenticated => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Conflict | Self::Duplicate | Self::IdempotencyInFlight => 409,
            Self::Gone => 410,
            Self::TooLarge => 413,
            Self::Invalid | Self::IdempotencyMismatch => 422,
            Self::RateLimited => 429,
            Self::Internal | Self::Unknown => 500,
            Self::Unavailable => 503,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::Duplicate => "duplicate",
            Self::IdempotencyInFlight => "idempotency_in_flight",
            Self::Gone => "gone",
            Self::TooLarge => "too_large",
            Self::Invalid => "invalid",
            Self::IdempotencyMismatch => "idempotency_mismatch",
            Self::RateLimited => "rate_limited",
            Self::Internal => "internal",
            Self::Unavailable => "unavailable",
            Self::Unknown => "unknown",
        }
    }
}

/// The inside of an error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// On 422 `invalid`: the field to blame, as a dotted path (`lead.company`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// On 409 `conflict`: the referral as it is now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<std::boxed::Box<Referral>>,
    /// On 409 `duplicate`, when the caller is a party to the open hop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            current: None,
            existing_id: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ApiError {}

/// `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ApiError,
}
