//! The live feed: a task that follows `GET /v1/events` forever, resuming
//! with `Last-Event-ID` after every drop, and hands [`FeedEvent`]s to the
//! caller on a channel. A reconnect that cannot reach the live server moves
//! to the next one the client knows ([`super::servers`]) and resumes there:
//! sequence numbers are the exchange's, not one server's. It dedups nothing: the caller applies an event only
//! if its `version` is higher than the one it holds.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::http::{
    Client, ClientError, api_error, is_event_stream, network_error, parse_retry_after,
};
use super::retry::Backoff;
use super::sse::{SseItem, SseParser};
use crate::wire::Referral;

/// What the feed tells its caller.
// `Event` is the common case; boxing its referral would only add an
// allocation per event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum FeedEvent {
    /// The stream is open (again): the server accepted the resume point.
    Connected,
    /// A change to a referral, with its server-wide sequence number.
    Event {
        /// The event's `id`.
        seq: u64,
        /// The referral as this user may see it.
        referral: Referral,
    },
    /// The stream dropped (or could not open); the feed reconnects by
    /// itself in `retry_in`.
    Disconnected {
        /// Why, for a status bar.
        reason: String,
        /// When the next try starts.
        retry_in: Duration,
    },
    /// 410: the server no longer holds events that far back. The feed has
    /// stopped; the caller lists again and watches from the new `as_of`.
    Gone,
    /// No bytes (event or `: ping`) for `heartbeat_timeout`: the connection
    /// is presumed dead. A `Disconnected` and a reconnect follow.
    Stale,
}

/// How the feed behaves.
#[derive(Debug, Clone)]
pub struct FeedOptions {
    /// How long without a byte before the stream is presumed dead (the
    /// server pings at least every 15 s).
    pub heartbeat_timeout: Duration,
    /// Reconnect waits: full jitter; its `base` is replaced by the server's
    /// `retry:` once one arrives (bounded below by `min_retry`).
    pub reconnect: Backoff,
    /// The smallest reconnection base honoured from the server's `retry:`.
    pub min_retry: Duration,
    /// Longest wait for the response headers of `GET /v1/events`.
    pub open_timeout: Duration,
    /// Capacity of the channel to the caller (the task waits when it is full).
    pub channel_capacity: usize,
}

impl Default for FeedOptions {
    /// 45 s heartbeat, reconnect base 1 s (until the server says) capped at
    /// 30 s, server `retry:` honoured down to 100 ms, 15 s to open, 1024 events.
    fn default() -> Self {
        Self {
            heartbeat_timeout: Duration::from_secs(45),
            reconnect: Backoff::new(Duration::from_secs(1), Duration::from_secs(30)),
            min_retry: Duration::from_millis(100),
            open_timeout: Duration::from_secs(15),
            channel_capacity: 1024,
        }
    }
}

/// The running feed. Dropping it (or `stop`) ends the task.
#[derive(Debug)]
pub struct FeedHandle {
    /// The events, in the order the server sent them.
    pub rx: mpsc::Receiver<FeedEvent>,
    task: JoinHandle<()>,
    last_seq: Arc<AtomicU64>,
}

impl FeedHandle {
    /// The next event (None once the task has ended: after `Gone` or `stop`).
    pub async fn recv(&mut self) -> Option<FeedEvent> {
        self.rx.recv().await
    }

    /// The seq the feed would resume after: the last event handed over
    /// (or the starting point).
    pub fn last_seq(&self) -> u64 {
        self.last_seq.load(Ordering::SeqCst)
    }

    /// Stops the task now.
    pub fn stop(&self) {
        self.task.abort();
    }

    /// Whether the task has ended.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for FeedHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts following the feed from `after` (exclusive: the first page's
/// `as_of` after a list) on a tokio task. It reconnects forever with
/// jittered backoff; it ends only on 410 (after sending `Gone`), when the
/// receiver is dropped, or on `stop`.
pub fn watch(client: Client, after: u64, options: FeedOptions) -> FeedHandle {
    let (tx, rx) = mpsc::channel(options.channel_capacity.max(1));
    let last_seq = Arc::new(AtomicU64::new(after));
    let task = tokio::spawn(run(client, options, tx, Arc::clone(&last_seq)));
    FeedHandle { rx, task, last_seq }
}

/// How one connection ended.
enum End {
    /// The caller dropped the receiver.
    Closed,
    /// 410.
    Gone,
    /// Anything else: reconnect.
    Dropped {
        reason: String,
        /// The stream had opened (200): the failure count starts again.
        opened: bool,
        retry_after: Option<Duration>,
    },
}

async fn run(
    client: Client,
    options: FeedOptions,
    tx: mpsc::Sender<FeedEvent>,
    last_seq: Arc<AtomicU64>,
) {
    let mut backoff = options.reconnect;
    let mut failures: u32 = 0;
    loop {
        match connect(&client, &options, &tx, &last_seq, &mut backoff).await {
            End::Closed => return,
            End::Gone => {
                let _ = tx.send(FeedEvent::Gone).await;
                return;
            }
            End::Dropped {
                reason,
                opened,
                retry_after,
            } => {
                if opened {
                    failures = 0;
                }
                failures = failures.saturating_add(1);
                let retry_in = backoff.delay_with(failures, retry_after, &mut rand::rng());
                tracing::debug!(%reason, ?retry_in, "event feed disconnected");
                if tx
                    .send(FeedEvent::Disconnected { reason, retry_in })
                    .await
                    .is_err()
                {
                    return;
                }
                tokio::time::sleep(retry_in).await;
            }
        }
    }
}

async fn connect(
    client: &Client,
    options: &FeedOptions,
    tx: &mpsc::Sender<FeedEvent>,
    last_seq: &AtomicU64,
    backoff: &mut Backoff,
) -> End {
    let after = last_seq.load(Ordering::SeqCst);
    // On the live server, or the next when it cannot be reached: sequence
    // numbers are the exchange's, so any server resumes after `after`.
    let request = client.open_events(after);
    let resp = match tokio::time::timeout(options.open_timeout, request).await {
        Err(_) => {
            return End::Dropped {
                reason: "server did not answer in time".into(),
                opened: false,
                retry_after: None,
            };
        }
        Ok(Err(e)) => {
            return End::Dropped {
                reason: e.to_string(),
                opened: false,
                retry_after: None,
            };
        }
        Ok(Ok(resp)) => resp,
    };
    let status = resp.status();
    if status.as_u16() == 410 {
        return End::Gone;
    }
    if !status.is_success() {
        let retry_after = parse_retry_after(resp.headers());
        // Error bodies are small; bound the wait for them anyway.
        let body = tokio::time::timeout(options.open_timeout, resp.bytes())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let error: ClientError = api_error(status, &body, retry_after);
        return End::Dropped {
            reason: error.to_string(),
            opened: false,
            retry_after,
        };
    }
    if !is_event_stream(resp.headers()) {
        return End::Dropped {
            reason: "the server's feed is not text/event-stream".into(),
            opened: false,
            retry_after: None,
        };
    }
    if tx.send(FeedEvent::Connected).await.is_err() {
        return End::Closed;
    }

    let mut stream = resp.bytes_stream();
    let mut parser = SseParser::new();
    let mut items = Vec::new();
    loop {
        let chunk = match tokio::time::timeout(options.heartbeat_timeout, stream.next()).await {
            Err(_) => {
                if tx.send(FeedEvent::Stale).await.is_err() {
                    return End::Closed;
                }
                return dropped(format!(
                    "no data from the server for {}",
                    super::http::human_duration(options.heartbeat_timeout)
                ));
            }
            Ok(None) => return dropped("the server closed the feed".into()),
            Ok(Some(Err(e))) => return dropped(network_error(e).to_string()),
            Ok(Some(Ok(chunk))) => chunk,
        };
        items.clear();
        if let Err(e) = parser.feed(&chunk, &mut items) {
            return dropped(e.to_string());
        }
        for item in items.drain(..) {
            match item {
                SseItem::Retry(ms) => {
                    backoff.base = ms.max(options.min_retry).min(backoff.cap);
                }
                SseItem::Event(ev) => {
                    let Ok(seq) = ev.id.trim().parse::<u64>() else {
                        tracing::warn!(id = %ev.id.escape_debug(), "feed event without a numeric id skipped");
                        continue;
                    };
                    if ev.event != "referral" {
                        // A newer server's event type: not ours, but past it.
                        last_seq.store(seq, Ordering::SeqCst);
                        continue;
                    }
                    match serde_json::from_str::<Referral>(&ev.data) {
                        Ok(referral) => {
                            if tx.send(FeedEvent::Event { seq, referral }).await.is_err() {
                                return End::Closed;
                            }
                        }
                        Err(e) => {
                            tracing::warn!(seq, error = %e, "feed event with an unreadable referral skipped");
                        }
                    }
                    last_seq.store(seq, Ordering::SeqCst);
                }
            }
        }
    }
}

fn dropped(reason: String) -> End {
    End::Dropped {
        reason,
        opened: true,
        retry_after: None,
    }
}

#[cfg(test)]
#[path = "feed_tests.rs"]
mod tests;
