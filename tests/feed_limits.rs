//! What a live-feed subscriber may take (issue 10 items 2 and 7): a cap on
//! open streams per user, and a replay of the log charged to the caller's
//! rate limit.

mod common;

use common::World;
use leadx::server::ServerConfig;
use leadx::server::routes::feed_limits::{
    EVENTS_PER_CHARGE, MAX_STREAMS_PER_USER, STREAM_BUDGET_BYTES,
};

async fn open(w: &World, token: &str, after: Option<u64>) -> reqwest::Response {
    let mut req = w
        .http
        .get(format!("{}/v1/events", w.url))
        .bearer_auth(token);
    if let Some(a) = after {
        req = req.header("Last-Event-ID", a.to_string());
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_user_holds_at_most_so_many_streams() {
    let w = World::start().await;
    let mut streams = Vec::new();
    for _ in 0..MAX_STREAMS_PER_USER {
        let r = open(&w, &w.t.acme, None).await;
        assert_eq!(r.status(), 200);
        streams.push(r);
    }
    let refused = common::reply(open(&w, &w.t.acme, None).await).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.code(), "rate_limited");
    assert!(refused.headers.get("retry-after").is_some());
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("live feeds open"), "{message}");
    // Another user of the same partner is not this user's limit.
    assert_eq!(open(&w, &w.t.acme_viewer, None).await.status(), 200);
    // A stream closed gives its place back.
    drop(streams.pop());
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let r = open(&w, &w.t.acme, None).await;
        if r.status() == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed stream kept its place"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_is_charged_to_the_callers_rate_limit() {
    // 1 request a second, bursts of 2: a replay of 3 x EVENTS_PER_CHARGE
    // events costs 3 charges and empties the bucket.
    let config = ServerConfig {
        rate_limit: 1,
        ..ServerConfig::for_tests()
    };
    let w = World::start_with(config, |s| s).await;
    let sender = w.store.authenticate(&w.t.northwind).await.unwrap().unwrap();
    for i in 0..3 * EVENTS_PER_CHARGE {
        let lead =
            serde_json::from_value(common::lead_body("acme-web", &format!("R{i}"), None)).unwrap();
        w.store
            .create(&sender, lead, None)
            .await
            .unwrap()
            .expect("created");
    }
    // The replay: every event after 0, read to its end.
    let mut feed = open(&w, &w.t.acme, Some(0)).await;
    assert_eq!(feed.status(), 200);
    let mut seen = 0;
    let mut buf = String::new();
    while seen < 3 * EVENTS_PER_CHARGE {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(30), feed.chunk())
            .await
            .expect("the replay goes on")
            .unwrap()
            .expect("stream open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
        seen = buf.matches("\nevent: referral\n").count() + usize::from(buf.starts_with("event"));
    }
    // The subscription took one request and the replay three more: the
    // bucket (2) is empty, so the next request waits.
    let next = w.get(&w.t.acme, "/v1/me").await;
    assert_eq!(next.status, 429, "{}", next.body);
}

/// A number from `/metrics`, by its series name.
async fn metric(w: &World, name: &str) -> i64 {
    let text = w
        .http
        .get(format!("{}/metrics", w.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

/// Bytes the kernel holds for the connection between `server` and
/// `client` (two loopback ports): unsent or unacknowledged on the server's
/// side plus received and unread on the client's, from /proc/net/tcp.
fn kernel_bytes(server: u16, client: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let port = |addr: &str| u16::from_str_radix(addr.rsplit(':').next().unwrap(), 16).unwrap();
    let mut held = 0;
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (local, remote) = (port(f[1]), port(f[2]));
        let (tx, rx) = f[4].split_once(':').unwrap();
        let (tx, rx) = (
            usize::from_str_radix(tx, 16).unwrap(),
            usize::from_str_radix(rx, 16).unwrap(),
        );
        if (local, remote) == (server, client) {
            held += tx;
        } else if (local, remote) == (client, server) {
            held += rx;
        }
    }
    held
}

/// The event ids in an HTTP/1.1 response carrying an event stream.
fn event_ids(response: &[u8]) -> Vec<u64> {
    let text = String::from_utf8_lossy(response);
    let (head, mut rest) = text.split_once("\r\n\r\n").expect("a response head");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let mut body = String::new();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
            if n == 0 || after.len() < n {
                break;
            }
            body.push_str(&after[..n]);
            rest = after[n..].trim_start_matches("\r\n");
        }
    } else {
        body.push_str(rest);
    }
    body.lines()
        .filter_map(|l| l.strip_prefix("id:")?.trim().parse().ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stops_reading_is_dropped_holding_its_budget_and_resumes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::time::{Duration, Instant, sleep, timeout};

    let config = ServerConfig {
        feed_write_timeout: Duration::from_millis(500),
        ..ServerConfig::for_tests()
    };
    let w = World::start_with(config, |s| s).await;
    let addr = w.server.as_ref().unwrap().addr;
    let start = w.store.last_seq().await.unwrap();

    // A raw client that asks for the feed and then reads nothing, with a
    // small receive window so the kernel soon stops taking for it.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(addr).await.unwrap();
    let request = format!(
        "GET /v1/events HTTP/1.1\r\nHost: leadx\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        w.t.acme_viewer
    );
    stalled.write_all(request.as_bytes()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(&w, "leadx_event_subscribers").await < 1 {
        assert!(Instant::now() < deadline, "the stream never started");
        sleep(Duration::from_millis(20)).await;
    }

    // Large leads, each rendered at about 24 KB: 400 of them are 9.6 MB, far
    // more than the budget, the kernel's buffers and the channel hold.
    let sender = w.store.authenticate(&w.t.northwind).await.unwrap().unwrap();
    let wide = "漢".repeat(leadx::wire::MAX_TEXT_CHARS);
    for i in 0..400 {
        let mut body = common::lead_body("acme-web", &format!("Big {i}"), None);
        body["lead"]["summary"] = wide.clone().into();
        body["note"] = wide.clone().into();
        let lead = serde_json::from_value(body).unwrap();
        w.store
            .create(&sender, lead, None)
            .await
            .unwrap()
            .expect("created");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while metric(&w, "leadx_feeds_dropped_total").await < 1 {
        assert!(
            Instant::now() < deadline,
            "the stalled stream was never dropped"
        );
        sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(metric(&w, "leadx_event_subscribers").await, 0);

    // What the server still holds for it: everything the client will read
    // from here on, less what sits in the kernel. At most its budget and
    // hyper's write buffer (about 400 KiB); without the budget, the
    // stream's channel alone would hold 256 of these events (6 MB).
    let (server_port, client_port) = (addr.port(), stalled.local_addr().unwrap().port());
    let mut kernel = kernel_bytes(server_port, client_port);
    loop {
        sleep(Duration::from_millis(200)).await;
        let again = kernel_bytes(server_port, client_port);
        if again == kernel {
            break;
        }
        kernel = again;
    }
    let mut received = Vec::new();
    timeout(Duration::from_secs(20), stalled.read_to_end(&mut received))
        .await
        .expect("the dropped stream ends")
        .unwrap();
    let held = received.len().saturating_sub(kernel);
    let bound = STREAM_BUDGET_BYTES + 512 * 1024;
    assert!(
        held <= bound,
        "the server held {held} bytes for a reader that stopped (bound {bound}; kernel {kernel}, read {})",
        received.len()
    );

    // It resumes where it was cut and misses nothing.
    let mut seen = event_ids(&received);
    let last_read = *seen.last().expect("some events came before the cut");
    let expected: Vec<u64> = w
        .store
        .events_after(start, 10_000)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(expected.len(), 400);
    assert!(
        last_read < *expected.last().unwrap(),
        "the stream was cut early"
    );
    let mut feed = open(&w, &w.t.acme_viewer, Some(last_read)).await;
    assert_eq!(feed.status(), 200);
    let mut buf = Vec::new();
    while seen.last() != expected.last() {
        let chunk = timeout(Duration::from_secs(30), feed.chunk())
            .await
            .expect("the resumed stream goes on")
            .unwrap()
            .expect("stream open");
        buf.extend_from_slice(&chunk);
        let text = String::from_utf8_lossy(&buf);
        let upto = text.rfind("\n\n").map_or(0, |i| i + 2);
        seen.extend(
            text[..upto]
                .lines()
                .filter_map(|l| l.strip_prefix("id:")?.trim().parse::<u64>().ok()),
        );
        buf.drain(..upto);
    }
    assert_eq!(seen, expected, "every event once, in order, across the cut");
}
