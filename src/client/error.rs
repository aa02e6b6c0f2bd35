//! [`ClientError`]: why a call failed, and whether the answer is definite
//! or worth retrying; how an HTTP answer or a reqwest failure becomes one.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;

use super::one_line;
use crate::wire::{ApiError, ErrorBody, ErrorCode, Referral};

/// Why a call failed.
#[derive(Debug, Clone)]
pub enum ClientError {
    /// The server answered with a non-2xx status.
    Api {
        /// The HTTP status.
        status: u16,
        /// The error body (synthesised from the status when the body was not
        /// the protocol's `{"error": {...}}`, e.g. from a proxy).
        error: ApiError,
        /// `Retry-After`, when the server sent one.
        retry_after: Option<Duration>,
    },
    /// No answer: connection refused or reset, DNS, TLS, timeout. Whether
    /// the server acted is unknown; a retry with the same key is safe.
    Network(String),
    /// The server answered 2xx with a body this client does not understand.
    Decode(String),
}

impl ClientError {
    /// An answer the server gave that a retry would not change: any status
    /// below 500 except 429 and 409 `idempotency_in_flight`.
    pub fn is_definite(&self) -> bool {
        match self {
            Self::Api { status, error, .. } => {
                *status < 500
                    && *status != 429
                    && !(*status == 409 && error.code == ErrorCode::IdempotencyInFlight)
            }
            Self::Network(_) | Self::Decode(_) => false,
        }
    }

    /// Worth retrying with the same idempotency key: network errors and
    /// timeouts, 5xx, 429 and 409 `idempotency_in_flight`.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { status, error, .. } => {
                *status >= 500
                    || *status == 429
                    || (*status == 409 && error.code == ErrorCode::IdempotencyInFlight)
            }
            Self::Network(_) => true,
            Self::Decode(_) => false,
        }
    }

    /// The error code, when the server gave one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api { error, .. } => Some(error.code),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// On a 409 `conflict`: the referral as it is now.
    pub fn current(&self) -> Option<&Referral> {
        match self {
            Self::Api { error, .. } => error.current.as_deref(),
            _ => None,
        }
    }

    /// `Retry-After`, when the server sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Api {
                status,
                error,
                retry_after,
            } => {
                let label = match error.code {
                    ErrorCode::Unknown => format!("HTTP {status}"),
                    code => code.as_str().replace('_', " "),
                };
                let mut message = one_line(&error.message, 200);
                if message.is_empty() {
                    if let Some(cur) = &error.current {
                        message = format!("now {} (version {})", cur.status.as_str(), cur.version);
                    } else {
                        message = format!("HTTP {status}");
                    }
                }
                write!(f, "{label}: {message}")?;
                if let Some(field) = &error.field {
                    write!(f, " [{}]", one_line(field, 80))?;
                }
                if let Some(after) = retry_after {
                    write!(f, " (retry in {})", human_duration(*after))?;
                }
                Ok(())
            }
            Self::Network(m) => f.write_str(m),
            Self::Decode(m) => write!(f, "unexpected answer from server: {m}"),
        }
    }
}

impl std::error::Error for ClientError {}

/// `3s`, `250ms`, `2m 5s`.
pub(crate) fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        format!("{}ms", d.as_millis())
    } else if secs < 60 {
        if d.subsec_millis() >= 100 && secs < 10 {
            format!("{:.1}s", d.as_secs_f64())
        } else {
            format!("{secs}s")
        }
    } else if secs < 3600 {
        format!("{}m {}s", secs / 60, secs % 60)
    } else {
        format!("{}h {}m", secs / 3600, (secs % 3600) / 60)
    }
}

/// A non-2xx answer as a [`ClientError::Api`]: the protocol's error body,
/// or one made up from the status when the body is something else.
pub(crate) fn api_error(
    status: StatusCode,
    body: &[u8],
    retry_after: Option<Duration>,
) -> ClientError {
    let error = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) => b.error,
        Err(_) => {
            let code = ErrorCode::for_status(status.as_u16()).unwrap_or(ErrorCode::Unknown);
            let text = String::from_utf8_lossy(body);
            let first = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("");
            let reason = status.canonical_reason().unwrap_or("");
            let message = if first.is_empty() || first.starts_with('<') {
                format!("HTTP {} {reason}", status.as_u16())
                    .trim_end()
                    .to_string()
            } else {
                one_line(first, 160)
            };
            ApiError::new(code, message)
        }
    };
    ClientError::Api {
        status: status.as_u16(),
        error,
        retry_after,
    }
}

/// A reqwest failure as a [`ClientError::Network`] a person can read.
pub(crate) fn network_error(e: reqwest::Error) -> ClientError {
    if e.is_timeout() {
        return ClientError::Network("server did not answer in time".into());
    }
    let cause = root_cause(&e);
    if e.is_connect() {
        return ClientError::Network(format!("server unreachable: {cause}"));
    }
    if e.is_builder() {
        return ClientError::Network(format!("bad request: {cause}"));
    }
    ClientError::Network(format!("connection lost: {cause}"))
}

/// The innermost cause, phrased for a status bar.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    let mut io_kind = None;
    loop {
        if let Some(io) = cur.downcast_ref::<std::io::Error>() {
            io_kind = Some(io.kind());
        }
        match cur.source() {
            Some(next) => cur = next,
            None => break,
        }
    }
    use std::io::ErrorKind as K;
    match io_kind {
        Some(K::ConnectionRefused) => "connection refused".into(),
        Some(K::ConnectionReset) => "connection reset".into(),
        Some(K::ConnectionAborted) => "connection aborted".into(),
        Some(K::TimedOut) => "timed out".into(),
        Some(K::BrokenPipe | K::UnexpectedEof | K::NotConnected) => "connection closed".into(),
        Some(K::AddrNotAvailable) => "address not available".into(),
        _ => {
            let text = cur.to_string();
            if text.is_empty() {
                one_line(&e.to_string(), 160)
            } else {
                one_line(&text, 160)
            }
        }
    }
}
