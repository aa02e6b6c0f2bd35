//! Who am I, and the partner directory.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};

use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::HttpError;
use crate::wire::{Me, MePartner, MeUser, PartnerList};

/// `GET /v1/me`.
#[utoipa::path(get, path = "/v1/me", tag = "directory",
    responses((status = 200, description = "The caller and its partner.", body = Me)))]
pub async fn me(Caller(actor): Caller) -> Json<Me> {
    Json(Me {
        user: MeUser {
            id: actor.user_id,
            name: actor.user_name,
            role: actor.role,
        },
        partner: MePartner {
            id: actor.partner_id,
            name: actor.partner_name,
        },
    })
}

/// `GET /v1/partners?q=`: the directory, filtered by id, name or category.
#[utoipa::path(get, path = "/v1/partners", tag = "directory",
    params(("q" = Option<String>, Query, description = "Filters by id, name or category.")),
    responses((status = 200, description = "The partner directory.", body = PartnerList)))]
pub async fn partners(
    State(state): State<Arc<AppState>>,
    Caller(_): Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<PartnerList>, HttpError> {
    if let Some(unknown) = params.keys().find(|k| k.as_str() != "q") {
        return Err(HttpError::bad_request(format!(
            "unknown query parameter {unknown:?}; expected q"
        )));
    }
    let q = params
        .get("q")
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty());
    let items = state.store.list_partners(q.as_deref()).await?;
    Ok(Json(PartnerList { items }))
}
