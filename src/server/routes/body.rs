//! Reading request bodies: size limit, JSON, strict types.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::domain::Action;
use crate::server::error::HttpError;
use crate::wire::{
    AcceptRequest, ActionKind, CloseRequest, ErrorCode, ForwardRequest, MAX_BODY_BYTES, ReasonCode,
    RejectRequest, WithdrawRequest,
};

/// The body's bytes, or 413 `too_large` past 1 MiB.
pub fn bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, HttpError> {
    match body {
        Ok(b) if b.len() > MAX_BODY_BYTES => Err(too_large()),
        Ok(b) => Ok(b),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(too_large()),
        Err(rejection) => Err(HttpError::bad_request(format!(
            "could not read the body: {rejection}"
        ))),
    }
}

fn too_large() -> HttpError {
    HttpError::new(ErrorCode::TooLarge, "the body is over 1 MiB")
}

/// Parses JSON: 400 `bad_request` on malformed JSON, wrong types or unknown fields.
pub fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, HttpError> {
    serde_json::from_slice(bytes).map_err(|e| HttpError::bad_request(format!("invalid body: {e}")))
}

/// Parses an action's body (without `id` and `action`) into its version and
/// [`Action`]. A well-typed value outside its set (an unknown reason code or
/// close status) is 422 `invalid` naming the field; anything else malformed
/// is 400.
pub fn action(kind: ActionKind, value: serde_json::Value) -> Result<(u64, Action), HttpError> {
    if kind == ActionKind::Reject
        && let Some(code) = value.pointer("/reason/code").and_then(|c| c.as_str())
        && ReasonCode::parse(code).is_none()
    {
        let known: Vec<&str> = ReasonCode::ALL.iter().map(|c| c.as_str()).collect();
        return Err(HttpError::invalid(
            Some("reason.code"),
            format!(
                "unknown reason code {code:?}; expected one of {}",
                known.join(", ")
            ),
        ));
    }
    if kind == ActionKind::Close
        && let Some(status) = value.get("status").and_then(|c| c.as_str())
        && !matches!(status, "won" | "lost")
    {
        return Err(HttpError::invalid(
            Some("status"),
            format!("a referral closes as \"won\" or \"lost\", not {status:?}"),
        ));
    }
    fn de<T: DeserializeOwned>(v: serde_json::Value) -> Result<T, HttpError> {
        serde_json::from_value(v).map_err(|e| HttpError::bad_request(format!("invalid body: {e}")))
    }
    Ok(match kind {
        ActionKind::Accept => {
            let r: AcceptRequest = de(value)?;
            (r.version, Action::Accept { note: r.note })
        }
        ActionKind::Reject => {
            let r: RejectRequest = de(value)?;
            (r.version, Action::Reject { reason: r.reason })
        }
        ActionKind::Forward => {
            let r: ForwardRequest = de(value)?;
            (
                r.version,
                Action::Forward {
                    to_partner: r.to_partner,
                    note: r.note,
                    commission_pct: r.commission_pct,
                    expires_in_hours: r.expires_in_hours,
                },
            )
        }
        ActionKind::Withdraw => {
            let r: WithdrawRequest = de(value)?;
            (r.version, Action::Withdraw)
        }
        ActionKind::Close => {
            let r: CloseRequest = de(value)?;
            (
                r.version,
                Action::Close {
                    status: r.status,
                    outcome: r.outcome.unwrap_or_default(),
                },
            )
        }
    })
}
