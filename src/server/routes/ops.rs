//! Health, metrics, the request log, and answers for unknown routes.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::server::AppState;
use crate::server::error::HttpError;
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

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format 0.0.4.", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
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

/// Counts and times each request; one log line per request at debug,
/// server errors at warn.
pub async fn track(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    state.metrics.observe(&method, &route, status, elapsed);
    if status >= 500 {
        tracing::warn!(%method, %path, status, ms = elapsed.as_secs_f64() * 1e3, "request failed");
    } else {
        tracing::debug!(%method, %path, status, ms = elapsed.as_secs_f64() * 1e3, "request");
    }
    response
}
