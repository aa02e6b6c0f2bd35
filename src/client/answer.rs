//! Reading a server's answer: a 2xx body decoded within a size bound
//! ([`Answer`]), anything else as a [`ClientError::Api`], and the headers
//! that matter (`Retry-After`, `Idempotent-Replayed`, the event stream's
//! content type).

use std::time::Duration;

use reqwest::Response;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;

use super::error::{ClientError, api_error, network_error};
use crate::wire::IDEMPOTENT_REPLAYED;

/// Largest response body the client reads (a hostile server cannot make it
/// allocate without bound). A page of 5,000 referrals is well below this.
const MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;

/// A 2xx answer with what the headers said about it.
#[derive(Debug, Clone)]
pub struct Answer<T> {
    /// The decoded body.
    pub value: T,
    /// The HTTP status (200, 201).
    pub status: u16,
    /// `Idempotent-Replayed: true`: the server answered from its record of
    /// an earlier request with the same key and changed nothing.
    pub replayed: bool,
}

/// Reads a response: 2xx decoded as `T`, anything else as a [`ClientError::Api`].
pub(crate) async fn read_answer<T: DeserializeOwned>(
    resp: Response,
) -> Result<Answer<T>, ClientError> {
    Ok(read_answer_sized(resp).await?.0)
}

/// [`read_answer`] with the size of the body, in bytes.
pub(super) async fn read_answer_sized<T: DeserializeOwned>(
    resp: Response,
) -> Result<(Answer<T>, usize), ClientError> {
    let status = resp.status();
    let retry_after = parse_retry_after(resp.headers());
    let replayed = resp
        .headers()
        .get(IDEMPOTENT_REPLAYED)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let body = read_body(resp).await?;
    if status.is_success() {
        let value = serde_json::from_slice(&body).map_err(|e| {
            ClientError::Decode(format!(
                "{} with a body that does not parse: {e}",
                status.as_u16()
            ))
        })?;
        let answer = Answer {
            value,
            status: status.as_u16(),
            replayed,
        };
        Ok((answer, body.len()))
    } else {
        Err(api_error(status, &body, retry_after))
    }
}

/// Reads a body up to [`MAX_RESPONSE_BYTES`].
pub(super) async fn read_body(mut resp: Response) -> Result<Vec<u8>, ClientError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(network_error)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(ClientError::Decode(format!(
                "response body over {} MiB",
                MAX_RESPONSE_BYTES / (1024 * 1024)
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `Retry-After` as seconds or an HTTP date.
pub(crate) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_at(headers, chrono::Utc::now())
}

/// [`parse_retry_after`] with the current time given (a date is a wait
/// from `now`; one already past is no wait).
pub(super) fn retry_after_at(
    headers: &HeaderMap,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - now;
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// Whether a response is `text/event-stream`.
pub(crate) fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/event-stream"))
        })
}
