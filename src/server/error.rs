//! HTTP errors: every non-2xx answer is `{"error": {...}}` with the
//! protocol's code, and every domain refusal maps onto exactly one.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::domain::visibility::render_for;
use crate::domain::{Actor, DomainError};
use crate::store::{IdemTaken, StoreError};
use crate::wire::{ApiError, ErrorBody, ErrorCode};

/// An error answer: status, body, and for 429 the `Retry-After` seconds.
#[derive(Debug, Clone)]
pub struct HttpError {
    pub error: ApiError,
    pub retry_after: Option<u64>,
}

impl HttpError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ApiError::new(code, message),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorCode::Unauthenticated,
            "missing or unknown bearer token",
        )
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "no such referral")
    }

    pub fn invalid(field: Option<&str>, message: impl Into<String>) -> Self {
        let mut e = Self::new(ErrorCode::Invalid, message);
        e.error.field = field.map(str::to_owned);
        e
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.error.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The JSON body.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&ErrorBody {
            error: self.error.clone(),
        })
        .expect("error bodies serialize")
    }

    /// Maps a domain refusal, rendering `current` as the actor may see it.
    pub fn from_domain(err: &DomainError, actor: &Actor) -> Self {
        match err {
            DomainError::NotFound => Self::not_found(),
            DomainError::Forbidden { message } => Self::new(ErrorCode::Forbidden, message.clone()),
            DomainError::Invalid { field, message } => Self::invalid(field.as_deref(), message),
            DomainError::Conflict { message, current } => {
                let mut e = Self::new(ErrorCode::Conflict, message.clone());
                e.error.current = render_for(current, actor).map(Box::new);
                e
            }
            DomainError::Duplicate {
                message,
                existing_id,
            } => {
                let mut e = Self::new(ErrorCode::Duplicate, message.clone());
                e.error.existing_id = existing_id.clone();
                e
            }
        }
    }
}

impl From<StoreError> for HttpError {
    fn from(err: StoreError) -> Self {
        tracing::warn!(error = %err, "store failure");
        match err {
            // A store that cannot answer (a database restarting, a disk
            // full) is passing: 503 with Retry-After, and the retry with
            // the same Idempotency-Key runs once.
            StoreError::Backend(_) => {
                let mut e = Self::new(
                    ErrorCode::Unavailable,
                    "the store is not answering; try again",
                );
                e.retry_after = Some(1);
                e
            }
            StoreError::Rejected(message) => Self::internal(message),
            // Answered by `idempotency::store_failed` where a key is sent;
            // here only the codes (a replay needs the kept answer's own
            // status and header: 409, so the client retries and gets it).
            StoreError::Taken(IdemTaken::Mismatch) => Self::new(
                ErrorCode::IdempotencyMismatch,
                "this Idempotency-Key was used with a different request",
            ),
            StoreError::Taken(IdemTaken::InFlight | IdemTaken::Replay(_)) => Self::new(
                ErrorCode::IdempotencyInFlight,
                "a request with this Idempotency-Key is still running",
            ),
        }
    }
}

impl From<tokio::task::JoinError> for HttpError {
    fn from(err: tokio::task::JoinError) -> Self {
        tracing::warn!(error = %err, "store task failed");
        Self::internal("internal error")
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let mut response = json_response(self.status(), self.body());
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// A JSON response from already serialized bytes.
pub fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
