//! Writes: send a lead, act on a referral, and the batch.
//!
//! Every write follows the same path: authenticate (the [`Caller`]
//! extractor), read the body (413), claim the idempotency key (replay,
//! mismatch, in flight), parse (400), then one call into the store, which
//! judges 404 → 403 → 422 → 409 and keeps the rendered answer under the
//! key in the same transaction as the change (or finds the key taken by
//! another server's request: answered as a replay, 409 or 422). The
//! claim is given back (dropped) once the store has answered.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::body;
use crate::domain::visibility::render_for;
use crate::domain::{ActionItem, Actor, Applied, DomainError, ItemResult};
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::{HttpError, json_response};
use crate::server::idempotency::{self, Claim};
use crate::store::StoredResponse;
use crate::wire::{
    AcceptRequest, ActionKind, ApiError, BatchOutcome, BatchRequest, BatchResponse, BatchResult,
    BatchSummary, CreateReferral, ErrorBody, ErrorCode, ForwardResponse, MAX_BATCH_ITEMS, Referral,
};

/// `POST /v1/referrals`.
#[utoipa::path(post, path = "/v1/referrals", tag = "referrals",
    request_body = CreateReferral,
    responses(
        (status = 201, description = "The new referral.", body = Referral),
        (status = 403, description = "`forbidden`: a viewer or operator may not send.", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Caller(actor): Caller,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Response {
    let (bytes, claim) = match begin(&state, &actor, &headers, "/v1/referrals", raw).await {
        Ok(started) => started,
        Err(answer) => return answer,
    };
    let request: CreateReferral = match body::json(&bytes) {
        Ok(r) => r,
        Err(e) => return idempotency::finish_error(&state, claim, e).await,
    };
    let render_actor = actor.clone();
    let render = move |results: &[ItemResult]| render_created(&render_actor, &results[0]);
    let idem = claim.as_ref().map(|c| c.save_with(Box::new(render)));
    let result = state.store.create(&actor, request, idem).await;
    drop(claim);
    match result {
        Ok(item) => to_response(render_created(&actor, &item)),
        Err(e) => idempotency::store_failed(e),
    }
}

/// `POST /v1/referrals/{id}/{action}` (documented as one path per action).
#[utoipa::path(post, path = "/v1/referrals/{id}/accept", tag = "referrals",
    params(("id" = String, Path, description = "The referral's id.")),
    request_body = AcceptRequest,
    responses(
        (status = 200, description = "The updated referral.", body = Referral),
        (status = 403, description = "`forbidden`: wrong role or wrong side.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such referral, or not the caller's partner's.", body = ErrorBody),
    ))]
pub async fn act(
    State(state): State<Arc<AppState>>,
    Caller(actor): Caller,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(kind) = ActionKind::parse(&action) else {
        return HttpError::new(ErrorCode::NotFound, format!("no such action {action:?}"))
            .into_response();
    };
    let path = format!("/v1/referrals/{id}/{action}");
    let (bytes, claim) = match begin(&state, &actor, &headers, &path, raw).await {
        Ok(started) => started,
        Err(answer) => return answer,
    };
    let parsed = body::json::<serde_json::Value>(&bytes).and_then(|value| {
        if !value.is_object() {
            return Err(HttpError::bad_request("the body must be a JSON object"));
        }
        body::action(kind, value)
    });
    let (version, action) = match parsed {
        Ok(p) => p,
        Err(e) => return idempotency::finish_error(&state, claim, e).await,
    };
    let item = ActionItem {
        id,
        version,
        action,
    };
    let render_actor = actor.clone();
    let render = move |results: &[ItemResult]| render_single(&render_actor, &results[0]);
    let idem = claim.as_ref().map(|c| c.save_with(Box::new(render)));
    let results = state.store.apply(&actor, vec![item], idem).await;
    drop(claim);
    match results {
        Ok(results) => to_response(render_single(&actor, &results[0])),
        Err(e) => idempotency::store_failed(e),
    }
}

/// `POST /v1/referrals/batch`.
#[utoipa::path(post, path = "/v1/referrals/batch", tag = "referrals",
    request_body = BatchRequest,
    responses((status = 200, description = "One result per item, in request order; items are independent.", body = BatchResponse)))]
pub async fn batch(
    State(state): State<Arc<AppState>>,
    Caller(actor): Caller,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Response {
    let (bytes, claim) = match begin(&state, &actor, &headers, "/v1/referrals/batch", raw).await {
        Ok(started) => started,
        Err(answer) => return answer,
    };
    let plan = match plan_batch(&bytes) {
        Ok(p) => p,
        Err(e) => return idempotency::finish_error(&state, claim, e).await,
    };
    let valid: Vec<ActionItem> = plan
        .iter()
        .filter_map(|slot| match slot {
            Slot::Run(item) => Some(item.clone()),
            Slot::Invalid { .. } => None,
        })
        .collect();
    let plan = Arc::new(plan);
    let render_plan = plan.clone();
    let render_actor = actor.clone();
    let render = move |results: &[ItemResult]| render_batch(&render_actor, &render_plan, results);
    let idem = claim.as_ref().map(|c| c.save_with(Box::new(render)));
    let nothing_to_run = valid.is_empty();
    let results = if nothing_to_run {
        Ok(Vec::new())
    } else {
        state.store.apply(&actor, valid, idem).await
    };
    let stored = match results {
        Ok(results) => render_batch(&actor, &plan, &results),
        Err(e) => return idempotency::store_failed(e),
    };
    if nothing_to_run {
        // No write carried the answer: keep it under the key here.
        if let Some(instead) = idempotency::keep_answer(&state, claim, &stored).await {
            return instead;
        }
    } else {
        drop(claim);
    }
    to_response(stored)
}

/// The start every write shares: the body within its size limit (413),
/// then the idempotency key claimed (or the answer for it: a replay, a
/// mismatch, a key in flight).
async fn begin(
    state: &Arc<AppState>,
    actor: &Actor,
    headers: &HeaderMap,
    path: &str,
    raw: Result<Bytes, BytesRejection>,
) -> Result<(Bytes, Option<Claim>), Response> {
    let bytes = body::bytes(raw).map_err(IntoResponse::into_response)?;
    let claim = idempotency::begin(state, &actor.user_id, headers, path, &bytes).await?;
    Ok((bytes, claim))
}

/// One batch item: run it, or report it invalid without running it.
#[derive(Debug, Clone)]
enum Slot {
    Run(ActionItem),
    Invalid { id: String, error: ApiError },
}

/// One batch item as [`decode_batch`] reads it: its id and version, or
/// the error it is reported with.
pub type DecodedItem = Result<(String, u64), ApiError>;

/// How the server reads a batch body, without running anything: 400/413/422
/// for the whole request, else per item in order its id and version, or the
/// error that item is reported with (public so that `tests/fuzz.rs` can
/// fuzz the decoding the route really does).
pub fn decode_batch(bytes: &[u8]) -> Result<Vec<DecodedItem>, HttpError> {
    Ok(plan_batch(bytes)?
        .into_iter()
        .map(|slot| match slot {
            Slot::Run(item) => Ok((item.id, item.version)),
            Slot::Invalid { error, .. } => Err(error),
        })
        .collect())
}

fn plan_batch(bytes: &[u8]) -> Result<Vec<Slot>, HttpError> {
    let value: serde_json::Value = body::json(bytes)?;
    let object = value
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| HttpError::bad_request("the body must be {\"items\": [...]}"))?;
    let items = object
        .get("items")
        .and_then(|i| i.as_array())
        .ok_or_else(|| HttpError::bad_request("the body must be {\"items\": [...]}"))?;
    if items.is_empty() {
        return Err(HttpError::invalid(
            Some("items"),
            "a batch needs at least one item",
        ));
    }
    if items.len() > MAX_BATCH_ITEMS {
        return Err(HttpError::new(
            ErrorCode::TooLarge,
            format!(
                "a batch holds at most {MAX_BATCH_ITEMS} items, not {}",
                items.len()
            ),
        ));
    }
    Ok(items.iter().map(plan_item).collect())
}

fn plan_item(item: &serde_json::Value) -> Slot {
    let id = item
        .get("id")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    let invalid = |field: Option<&str>, message: String| Slot::Invalid {
        id: id.clone(),
        error: HttpError::invalid(field, message).error,
    };
    let Some(object) = item.as_object() else {
        return invalid(None, "an item must be an object".into());
    };
    if id.is_empty() {
        return invalid(Some("id"), "an item needs a referral \"id\"".into());
    }
    let Some(action) = object.get("action").and_then(|a| a.as_str()) else {
        return invalid(Some("action"), "an item needs an \"action\"".into());
    };
    let Some(kind) = ActionKind::parse(action) else {
        return invalid(
            Some("action"),
            format!(
                "unknown action {action:?}; expected accept, reject, forward, withdraw or close"
            ),
        );
    };
    if !object.get("version").is_some_and(|v| v.is_u64()) {
        return invalid(
            Some("version"),
            "an item needs a whole-number \"version\"".into(),
        );
    }
    let mut fields = object.clone();
    fields.remove("id");
    fields.remove("action");
    match body::action(kind, serde_json::Value::Object(fields)) {
        Ok((version, action)) => Slot::Run(ActionItem {
            id,
            version,
            action,
        }),
        Err(e) => Slot::Invalid {
            id,
            error: ApiError {
                code: ErrorCode::Invalid,
                ..e.error
            },
        },
    }
}

fn to_response(stored: StoredResponse) -> Response {
    json_response(
        StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK),
        stored.body,
    )
}

fn json_bytes<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("wire types serialize")
}

fn error_response(err: &DomainError, actor: &Actor) -> StoredResponse {
    let e = HttpError::from_domain(err, actor);
    StoredResponse {
        status: e.status().as_u16(),
        body: e.body(),
    }
}

fn render_created(actor: &Actor, result: &ItemResult) -> StoredResponse {
    match result {
        Ok(applied) => StoredResponse {
            status: 201,
            body: json_bytes(&render_for(&applied.referral, actor)),
        },
        Err(err) => error_response(err, actor),
    }
}

fn render_single(actor: &Actor, result: &ItemResult) -> StoredResponse {
    match result {
        Ok(Applied {
            referral,
            forwarded: Some(child),
        }) => match (render_for(referral, actor), render_for(child, actor)) {
            (Some(referral), Some(forwarded)) => StoredResponse {
                status: 200,
                body: json_bytes(&ForwardResponse {
                    referral,
                    forwarded,
                }),
            },
            _ => error_response(&DomainError::NotFound, actor),
        },
        Ok(Applied {
            referral,
            forwarded: None,
        }) => match render_for(referral, actor) {
            Some(r) => StoredResponse {
                status: 200,
                body: json_bytes(&r),
            },
            None => error_response(&DomainError::NotFound, actor),
        },
        Err(err) => error_response(err, actor),
    }
}

fn render_batch(actor: &Actor, plan: &[Slot], results: &[ItemResult]) -> StoredResponse {
    let mut ran = results.iter();
    let mut summary = BatchSummary::default();
    let mut out = Vec::with_capacity(plan.len());
    for slot in plan {
        let result = match slot {
            Slot::Invalid { id, error } => BatchResult {
                id: id.clone(),
                outcome: BatchOutcome::Invalid,
                referral: None,
                forwarded: None,
                error: Some(error.clone()),
            },
            Slot::Run(item) => match ran.next() {
                Some(Ok(applied)) => BatchResult {
                    id: item.id.clone(),
                    outcome: BatchOutcome::Applied,
                    referral: render_for(&applied.referral, actor),
                    forwarded: applied
                        .forwarded
                        .as_ref()
                        .and_then(|f| render_for(f, actor)),
                    error: None,
                },
                Some(Err(err)) => BatchResult {
                    id: item.id.clone(),
                    outcome: outcome_of(err),
                    referral: None,
                    forwarded: None,
                    error: Some(HttpError::from_domain(err, actor).error),
                },
                None => BatchResult {
                    id: item.id.clone(),
                    outcome: BatchOutcome::Invalid,
                    referral: None,
                    forwarded: None,
                    error: Some(ApiError::new(ErrorCode::Internal, "item was not run")),
                },
            },
        };
        summary.count(result.outcome);
        out.push(result);
    }
    StoredResponse {
        status: 200,
        body: json_bytes(&BatchResponse {
            results: out,
            summary,
        }),
    }
}

fn outcome_of(err: &DomainError) -> BatchOutcome {
    match err {
        DomainError::NotFound => BatchOutcome::NotFound,
        DomainError::Forbidden { .. } => BatchOutcome::Forbidden,
        DomainError::Invalid { .. } => BatchOutcome::Invalid,
        DomainError::Conflict { .. } | DomainError::Duplicate { .. } => BatchOutcome::Conflict,
    }
}
