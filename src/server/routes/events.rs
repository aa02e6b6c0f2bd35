//! `GET /v1/events`: the live feed as Server-Sent Events.
//!
//! Each subscriber gets its own task: it subscribes to the store's live
//! events first, then replays from the log everything after the resume
//! point, then streams live events, skipping any it already sent (by seq),
//! so nothing is missed or sent twice across the hand-over. A subscriber
//! that falls behind the live channel goes back to the log. Every event is
//! rendered for the subscriber (visibility and masking); one it may not see
//! is skipped.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use crate::domain::Actor;
use crate::domain::visibility::{can_see, sees_contact};
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::HttpError;
use crate::server::routes::feed_limits::{EVENTS_PER_CHARGE, STREAM_BUDGET_BYTES, StreamSlot};
use crate::store::StoredEvent;
use crate::wire::{ErrorBody, ErrorCode};

/// Events read from the log per query while replaying.
const REPLAY_CHUNK: usize = 1000;

/// `GET /v1/events` (`Last-Event-ID` or `?after=`).
#[utoipa::path(get, path = "/v1/events", tag = "events",
    params(
        ("after" = Option<u64>, Query, description = "Resume after this sequence number (as Last-Event-ID)."),
        ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this sequence number: the log after it is replayed, then live events follow. Without it (or `after`) the stream starts live from now."),
    ),
    responses(
        (status = 200, content_type = "text/event-stream", body = String, description = "Server-Sent Events, open until the client leaves. First `retry: 2000`, then one event per change to a referral the caller may see, rendered as the caller may see it: `id: <seq>` (a server-wide, strictly increasing sequence number), `event: referral`, `data: <Referral as JSON>`, a blank line. A `: ping` comment at least every 15 s. Delivery is at least once: apply an event only if its `version` is higher than the one held."),
        (status = 410, description = "`gone`: the server no longer holds events that far back; list again and watch from the new `as_of`.", body = ErrorBody),
    ))]
pub async fn events(
    State(state): State<Arc<AppState>>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, HttpError> {
    if let Some(unknown) = params.keys().find(|k| k.as_str() != "after") {
        return Err(HttpError::bad_request(format!(
            "unknown query parameter {unknown:?}; expected after"
        )));
    }
    let header = headers
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or("").trim().to_owned());
    let raw = header.or_else(|| params.get("after").cloned());
    let after = match raw {
        None => None,
        Some(s) => Some(s.parse::<u64>().map_err(|_| {
            HttpError::bad_request(format!(
                "the resume point must be a sequence number, not {s:?}"
            ))
        })?),
    };
    // Subscribe before reading the log so that nothing falls in between.
    let live = state.store.subscribe();
    let (floor, last) = (
        state.store.resume_floor().await?,
        state.store.last_seq().await?,
    );
    let start = match after {
        Some(a) if a < floor || a > last => {
            return Err(HttpError::new(
                ErrorCode::Gone,
                format!(
                    "this server no longer holds events after {a} (it can resume from {floor} to {last}); list again and watch from the new as_of"
                ),
            ));
        }
        Some(a) => a,
        None => last,
    };
    let slot = state.feed_limits.open(&actor)?;
    // Rendered events wait for the connection within a byte budget: the
    // permits travel with each event and are given back as the connection
    // takes it.
    let budget = Arc::new(Semaphore::new(STREAM_BUDGET_BYTES));
    let (tx, rx) = mpsc::channel::<Queued>(256);
    let revoked = state.revocations.subscribe();
    let token = crate::server::auth::bearer_token(&headers).unwrap_or_default();
    let out = Out { tx, budget };
    let who = Who {
        actor,
        token,
        _slot: slot,
    };
    tokio::spawn(pump(state.clone(), who, start, live, revoked, out));
    let ping = state.config.ping_interval;
    // The first frame (`retry:`) is written before anything queued.
    let retry = Event::default().retry(Duration::from_millis(2000));
    let stream = futures::stream::once(async { Ok::<_, Infallible>(retry) })
        .chain(ReceiverStream::new(rx).map(|queued| Ok::<_, Infallible>(queued.0)));
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(ping).text("ping"))
        .into_response())
}

/// An event on its way to the connection, with the budget it holds. Boxed:
/// the channel allocates its slots in blocks of 32 as soon as it is made,
/// and an idle subscriber's block then costs 32 pointers, not 32 events
/// (issue 8's memory per idle subscriber).
type Queued = Box<(Event, OwnedSemaphorePermit)>;

/// Where a subscriber's events go, and its byte budget.
struct Out {
    tx: mpsc::Sender<Queued>,
    budget: Arc<Semaphore>,
}

/// Counts a live subscriber for as long as it lives.
struct Subscriber(Arc<AppState>);

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.0.metrics.subscribers.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whose stream it is: the user, the token it came with (checked again if
/// the stream misses revocations), and its place among open streams.
struct Who {
    actor: Actor,
    token: String,
    _slot: StreamSlot,
}

async fn pump(
    state: Arc<AppState>,
    who: Who,
    mut last: u64,
    mut live: broadcast::Receiver<Arc<StoredEvent>>,
    mut revoked: broadcast::Receiver<Arc<str>>,
    tx: Out,
) {
    let Who { actor, token, .. } = &who;
    let actor = actor.clone();
    state.metrics.subscribers.fetch_add(1, Ordering::Relaxed);
    let _guard = Subscriber(state.clone());
    let mut shutdown = state.shutdown.clone();
    if !replay(&state, &actor, &mut last, &tx).await {
        return;
    }
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tx.tx.closed() => return,
            heard = revoked.recv() => match heard {
                Ok(user) if *user == *actor.user_id => return,
                Ok(_) | Err(broadcast::error::RecvError::Closed) => {}
                // Missed some: ask the store whether this token still holds.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if !matches!(state.store.authenticate(token).await, Ok(Some(a)) if a == actor) {
                        return;
                    }
                }
            },
            received = live.recv() => match received {
                Ok(event) => {
                    if event.seq <= last {
                        continue;
                    }
                    last = event.seq;
                    if !send(&state, &actor, &event, &tx).await {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if !replay(&state, &actor, &mut last, &tx).await {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

/// Sends every logged event after `last`; false when the subscriber is gone
/// or the log cannot be read.
async fn replay(state: &Arc<AppState>, actor: &Actor, last: &mut u64, tx: &Out) -> bool {
    // A bounded number of replays read the log at once.
    let Ok(_permit) = state.feed_limits.replays.clone().acquire_owned().await else {
        return false;
    };
    let mut sent_since_charge = 0;
    loop {
        let chunk = match state.store.events_after(*last, REPLAY_CHUNK).await {
            Ok(chunk) => chunk,
            Err(_) => {
                tracing::warn!("event replay failed; closing the stream");
                return false;
            }
        };
        for event in &chunk {
            *last = event.seq;
            if !send(state, actor, event, tx).await {
                return false;
            }
            sent_since_charge += 1;
            if sent_since_charge == EVENTS_PER_CHARGE {
                sent_since_charge = 0;
                // Replays count against the caller's rate limit: past it,
                // the replay waits as a request would.
                while let Err(e) = state.limiter.charge(&actor.user_id) {
                    let wait = Duration::from_secs(e.retry_after.unwrap_or(1));
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = tx.tx.closed() => return false,
                    }
                }
            }
        }
        if chunk.len() < REPLAY_CHUNK {
            return true;
        }
    }
}

async fn send(state: &Arc<AppState>, actor: &Actor, event: &StoredEvent, tx: &Out) -> bool {
    if !can_see(&event.referral, actor) {
        return true;
    }
    let data = state
        .renders
        .get(event, sees_contact(&event.referral, actor));
    let sse = Event::default()
        .id(event.seq.to_string())
        .event("referral")
        .data(&*data);
    // What this event holds of the budget until the connection takes it; a
    // connection that takes nothing for the write timeout loses its stream.
    let cost = (data.len() + 32).min(STREAM_BUDGET_BYTES) as u32;
    let timeout = state.config.feed_write_timeout;
    let permit =
        match tokio::time::timeout(timeout, tx.budget.clone().acquire_many_owned(cost)).await {
            Ok(Ok(permit)) => permit,
            _ => {
                tracing::debug!(user = %actor.user_id, "a live feed stopped reading; dropped");
                state.metrics.feeds_dropped.fetch_add(1, Ordering::Relaxed);
                return false;
            }
        };
    let queued = tokio::time::timeout(timeout, tx.tx.send(Box::new((sse, permit)))).await;
    if !matches!(queued, Ok(Ok(()))) {
        return false;
    }
    state.metrics.events_sent.fetch_add(1, Ordering::Relaxed);
    true
}

/// Each event rendered once per form (contact shown or masked), shared by
/// every subscriber that sees it that way: a thousand subscribers of one
/// partner cost one JSON rendering, not a thousand. Holds the newest few
/// thousand events; older ones (a replay) are rendered again when asked.
#[derive(Debug, Default)]
pub struct RenderCache(Mutex<HashMap<(u64, bool), Arc<str>>>);

/// How many renderings the cache keeps before it drops the oldest half.
const RENDER_CACHE_SIZE: usize = 4096;

impl RenderCache {
    fn get(&self, event: &StoredEvent, with_contact: bool) -> Arc<str> {
        let key = (event.seq, with_contact);
        if let Some(hit) = self.0.lock().expect("render cache").get(&key) {
            return hit.clone();
        }
        let mut referral = event.referral.referral.clone();
        if with_contact {
            referral.contact_masked = false;
        } else {
            referral.mask_contact();
        }
        let json: Arc<str> = serde_json::to_string(&referral)
            .expect("referrals serialize")
            .into();
        let mut cache = self.0.lock().expect("render cache");
        if cache.len() >= RENDER_CACHE_SIZE {
            let mut seqs: Vec<u64> = cache.keys().map(|k| k.0).collect();
            seqs.sort_unstable();
            let cut = seqs[seqs.len() / 2];
            cache.retain(|k, _| k.0 > cut);
        }
        cache.insert(key, json.clone());
        json
    }
}
