//! The live feed across servers. Every write transaction ends with
//! `pg_notify('leadx_events', <its last seq>)`, delivered by PostgreSQL
//! only once the transaction has committed. Each [`super::PgStore`] holds
//! one `LISTEN leadx_events` connection of its own (not from the pool) on a
//! task: on every notification it reads the log after the last seq it has
//! published and sends those events, in order, to its subscribers.
//!
//! A lost `LISTEN` connection is opened again with backoff; once it
//! listens again the task catches up from the log, so subscribers miss
//! nothing. A server's own commits are also published right after they
//! commit when they directly follow what was published (lower latency);
//! [`Feed`] skips any seq already sent, so nothing is sent twice, and a
//! notification of a seq already published reads nothing.
//!
//! The same connection listens on `leadx_auth` (migration 4's trigger on
//! users and partners) and drops the cached token look-ups
//! ([`super::auth_cache`]) the moment one arrives; it is probed every
//! `POLL_EVERY`, so one that died without a word is found and the cache
//! stops answering.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{broadcast, mpsc};
use tokio_postgres::AsyncMessage;

use super::auth_cache::AuthCache;
use super::conn::{Target, connect_one};
use super::read::{self, pg};
use crate::store::{StoreError, StoreResult, StoredEvent};

/// The channel every write notifies, with its last seq as the payload.
pub const CHANNEL: &str = "leadx_events";
/// The channel a change to users or partners notifies (migration 4's
/// trigger): cached token look-ups are dropped.
pub const AUTH_CHANNEL: &str = "leadx_auth";
/// `application_name` of the listening connection (seen in `pg_stat_activity`).
pub const APPLICATION_NAME: &str = "leadx-listen";
/// Events read from the log at once while catching up.
const CATCH_UP_CHUNK: usize = 1000;
/// First wait before opening a lost connection again; doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// The log is read this often even without a notification (a safety net),
/// and the listening connection is probed.
const POLL_EVERY: Duration = Duration::from_secs(5);
/// A probe of the listening connection not answered within this means it
/// is lost.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// What one server has published to its subscribers.
pub struct Feed {
    sender: broadcast::Sender<Arc<StoredEvent>>,
    /// The highest seq sent, under the lock that sends.
    published: Mutex<u64>,
}

impl Feed {
    /// A feed whose subscribers get events after `start`.
    pub fn new(capacity: usize, start: u64) -> Feed {
        let (sender, _) = broadcast::channel(capacity);
        Feed {
            sender,
            published: Mutex::new(start),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StoredEvent>> {
        self.sender.subscribe()
    }

    /// The highest seq published.
    pub fn published(&self) -> u64 {
        *self.published.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends events read from the log after [`Feed::published`]: the log
    /// is the authority (a gap there is pruned history, never a commit to
    /// come, since seqs follow commit order).
    pub fn publish_from_log(&self, events: &[Arc<StoredEvent>]) {
        let mut published = self.published.lock().unwrap_or_else(|p| p.into_inner());
        for ev in events {
            if ev.seq > *published {
                *published = ev.seq;
                let _ = self.sender.send(ev.clone());
            }
        }
    }

    /// Sends this server's own just-committed events if they directly
    /// follow what was published; what does not follow is left to the
    /// listener, which reads it from the log in order.
    pub fn publish_committed(&self, events: &[Arc<StoredEvent>]) {
        let mut published = self.published.lock().unwrap_or_else(|p| p.into_inner());
        for ev in events {
            if ev.seq <= *published {
                continue;
            }
            if ev.seq != *published + 1 {
                return;
            }
            *published = ev.seq;
            let _ = self.sender.send(ev.clone());
        }
    }
}

/// The listener task: runs until aborted.
pub async fn run(
    target: Target,
    pool: deadpool_postgres::Pool,
    feed: Arc<Feed>,
    auth: Arc<AuthCache>,
) {
    let mut backoff = MIN_BACKOFF;
    loop {
        let Err(e) = session(&target, &pool, &feed, &auth, &mut backoff).await;
        // Changes are no longer heard: stop answering from the cache.
        auth.set_live(false);
        tracing::warn!(error = %e, retry_ms = backoff.as_millis() as u64, "store: event listener");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One `LISTEN` connection's life: returns only when it is lost.
async fn session(
    target: &Target,
    pool: &deadpool_postgres::Pool,
    feed: &Feed,
    auth: &Arc<AuthCache>,
    backoff: &mut Duration,
) -> Result<std::convert::Infallible, StoreError> {
    let (client, mut connection) = connect_one(target, APPLICATION_NAME).await?;
    // The highest seq each notification names (0: the payload did not
    // parse, read the log anyway).
    let (wake, mut woken) = mpsc::unbounded_channel::<u64>();
    let heard_by = auth.clone();
    // Drives the connection and turns notifications into wake-ups; ends
    // (closing `wake`) when the connection does. A change to users or
    // partners drops the cached token look-ups right here, whatever the
    // session loop below is waiting for (a pooled connection, a long
    // catch-up).
    tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) if n.channel() == AUTH_CHANNEL => {
                    heard_by.drop_all();
                }
                Ok(AsyncMessage::Notification(n)) => {
                    if wake.send(n.payload().parse().unwrap_or(0)).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "store: event listener connection");
                    return;
                }
            }
        }
    });
    client
        .batch_execute(&format!("LISTEN {CHANNEL}; LISTEN {AUTH_CHANNEL}"))
        .await
        .map_err(pg)?;
    // From here every change to users or partners is heard.
    auth.set_live(true);
    *backoff = MIN_BACKOFF;
    catch_up(pool, feed).await?;
    let mut poll = tokio::time::interval(POLL_EVERY);
    loop {
        // The highest seq notified, or `u64::MAX` when the log must be
        // read whatever was published (a poll, a payload not understood).
        let mut notified = 0;
        tokio::select! {
            woke = woken.recv() => {
                let Some(first) = woke else {
                    return Err(StoreError::Backend("the LISTEN connection was lost".into()));
                };
                let mut heard = |seq: u64| {
                    notified = if seq == 0 { u64::MAX } else { notified.max(seq) };
                };
                heard(first);
                while let Ok(seq) = woken.try_recv() {
                    heard(seq);
                }
            }
            _ = poll.tick() => {
                // A connection that died without a word (a partition, a
                // dropped NAT entry) would never say so: ask it something.
                // Until it is known lost, cached look-ups are bounded by
                // their age (`auth_cache::MAX_AGE`).
                match tokio::time::timeout(PROBE_TIMEOUT, client.simple_query("SELECT 1")).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return Err(pg(e)),
                    Err(_) => {
                        return Err(StoreError::Backend(
                            "the LISTEN connection did not answer a probe".into(),
                        ))
                    }
                }
                notified = u64::MAX;
            }
        }
        // This server's own commits are usually published already: a
        // notification of nothing new needs no read of the log.
        if notified > feed.published() {
            catch_up(pool, feed).await?;
        }
    }
}

/// Publishes every committed event after what was published.
pub async fn catch_up(pool: &deadpool_postgres::Pool, feed: &Feed) -> StoreResult<()> {
    let conn = super::conn::get(pool).await?;
    loop {
        let events = read::events_after(&conn, feed.published(), CATCH_UP_CHUNK).await?;
        feed.publish_from_log(&events);
        if events.len() < CATCH_UP_CHUNK {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::StoredReferral;

    fn ev(seq: u64) -> Arc<StoredEvent> {
        let referral: crate::wire::Referral = serde_json::from_value(serde_json::json!({
            "id": format!("r_{seq}"), "version": 1, "status": "pending",
            "from_partner": "a", "to_partner": "b",
            "lead": {"company": "c", "domain": null, "contact_name": null, "contact_email": null,
                     "contact_phone": null, "category": "hosting", "summary": null,
                     "est_value_cents": null, "currency": "USD", "region": null},
            "contact_masked": false, "commission_pct": 15, "note": null, "decision_note": null,
            "created_at": "2026-11-26T09:14:03Z", "updated_at": "2026-11-26T09:14:03Z",
            "expires_at": "2026-11-29T09:14:03Z", "decided_at": null, "decided_by": null,
            "reason": null, "outcome": null, "parent_id": null, "forwarded_to": null,
            "chain": ["a", "b"]
        }))
        .unwrap();
        Arc::new(StoredEvent {
            seq,
            referral: StoredReferral {
                referral,
                accepted_partner: None,
            },
        })
    }

    fn seqs(rx: &mut broadcast::Receiver<Arc<StoredEvent>>) -> Vec<u64> {
        std::iter::from_fn(|| rx.try_recv().ok().map(|e| e.seq)).collect()
    }

    #[test]
    fn own_commits_are_sent_only_in_order_and_never_twice() {
        let feed = Feed::new(64, 10);
        let mut rx = feed.subscribe();
        // 12 does not follow 10: left to the listener.
        feed.publish_committed(&[ev(12), ev(13)]);
        assert_eq!(seqs(&mut rx), Vec::<u64>::new());
        feed.publish_from_log(&[ev(11), ev(12)]);
        feed.publish_committed(&[ev(12), ev(13), ev(14)]);
        feed.publish_from_log(&[ev(13), ev(14), ev(15)]);
        assert_eq!(seqs(&mut rx), vec![11, 12, 13, 14, 15]);
        // Pruned history: the log may jump.
        feed.publish_from_log(&[ev(40)]);
        assert_eq!(seqs(&mut rx), vec![40]);
        assert_eq!(feed.published(), 40);
    }
}
