//! Revoked tokens lose their open live feeds: a revoked user's REST calls
//! are refused at once (every request authenticates; on PostgreSQL a
//! server's cached token look-ups are dropped when the change's
//! notification arrives, milliseconds after it commits), but an event stream
//! authenticated once would go on. Each server watches the store for users
//! revoked since it last looked (one query a second, whatever the number
//! of streams, and whichever server or admin CLI revoked them) and tells
//! its streams; a stream of a revoked user ends within about a second.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use tokio::sync::broadcast;

use super::sessions::SessionTokens;
use crate::clock::SharedClock;
use crate::store::SharedStore;

/// How often the store is asked.
pub const WATCH_EVERY: Duration = Duration::from_secs(1);
/// Revocations are looked for this far before the last look too, so that
/// clocks a little apart on several servers lose none.
const OVERLAP: TimeDelta = TimeDelta::seconds(30);

/// Where streams hear of revoked users (their ids).
#[derive(Debug)]
pub struct Revocations(broadcast::Sender<Arc<str>>);

impl Default for Revocations {
    fn default() -> Self {
        Self(broadcast::channel(1024).0)
    }
}

impl Revocations {
    /// A stream's ear. A receiver that lags must check its own user with
    /// the store (see `routes::events`).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.0.subscribe()
    }
}

/// Watches the store until aborted. A revoked user's session credentials
/// (SSH sessions) stop working at once; the sessions hear it and end.
pub async fn watch(
    store: SharedStore,
    clock: SharedClock,
    revocations: Arc<Revocations>,
    sessions: Arc<SessionTokens>,
) {
    let mut since = clock.now() - OVERLAP;
    let mut told: HashSet<String> = HashSet::new();
    loop {
        tokio::time::sleep(WATCH_EVERY).await;
        let now = clock.now();
        match store.revoked_since(since).await {
            Ok(ids) => {
                for id in ids {
                    if told.insert(id.clone()) {
                        tracing::info!(user = %id, "revoked: ending its live feeds and sessions");
                        sessions.revoke_user(&id);
                        let _ = revocations.0.send(Arc::from(id));
                    }
                }
                // Forget what is older than the overlap: it cannot come back.
                since = now - OVERLAP;
                if told.len() > 10_000 {
                    told.clear();
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read revocations"),
        }
    }
}
