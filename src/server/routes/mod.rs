//! The HTTP routes of PROTOCOL.md v1.

mod actions;
mod body;
mod directory;
mod events;
pub mod feed_limits;
mod openapi;
mod ops;
mod referrals;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use tower_http::timeout::RequestBodyTimeoutLayer;

use super::{AppState, conn};
use crate::wire::MAX_BODY_BYTES;

pub use actions::decode_batch;
pub use body::{action as decode_action, json as decode_json};
pub use events::RenderCache;
pub use feed_limits::FeedLimits;
pub use openapi::{document as openapi_document, document_json as openapi_json};
pub use ops::READY_WAIT;
pub use referrals::{decode_cursor, encode_cursor};

/// Every route, with request metrics and logging around them. `/metrics`
/// is here unless it has an address of its own (`metrics_listen`).
pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new()
        .route("/v1/me", get(directory::me))
        .route("/v1/partners", get(directory::partners))
        .route("/v1/referrals", get(referrals::list).post(actions::create))
        .route("/v1/referrals/batch", post(actions::batch))
        .route("/v1/referrals/{id}", get(referrals::get))
        .route("/v1/referrals/{id}/{action}", post(actions::act))
        .route("/v1/events", get(events::events))
        .route("/v1/openapi.json", get(openapi::openapi_json))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz));
    if state.config.metrics_listen.is_none() {
        router = router.route("/metrics", get(ops::metrics));
    }
    router
        .fallback(ops::no_route)
        .method_not_allowed_fallback(ops::no_method)
        // Read one byte past the limit so that an oversized body is 413 JSON.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES + 1))
        // A body that stops arriving fails its read (400 JSON). The live
        // feed has no request body, so its stream is not cut by this.
        .layer(RequestBodyTimeoutLayer::new(state.config.body_timeout))
        .layer(axum::middleware::from_fn(conn::reserve_gate))
        .layer(axum::middleware::from_fn(ops::json_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::track,
        ))
        .with_state(state)
}

/// `/metrics` alone, for `--metrics-listen`.
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/metrics", get(ops::metrics))
        .fallback(ops::no_route)
        .method_not_allowed_fallback(ops::no_method)
        .layer(axum::middleware::from_fn(ops::json_errors))
        .with_state(state)
}
