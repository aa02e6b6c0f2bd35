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

    /// The usual code of an error status whose body says none (a proxy's
    /// page, a framework's plain-text 4xx): the inverse of
    /// [`ErrorCode::http_status`] for the codes a status alone can name;
    /// any other 5xx is `internal`. `None` for any other status: each
    /// reader picks its own fallback.
    pub fn for_status(status: u16) -> Option<Self> {
        Some(match status {
            400 => Self::BadRequest,
            401 => Self::Unauthenticated,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            409 => Self::Conflict,
            410 => Self::Gone,
            413 => Self::TooLarge,
            422 => Self::Invalid,
            429 => Self::RateLimited,
            503 => Self::Unavailable,
            500..=599 => Self::Internal,
            _ => return None,
        })
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

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn a_status_alone_names_the_code_it_is_sent_with() {
        for code in [
            ErrorCode::BadRequest,
            ErrorCode::Unauthenticated,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::Conflict,
            ErrorCode::Gone,
            ErrorCode::TooLarge,
            ErrorCode::Invalid,
            ErrorCode::RateLimited,
            ErrorCode::Internal,
            ErrorCode::Unavailable,
        ] {
            assert_eq!(ErrorCode::for_status(code.http_status()), Some(code));
        }
        assert_eq!(ErrorCode::for_status(502), Some(ErrorCode::Internal));
        assert_eq!(ErrorCode::for_status(418), None);
        assert_eq!(ErrorCode::for_status(200), None);
    }
}
