//! Health, metrics, the request log, and answers for unknown routes.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::server::error::HttpError;
use crate::server::{AppState, metrics};
use crate::wire::ErrorCode;

/// `GET /healthz`: 200 when the store answers, 503 otherwise.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "`{\"status\": \"ok\", \"store\": <which store>}`: the store answers.", body = Object)))]
pub async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let store = state.store.describe();
    match state.store.health().await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ok", "store": store})),
        )
            .into_response(),
        Err(e) => {
            let mut err = HttpError::new(
                ErrorCode::Unavailable,
                format!("the store ({store}) is not answering: {e}"),
            );
            err.retry_after = Some(1);
            err.into_response()
        }
    }
}

/// The longest `/readyz` waits for the store: a probe is answered quickly
/// (503 with the reason), never after a write's 10 s lock wait.
pub const READY_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// `GET /readyz`: 200 when the store can write now (a load balancer sends
/// writes only to a ready server), 503 naming the store and the reason
/// otherwise, within 2 s (`READY_WAIT`).
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, description = "`{\"status\": \"ready\", \"store\": <which store>}`: the store can write now.", body = Object)))]
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let store = state.store.describe();
    let answer = tokio::time::timeout(READY_WAIT, state.store.writable())
        .await
        .unwrap_or_else(|_| {
            Err(crate::store::StoreError::Backend(format!(
                "no answer within {} s",
                READY_WAIT.as_secs()
            )))
        });
    match answer {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ready", "store": store})),
        )
            .into_response(),
        Err(e) => {
            let mut err = HttpError::new(
                ErrorCode::Unavailable,
                format!("the store ({store}) cannot write: {e}"),
            );
            err.retry_after = Some(1);
            err.into_response()
        }
    }
}

/// `GET /metrics`: Prometheus text format. With `--metrics-token-file`,
/// only for `Authorization: Bearer <that token>` (401 otherwise).
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format 0.0.4.", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.config.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .unwrap_or_default();
        let given = Sha256::digest(given.as_bytes());
        let expected = Sha256::digest(expected.as_bytes());
        if !bool::from(given.ct_eq(&expected)) {
            return HttpError::new(ErrorCode::Unauthenticated, "missing or wrong metrics token")
                .into_response();
        }
    }
    let counts = state.store.count_by_status().await.unwrap_or_default();
    let mut response = state.metrics.render(&counts).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// Any path the protocol does not name.
pub async fn no_route() -> HttpError {
    HttpError::new(ErrorCode::NotFound, "no such route")
}

/// A known path with the wrong method.
pub async fn no_method() -> Response {
    let mut response =
        HttpError::new(ErrorCode::BadRequest, "method not allowed on this route").into_response();
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
}

/// Every error is JSON: an answer of 400 or more that is not (a plain-text
/// rejection from axum, e.g. a path that is not UTF-8) becomes the
/// protocol's `{"error": {...}}` for its status, keeping the text as the
/// message.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if status.as_u16() < 400 || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text: String = String::from_utf8_lossy(&text)
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect();
    // Any other 4xx the framework answered is a bad request.
    let code = ErrorCode::for_status(status.as_u16()).unwrap_or(if status.as_u16() >= 500 {
        ErrorCode::Internal
    } else {
        ErrorCode::BadRequest
    });
    let message = if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text.trim().to_owned()
    };
    let mut fixed = HttpError::new(code, message).into_response();
    *fixed.status_mut() = status;
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fixed.headers_mut().insert(name, value.clone());
        }
    }
    fixed
}

/// Counts and times each request; one log line per request at debug,
/// server errors at warn.
pub async fn track(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    // Labels are folded to known sets before anything is kept: a made-up
    // method or path costs nothing per request (see metrics.rs).
    let method = metrics::method_label(request.method().as_str());
    let route = metrics::route_label(
        request
            .extensions()
            .get::<MatchedPath>()
            .map(|p| p.as_str()),
    );
    let path = request.uri().path().chars().take(200).collect::<String>();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    state.metrics.observe(method, Some(route), status, elapsed);
    if status >= 500 {
        tracing::warn!(%method, %path, status, ms = elapsed.as_secs_f64() * 1e3, "request failed");
    } else {
        tracing::debug!(%method, %path, status, ms = elapsed.as_secs_f64() * 1e3, "request");
    }
    response
}
