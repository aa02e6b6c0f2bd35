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
