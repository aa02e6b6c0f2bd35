//! `Idempotency-Key`: retries never act twice.
//!
//! Per user and key the store keeps a hash of the request (method, path and
//! the parsed JSON body, keys sorted) and the response, for 24 hours. A key
//! still running answers 409 `idempotency_in_flight`; a finished key with
//! the same request replays the stored answer with `Idempotent-Replayed:
//! true`; with a different request it is 422 `idempotency_mismatch`.
//! The key is claimed on this server when the request starts
//! ([`begin`]), and checked again by the store inside the write's own
//! transaction, which holds it against other servers sharing the
//! database: a write can therefore come back with one of those answers
//! instead ([`crate::store::StoreError::Taken`], answered by
//! [`store_failed`]). Writes keep their answer in the same transaction as
//! the action (see [`IdemSave`]); answers decided before the store (400)
//! are kept with `save_response`, which may find the key taken too.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::{HttpError, json_response};
use crate::store::{
    IdemClaim, IdemSave, IdemTaken, RenderResponse, SharedStore, StoreError, StoredResponse,
};
use crate::wire::{ErrorCode, IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED};

/// This server's claim of a key: given back when dropped, once the
/// request has ended (what it kept stays kept; see
/// [`crate::store::Store::idem_release`]).
pub struct Claim {
    pub user_id: String,
    pub key: String,
    pub request_hash: String,
    store: SharedStore,
}

impl std::fmt::Debug for Claim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claim")
            .field("user_id", &self.user_id)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let store = self.store.clone();
        let (user_id, key) = (
            std::mem::take(&mut self.user_id),
            std::mem::take(&mut self.key),
        );
        let release = async move {
            if let Err(e) = store.idem_release(&user_id, &key).await {
                tracing::warn!(error = %e, "could not end an idempotency claim");
            }
        };
        // A store whose release is immediate (claims in memory, as both
        // stores keep them) releases before the answer leaves, so a retry
        // right after it replays instead of meeting its own claim; a
        // release that must wait finishes in a task.
        let mut release = Box::pin(release);
        if futures::FutureExt::now_or_never(release.as_mut()).is_none()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(release);
        }
    }
}

impl Claim {
    /// Asks the store to keep the answer with the write it goes with.
    pub fn save_with(&self, render: RenderResponse) -> IdemSave {
        IdemSave {
            user_id: self.user_id.clone(),
            key: self.key.clone(),
            request_hash: self.request_hash.clone(),
            render,
        }
    }
}

/// Reads the request's key and claims it on this server, or answers for it
/// (a bad key; in flight here; on SQLite also replay and mismatch; on
/// PostgreSQL those, and a key running on another server, come back from
/// the write: [`store_failed`]). `Ok(None)`: the request carries no key.
pub async fn begin(
    state: &Arc<AppState>,
    user_id: &str,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
) -> Result<Option<Claim>, Response> {
    let Some(raw) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = raw
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| (0x20..0x7f).contains(&b)))
        .ok_or_else(|| {
            axum::response::IntoResponse::into_response(HttpError::bad_request(
                "Idempotency-Key must be 1 to 255 printable ASCII characters",
            ))
        })?
        .to_owned();
    let request_hash = request_hash("POST", path, body);
    let claimed = state
        .store
        .idem_claim(user_id, &key, &request_hash)
        .await
        .map_err(|e| axum::response::IntoResponse::into_response(HttpError::from(e)))?;
    match claimed {
        IdemClaim::Claimed => Ok(Some(Claim {
            user_id: user_id.to_owned(),
            key,
            request_hash,
            store: state.store.clone(),
        })),
        IdemClaim::Taken(taken) => Err(taken_answer(taken)),
    }
}

/// What a request whose key is taken is answered: the kept answer again,
/// or why it does not run.
pub fn taken_answer(taken: IdemTaken) -> Response {
    let e = match taken {
        IdemTaken::Replay(stored) => return replayed(stored),
        IdemTaken::InFlight => HttpError::new(
            ErrorCode::IdempotencyInFlight,
            "a request with this Idempotency-Key is still running",
        ),
        IdemTaken::Mismatch => HttpError::new(
            ErrorCode::IdempotencyMismatch,
            "this Idempotency-Key was used with a different request",
        ),
    };
    axum::response::IntoResponse::into_response(e)
}

/// Answers a failed store call: a key the write found taken, or the
/// store's own failure.
pub fn store_failed(err: StoreError) -> Response {
    match err {
        StoreError::Taken(taken) => taken_answer(taken),
        other => axum::response::IntoResponse::into_response(HttpError::from(other)),
    }
}

/// Keeps the answer of a request that reached no write under its key, then
/// gives the claim back. `Some(answer)`: the key was found taken in the store
/// (answered, or running on another server) and that is the answer to
/// give instead; nothing was kept.
pub async fn keep_answer(
    state: &Arc<AppState>,
    claim: Option<Claim>,
    response: &StoredResponse,
) -> Option<Response> {
    let claim = claim?;
    let saved = state
        .store
        .save_response(
            &claim.user_id,
            &claim.key,
            &claim.request_hash,
            response.clone(),
        )
        .await;
    match saved {
        Ok(()) => {}
        Err(StoreError::Taken(taken)) => return Some(taken_answer(taken)),
        Err(e) => tracing::warn!(error = %e, "could not keep an idempotent response"),
    }
    None
}

/// Answers an error decided before the store, keeping it under the key.
pub async fn finish_error(state: &Arc<AppState>, claim: Option<Claim>, err: HttpError) -> Response {
    let status = err.status();
    let body = err.body();
    if keeps(status.as_u16()) {
        let response = StoredResponse {
            status: status.as_u16(),
            body: body.clone(),
        };
        if let Some(instead) = keep_answer(state, claim, &response).await {
            return instead;
        }
    }
    json_response(status, body)
}

/// Whether a response with this status is kept under its key.
pub fn keeps(status: u16) -> bool {
    status < 500 && status != 401 && status != 429
}

/// A stored response, replayed.
pub fn replayed(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = json_response(status, stored.body);
    response
        .headers_mut()
        .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
}

/// Hex SHA-256 of method, path and the body: parsed JSON with object keys
/// sorted when it parses, the raw bytes otherwise.
pub fn request_hash(method: &str, path: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update(b"\n");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => {
            let mut canonical = String::new();
            write_canonical(&value, &mut canonical);
            hasher.update(b"json:");
            hasher.update(canonical.as_bytes());
        }
        Err(_) => {
            hasher.update(b"raw:");
            hasher.update(body);
        }
    }
    hex::encode(hasher.finalize())
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                write_canonical(&map[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_ignores_key_order_and_whitespace() {
        let a = request_hash("POST", "/v1/x", br#"{"a":1,"b":{"d":2,"c":3}}"#);
        let b = request_hash("POST", "/v1/x", b"{ \"b\": {\"c\":3, \"d\":2}, \"a\": 1 }");
        assert_eq!(a, b);
    }

    #[test]
    fn hash_differs_by_path_body_and_method() {
        let base = request_hash("POST", "/v1/x", br#"{"a":1}"#);
        assert_ne!(base, request_hash("POST", "/v1/y", br#"{"a":1}"#));
        assert_ne!(base, request_hash("POST", "/v1/x", br#"{"a":2}"#));
        assert_ne!(base, request_hash("PUT", "/v1/x", br#"{"a":1}"#));
        assert_ne!(
            request_hash("POST", "/v1/x", b"not json"),
            request_hash("POST", "/v1/x", b"not json!")
        );
    }

    #[test]
    fn keeps_below_500_but_401_and_429() {
        assert!(keeps(200) && keeps(404) && keeps(409) && keeps(422));
        assert!(!keeps(401) && !keeps(429) && !keeps(500) && !keeps(503));
    }
}
