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
mod tests {
    use super::*;
    use crate::client::http::ClientConfig;
    use crate::wire::{Lead, Status};
    use std::sync::Mutex;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// What a scripted connection does, in order.
    #[derive(Clone)]
    enum Step {
        Write(Vec<u8>),
        Sleep(Duration),
        /// Keep the connection open without writing, for a long time.
        Hold,
    }

    const SSE_HEAD: &str = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n";

    fn w(s: &str) -> Step {
        Step::Write(s.as_bytes().to_vec())
    }

    fn referral(id: &str, version: u64) -> Referral {
        let t = crate::wire::parse_timestamp("2026-11-26T09:14:03Z").unwrap();
        Referral {
            id: id.into(),
            version,
            status: Status::Pending,
            from_partner: "northwind-net".into(),
            to_partner: "acme-web".into(),
            lead: Lead {
                company: "Main Street Bakery".into(),
                domain: None,
                contact_name: None,
                contact_email: None,
                contact_phone: None,
                category: "hosting".into(),
                summary: None,
                est_value_cents: None,
                currency: "USD".into(),
                region: None,
            },
            contact_masked: true,
            commission_pct: 15,
            note: None,
            decision_note: None,
            created_at: t,
            updated_at: t,
            expires_at: t,
            decided_at: None,
            decided_by: None,
            reason: None,
            outcome: None,
            parent_id: None,
            forwarded_to: None,
            chain: ["northwind-net".into(), "acme-web".into()].into(),
        }
    }

    fn event(seq: u64, r: &Referral) -> String {
        format!(
            "id: {seq}\nevent: referral\ndata: {}\n\n",
            serde_json::to_string(r).unwrap()
        )
    }

    /// A server that plays one script per connection, in order (the last
    /// script repeats), and records each request head.
    async fn scripted(scripts: Vec<Vec<Step>>) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&heads);
        tokio::spawn(async move {
            let mut n = 0;
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let script = scripts[n.min(scripts.len() - 1)].clone();
                n += 1;
                let seen = Arc::clone(&seen);
                tokio::spawn(play(sock, script, seen));
            }
        });
        (url, heads)
    }

    async fn play(mut sock: TcpStream, script: Vec<Step>, seen: Arc<Mutex<Vec<String>>>) {
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match sock.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(k) => head.extend_from_slice(&buf[..k]),
            }
        }
        seen.lock()
            .unwrap()
            .push(String::from_utf8_lossy(&head).to_lowercase());
        for step in script {
            match step {
                Step::Write(bytes) => {
                    if sock.write_all(&bytes).await.is_err() {
                        return;
                    }
                    let _ = sock.flush().await;
                }
                Step::Sleep(d) => tokio::time::sleep(d).await,
                Step::Hold => tokio::time::sleep(Duration::from_secs(3600)).await,
            }
        }
    }

    fn client(url: &str) -> Client {
        Client::new(ClientConfig::new(url, "tok")).unwrap()
    }

    fn quick() -> FeedOptions {
        FeedOptions {
            heartbeat_timeout: Duration::from_secs(5),
            reconnect: Backoff::new(Duration::from_millis(20), Duration::from_millis(50)),
            min_retry: Duration::from_millis(1),
            open_timeout: Duration::from_secs(5),
            channel_capacity: 16,
        }
    }

    async fn next(h: &mut FeedHandle) -> FeedEvent {
        tokio::time::timeout(Duration::from_secs(10), h.recv())
            .await
            .expect("a feed event within 10 s")
            .expect("the feed is still running")
    }

    fn last_event_ids(heads: &Mutex<Vec<String>>) -> Vec<String> {
        heads
            .lock()
            .unwrap()
            .iter()
            .map(|h| {
                h.lines()
                    .find_map(|l| l.strip_prefix("last-event-id:"))
                    .map(|v| v.trim().to_string())
                    .unwrap_or_default()
            })
            .collect()
    }

    #[tokio::test]
    async fn events_then_drop_resumes_after_the_last_seq_then_gone_stops() {
        let (a, b) = (referral("r_a", 1), referral("r_b", 2));
        // Connection 1: two events, a third cut in half, then EOF.
        let third = event(9, &referral("r_c", 1));
        let cut = &third[..third.len() / 2];
        let (url, heads) = scripted(vec![
            vec![
                w(SSE_HEAD),
                w("retry: 30\n\n: ping\n\n"),
                w(&event(5, &a)),
                w(&event(7, &b)),
                w(cut),
            ],
            vec![w(
                "HTTP/1.1 410 Gone\r\ncontent-type: application/json\r\ncontent-length: 50\r\nconnection: close\r\n\r\n{\"error\":{\"code\":\"gone\",\"message\":\"too old!!\"}}",
            )],
        ])
        .await;
        let mut h = watch(client(&url), 3, quick());
        assert_eq!(next(&mut h).await, FeedEvent::Connected);
        assert_eq!(
            next(&mut h).await,
            FeedEvent::Event {
                seq: 5,
                referral: a
            }
        );
        assert_eq!(
            next(&mut h).await,
            FeedEvent::Event {
                seq: 7,
                referral: b
            }
        );
        match next(&mut h).await {
            FeedEvent::Disconnected { reason, retry_in } => {
                assert_eq!(reason, "the server closed the feed");
                assert!(retry_in <= Duration::from_millis(50), "{retry_in:?}");
            }
            other => panic!("expected Disconnected, got {other:?}"),
        }
        assert_eq!(next(&mut h).await, FeedEvent::Gone);
        assert!(h.recv().await.is_none(), "the task ends after Gone");
        assert_eq!(h.last_seq(), 7, "the cut event was never handed over");
        // First connect from `after`, the reconnect from the last event.
        assert_eq!(last_event_ids(&heads), ["3", "7"]);
        let first = heads.lock().unwrap()[0].clone();
        assert!(first.starts_with("get /v1/events "), "{first}");
        assert!(first.contains("authorization: bearer tok"));
        assert!(first.contains("accept: text/event-stream"));
    }

    #[tokio::test]
    async fn silence_is_stale_then_reconnects() {
        let r = referral("r_s", 4);
        let (url, heads) = scripted(vec![
            vec![w(SSE_HEAD), w(": ping\n\n"), Step::Hold],
            vec![w(SSE_HEAD), w(&event(11, &r)), Step::Hold],
        ])
        .await;
        let mut options = quick();
        options.heartbeat_timeout = Duration::from_millis(300);
        let mut h = watch(client(&url), 10, options);
        assert_eq!(next(&mut h).await, FeedEvent::Connected);
        assert_eq!(next(&mut h).await, FeedEvent::Stale);
        match next(&mut h).await {
            FeedEvent::Disconnected { reason, .. } => {
                assert_eq!(reason, "no data from the server for 300ms")
            }
            other => panic!("expected Disconnected, got {other:?}"),
        }
        assert_eq!(next(&mut h).await, FeedEvent::Connected);
        assert_eq!(
            next(&mut h).await,
            FeedEvent::Event {
                seq: 11,
                referral: r
            }
        );
        assert_eq!(last_event_ids(&heads), ["10", "10"]);
    }

    #[tokio::test]
    async fn errors_are_retried_honouring_retry_after_and_never_end_the_feed() {
        let r = referral("r_e", 2);
        let body = "{\"error\":{\"code\":\"unavailable\",\"message\":\"store busy\"}}";
        let unavailable = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let (url, heads) = scripted(vec![
            vec![w(&unavailable)],
            // Not an event stream (a captive portal, a proxy page).
            vec![w("HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi")],
            // A server that never answers with headers is abandoned too.
            vec![Step::Sleep(Duration::from_secs(3600))],
            vec![w(SSE_HEAD), w(&event(3, &r)), Step::Hold],
        ])
        .await;
        let mut options = quick();
        options.open_timeout = Duration::from_millis(300);
        let started = std::time::Instant::now();
        let mut h = watch(client(&url), 0, options);
        match next(&mut h).await {
            FeedEvent::Disconnected { reason, retry_in } => {
                assert_eq!(reason, "unavailable: store busy (retry in 1s)");
                assert_eq!(retry_in, Duration::from_secs(1));
            }
            other => panic!("expected Disconnected, got {other:?}"),
        }
        match next(&mut h).await {
            FeedEvent::Disconnected { reason, .. } => {
                assert_eq!(reason, "the server's feed is not text/event-stream")
            }
            other => panic!("expected Disconnected, got {other:?}"),
        }
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "waited for Retry-After"
        );
        match next(&mut h).await {
            FeedEvent::Disconnected { reason, .. } => {
                assert_eq!(reason, "server did not answer in time")
            }
            other => panic!("expected Disconnected, got {other:?}"),
        }
        assert_eq!(next(&mut h).await, FeedEvent::Connected);
        assert_eq!(
            next(&mut h).await,
            FeedEvent::Event {
                seq: 3,
                referral: r
            }
        );
        assert_eq!(last_event_ids(&heads), ["0", "0", "0", "0"]);
    }

    #[tokio::test]
    async fn unreadable_and_foreign_events_are_skipped_but_passed() {
        let r = referral("r_ok", 1);
        let (url, heads) = scripted(vec![
            vec![
                w(SSE_HEAD),
                w("id: 20\nevent: referral\ndata: {not json\n\n"),
                w("id: 21\nevent: something-new\ndata: {}\n\n"),
                w("id: x\nevent: referral\ndata: {}\n\n"),
                w(&event(22, &r)),
            ],
            vec![w(SSE_HEAD), Step::Hold],
        ])
        .await;
        let mut h = watch(client(&url), 19, quick());
        assert_eq!(next(&mut h).await, FeedEvent::Connected);
        assert_eq!(
            next(&mut h).await,
            FeedEvent::Event {
                seq: 22,
                referral: r
            }
        );
        assert!(matches!(next(&mut h).await, FeedEvent::Disconnected { .. }));
        assert_eq!(next(&mut h).await, FeedEvent::Connected);
        assert_eq!(last_event_ids(&heads), ["19", "22"]);
    }

    #[tokio::test]
    async fn connection_refused_keeps_trying_and_drop_stops_the_task() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let mut h = watch(client(&format!("http://{addr}")), 0, quick());
        for _ in 0..3 {
            match next(&mut h).await {
                FeedEvent::Disconnected { reason, .. } => {
                    assert_eq!(reason, "server unreachable: connection refused")
                }
                other => panic!("expected Disconnected, got {other:?}"),
            }
        }
        assert!(!h.is_finished());
        h.stop();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !h.is_finished() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the task ends after stop"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}
