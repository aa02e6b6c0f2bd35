//! Reading referrals: the paged list and one by id.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::visibility::render_for;
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::HttpError;
use crate::store::{ListQuery, Scope};
use crate::wire::{Referral, ReferralBox, ReferralPage, Role, Status};

/// Default and largest page sizes.
const DEFAULT_LIMIT: usize = 500;
const MAX_LIMIT: usize = 5000;

/// `GET /v1/referrals?box=&status=&limit=&cursor=`.
pub async fn list(
    State(state): State<Arc<AppState>>,
    Caller(actor): Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<ReferralPage>, HttpError> {
    let mut query = ListQuery {
        scope: Scope::Partner(actor.partner_id.clone()),
        box_: ReferralBox::All,
        statuses: Vec::new(),
        after_id: None,
        limit: DEFAULT_LIMIT,
    };
    for (key, value) in &params {
        match key.as_str() {
            "box" => {
                query.box_ = ReferralBox::parse(value).ok_or_else(|| {
                    HttpError::bad_request(format!(
                        "box must be incoming, outgoing or all, not {value:?}"
                    ))
                })?
            }
            "status" => {
                for s in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let status = Status::parse(s).ok_or_else(|| {
                        HttpError::bad_request(format!("unknown status {s:?} in status="))
                    })?;
                    if !query.statuses.contains(&status) {
                        query.statuses.push(status);
                    }
                }
            }
            "limit" => {
                query.limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|l| (1..=MAX_LIMIT).contains(l))
                    .ok_or_else(|| {
                        HttpError::bad_request(format!(
                            "limit must be a whole number from 1 to {MAX_LIMIT}, not {value:?}"
                        ))
                    })?
            }
            "cursor" => query.after_id = Some(decode_cursor(value)?),
            other => {
                return Err(HttpError::bad_request(format!(
                    "unknown query parameter {other:?}; expected box, status, limit or cursor"
                )));
            }
        }
    }
    if actor.role == Role::Operator && query.box_ == ReferralBox::All {
        query.scope = Scope::Everything;
    }
    let page = state.store.list(&query).await?;
    let next_cursor = if page.has_more {
        page.items.last().map(|s| encode_cursor(&s.referral.id))
    } else {
        None
    };
    let items: Vec<Referral> = page
        .items
        .iter()
        .filter_map(|s| render_for(s, &actor))
        .collect();
    Ok(Json(ReferralPage {
        items,
        next_cursor,
        as_of: page.as_of,
    }))
}

/// `GET /v1/referrals/{id}`.
pub async fn get(
    State(state): State<Arc<AppState>>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<Referral>, HttpError> {
    let stored = state.store.get(&id).await?;
    stored
        .as_ref()
        .and_then(|s| render_for(s, &actor))
        .map(Json)
        .ok_or_else(HttpError::not_found)
}

/// Cursors are opaque: the last id of the page, base64url.
pub fn encode_cursor(last_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("after:{last_id}"))
}

/// A cursor is valid only as this server writes them: canonical base64url
/// of `after:` and a referral id (`r_` and a ULID). Anything else, a forged
/// position included, is 400.
fn decode_cursor(cursor: &str) -> Result<String, HttpError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("after:").map(str::to_owned))
        .filter(|id| is_referral_id(id))
        .filter(|id| encode_cursor(id) == cursor)
        .ok_or_else(|| HttpError::bad_request("cursor is not one this server gave out"))
}

/// `r_` and a ULID in its canonical (upper-case Crockford) form.
fn is_referral_id(id: &str) -> bool {
    id.strip_prefix("r_")
        .and_then(|u| {
            ulid::Ulid::from_string(u)
                .ok()
                .filter(|p| p.to_string() == u)
        })
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let id = format!("r_{}", ulid::Ulid::new());
        let c = encode_cursor(&id);
        assert_eq!(decode_cursor(&c).unwrap(), id);
        // Not base64, and base64 of something else: both the same 400.
        for garbage in ["!!!".to_string(), URL_SAFE_NO_PAD.encode("nope")] {
            let e = decode_cursor(&garbage).unwrap_err().error;
            assert_eq!(
                (e.code, e.message.as_str()),
                (
                    crate::wire::ErrorCode::BadRequest,
                    "cursor is not one this server gave out"
                ),
                "{garbage}"
            );
        }
    }

    #[test]
    fn forged_cursors_are_refused() {
        for forged in [
            "after:",
            "after:r_01ABC",
            "after:' OR 1=1 --",
            "after:zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
            "after:r_01jd3k6w9t6z6m3x7q2v8b4n5c",
            "after:r_01JD3K6W9T6Z6M3X7Q2V8B4N5C\n",
        ] {
            let c = URL_SAFE_NO_PAD.encode(forged);
            assert!(decode_cursor(&c).is_err(), "{forged:?} was accepted");
        }
        let good = encode_cursor("r_01JD3K6W9T6Z6M3X7Q2V8B4N5C");
        assert!(decode_cursor(&good).is_ok());
        // The same bytes with padding, or spaces, are not what was given out.
        assert!(decode_cursor(&format!("{good}=")).is_err());
        assert!(decode_cursor(&format!(" {good}")).is_err());
    }
}
