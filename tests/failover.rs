//! Clients with several servers (issue 8 item 4): two HTTP front ends of one
//! exchange (`leadx::server::start` twice over the same store, which is what
//! several servers on one PostgreSQL look like to a client), and a client
//! that moves to the next server when the live one cannot be reached.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::World;
use leadx::client::{
    Backoff, Client, ClientConfig, FeedEvent, FeedHandle, FeedOptions, ServerMove,
    new_idempotency_key, watch,
};
use leadx::server::{RunningServer, ServerConfig, start};
use leadx::wire::{
    AcceptRequest, CreateReferral, ErrorCode, LeadInput, Referral, ReferralBox, Status,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A loopback address nothing listens on (bound, then let go).
fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    drop(l);
    format!("http://{addr}")
}

/// Another front end of the same exchange (same store, same clock).
async fn second_server(w: &World, listen: Option<std::net::SocketAddr>) -> RunningServer {
    let mut config = ServerConfig::for_tests();
    if let Some(addr) = listen {
        config.listen = addr;
    }
    start(w.store.clone(), w.clock.clone(), config)
        .await
        .expect("second server starts")
}

/// A client of `urls` in order, recording every move it makes.
fn client(urls: &[String], token: &str) -> (Client, Arc<Mutex<Vec<ServerMove>>>) {
    let mut config = ClientConfig::with_servers(urls, token);
    config.request_timeout = Duration::from_secs(20);
    let client = Client::new(config).expect("client");
    let moves = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::clone(&moves);
    client.on_move(move |m| heard.lock().unwrap().push(m.clone()));
    (client, moves)
}

fn label(url: &str) -> String {
    leadx::client::server_label(url)
}

fn lead(to: &str, company: &str) -> CreateReferral {
    CreateReferral {
        to_partner: to.into(),
        lead: LeadInput {
            company: Some(company.into()),
            domain: None,
            contact_name: None,
            contact_email: None,
            contact_phone: None,
            category: Some("hosting".into()),
            summary: None,
            est_value_cents: Some(100_000),
            currency: Some("USD".into()),
            region: None,
        },
        commission_pct: Some(10),
        note: None,
        expires_in_hours: None,
    }
}

fn quick_feed() -> FeedOptions {
    FeedOptions {
        heartbeat_timeout: Duration::from_secs(30),
        reconnect: Backoff::new(Duration::from_millis(50), Duration::from_millis(200)),
        min_retry: Duration::from_millis(50),
        open_timeout: Duration::from_secs(10),
        channel_capacity: 256,
    }
}

async fn next(h: &mut FeedHandle) -> FeedEvent {
    tokio::time::timeout(Duration::from_secs(20), h.recv())
        .await
        .expect("a feed event within 20 s")
        .expect("the feed is running")
}

/// The next referral event, skipping connection news.
async fn next_event(h: &mut FeedHandle) -> (u64, Referral) {
    loop {
        match next(h).await {
            FeedEvent::Event { seq, referral } => return (seq, referral),
            FeedEvent::Connected | FeedEvent::Disconnected { .. } => {}
            other => panic!("unexpected feed event {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_closed_first_server_is_skipped_and_the_second_is_live() {
    let w = World::start().await;
    w.send(&w.t.northwind, "acme-web", "First Co", None).await;
    let dead = closed_port();
    let (c, moves) = client(&[dead.clone(), w.url.clone()], &w.t.acme);
    assert_eq!(
        c.base_url(),
        format!("{dead}/"),
        "the first is live at first"
    );

    let (items, as_of) = c.list_all(ReferralBox::All).await.expect("listed via B");
    assert_eq!(items.len(), 1);
    assert!(as_of > 0);
    assert_eq!(c.base_url(), format!("{}/", w.url), "B is live now");
    {
        let moves = moves.lock().unwrap();
        assert_eq!(moves.len(), 1, "{moves:?}");
        assert_eq!(moves[0].from_label(), label(&dead));
        assert_eq!(moves[0].to_label(), label(&w.url));
        assert_eq!(moves[0].reason, "server unreachable: connection refused");
    }
    // B stays live: the next requests go straight to it.
    c.me().await.expect("me via B");
    c.partners(None).await.expect("partners via B");
    assert_eq!(moves.lock().unwrap().len(), 1);
    assert_eq!(c.server_urls(), [format!("{dead}/"), format!("{}/", w.url)]);
}

#[tokio::test]
async fn http_errors_never_move_to_another_server() {
    let w = World::start().await;
    let b = second_server(&w, None).await;
    // 401 from A: the exchange's answer, not an outage.
    let (c, moves) = client(&[w.url.clone(), b.url.clone()], "not-a-token");
    let e = c.me().await.unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::Unauthenticated));
    assert_eq!(c.base_url(), format!("{}/", w.url));
    // A 503 with Retry-After is for the retry loop, on the same server.
    let busy = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let busy_url = format!("http://{}", busy.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = busy.accept().await {
            tokio::spawn(async move {
                let _ = read_request(&mut sock).await;
                let body = r#"{"error":{"code":"unavailable","message":"store busy"}}"#;
                let reply = format!(
                    "HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    let (c, busy_moves) = client(&[busy_url.clone(), b.url.clone()], &w.t.acme);
    let e = c.me().await.unwrap_err();
    assert_eq!(e.status(), Some(503));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(c.base_url(), format!("{busy_url}/"));
    assert!(moves.lock().unwrap().is_empty());
    assert!(busy_moves.lock().unwrap().is_empty());

    // A server that took the connection and is slow to answer is there:
    // the request times out on it (for the retry loop), it does not move.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = silent.accept().await {
            tokio::spawn(async move {
                let _ = read_request(&mut sock).await;
                tokio::time::sleep(Duration::from_secs(3600)).await;
            });
        }
    });
    let mut config = ClientConfig::with_servers(&[silent_url.clone(), b.url.clone()], &w.t.acme);
    config.request_timeout = Duration::from_millis(300);
    let c = Client::new(config).expect("client");
    let e = c.me().await.unwrap_err();
    assert_eq!(e.to_string(), "server did not answer in time");
    assert_eq!(c.base_url(), format!("{silent_url}/"));
    b.shutdown().await;
}

#[tokio::test]
async fn the_feed_moves_to_the_next_server_and_resumes_where_it_was() {
    let mut w = World::start().await;
    // B's address is kept free until B starts, so that for a while neither
    // server answers and the feed must resume from its Last-Event-ID.
    let b_url = closed_port();
    let b_addr: std::net::SocketAddr = b_url.trim_start_matches("http://").parse().unwrap();
    let (north, moves) = client(&[w.url.clone(), b_url.clone()], &w.t.northwind);
    let r1 = north
        .send(&lead("acme-web", "Before"), &new_idempotency_key())
        .await
        .expect("sent via A");
    let (_, as_of) = north.list_all(ReferralBox::All).await.unwrap();
    let mut feed = watch(north.clone(), as_of, quick_feed());
    assert_eq!(next(&mut feed).await, FeedEvent::Connected);
    let (acme, _) = client(std::slice::from_ref(&w.url), &w.t.acme);
    acme.accept(&r1.id, &accept(1), &new_idempotency_key())
        .await
        .unwrap();
    let (seen, got) = next_event(&mut feed).await;
    assert_eq!((got.id.as_str(), got.version), (r1.id.as_str(), 2));

    // A goes away while the feed is connected to it.
    w.server.take().unwrap().shutdown().await;
    loop {
        match next(&mut feed).await {
            FeedEvent::Disconnected { reason, .. } if reason.contains("connection refused") => {
                break;
            }
            FeedEvent::Disconnected { .. } => {}
            other => panic!("expected Disconnected, got {other:?}"),
        }
    }
    assert!(
        moves
            .lock()
            .unwrap()
            .iter()
            .any(|m| m.from_label() == label(&w.url) && m.to_label() == label(&b_url)),
        "the feed tried B after A"
    );

    // Meanwhile a lead is sent through a third front end of the exchange.
    let c = second_server(&w, None).await;
    let (third, _) = client(std::slice::from_ref(&c.url), &w.t.northwind);
    let r2 = third
        .send(&lead("acme-web", "While moving"), &new_idempotency_key())
        .await
        .expect("sent via C");

    // B comes up: the feed resumes there after `seen`, missing nothing.
    let b = second_server(&w, Some(b_addr)).await;
    let (s2, e2) = next_event(&mut feed).await;
    assert!(s2 > seen, "{s2} > {seen}");
    assert_eq!((e2.id.as_str(), e2.version), (r2.id.as_str(), 1));
    assert_eq!(north.base_url(), format!("{b_url}/"), "B is live");
    // Exactly once: nothing more arrives but what happens next.
    let r3 = third
        .send(&lead("acme-web", "After"), &new_idempotency_key())
        .await
        .unwrap();
    let (s3, e3) = next_event(&mut feed).await;
    assert_eq!(e3.id, r3.id, "r2 came once, then r3");
    assert!(s3 > s2);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), feed.recv())
            .await
            .is_err(),
        "no repeats"
    );
    feed.stop();
    b.shutdown().await;
    c.shutdown().await;
}

fn accept(version: u64) -> AcceptRequest {
    AcceptRequest {
        version,
        note: Some("on it".into()),
    }
}

/// Reads one HTTP request (head and a `content-length` body).
async fn read_request(sock: &mut TcpStream) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + len {
                return Some(data);
            }
        }
        match sock.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(k) => data.extend_from_slice(&buf[..k]),
        }
    }
}

/// A front for `upstream` that passes each request on, waits for the whole
/// answer, and then closes the connection without passing the answer back:
/// the write is done, but the client never hears of it.
async fn answer_lost_proxy(upstream: std::net::SocketAddr) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Some(request) = read_request(&mut sock).await else {
                    return;
                };
                let mut up = TcpStream::connect(upstream).await.unwrap();
                up.write_all(&request).await.unwrap();
                // The whole answer (the server closes or the body is in).
                let _ = read_request(&mut up).await;
                drop(sock);
            });
        }
    });
    url
}

#[tokio::test]
async fn a_write_whose_answer_is_lost_is_answered_by_the_next_server_once() {
    let w = World::start().await;
    let b = second_server(&w, None).await;
    let a_addr = w.server.as_ref().unwrap().addr;
    let proxy = answer_lost_proxy(a_addr).await;
    let r = w
        .send(&w.t.northwind, "acme-web", "Lost Answer Co", None)
        .await;
    let id = common::id(&r);
    let (acme, moves) = client(&[proxy.clone(), b.url.clone()], &w.t.acme);
    let key = new_idempotency_key();
    let answer = acme
        .post_answer::<_, Referral>(&["v1", "referrals", &id, "accept"], &accept(1), &key)
        .await
        .expect("answered by B");
    // A applied it; B answered from the record A left: one action.
    assert!(answer.replayed, "B replayed A's stored answer");
    assert_eq!(
        (answer.value.version, answer.value.status),
        (2, Status::Accepted)
    );
    assert_eq!(acme.base_url(), format!("{}/", b.url));
    {
        let moves = moves.lock().unwrap();
        assert_eq!(moves.len(), 1, "{moves:?}");
        assert_eq!(moves[0].to_label(), label(&b.url));
    }
    let now = w.get(&w.t.acme, &format!("/v1/referrals/{id}")).await.ok();
    assert_eq!(common::version(&now), 2, "applied once");

    // A write that never reached A (connection refused) is sent to B with
    // the same key, and applies once.
    let r = w.send(&w.t.northwind, "acme-web", "Refused Co", None).await;
    let id = common::id(&r);
    let (acme, _) = client(&[closed_port(), b.url.clone()], &w.t.acme);
    let key = new_idempotency_key();
    let first = acme
        .post_answer::<_, Referral>(&["v1", "referrals", &id, "accept"], &accept(1), &key)
        .await
        .expect("applied via B");
    assert!(!first.replayed);
    assert_eq!(first.value.version, 2);
    let again = acme
        .post_answer::<_, Referral>(&["v1", "referrals", &id, "accept"], &accept(1), &key)
        .await
        .expect("replayed");
    assert!(again.replayed);
    assert_eq!(again.value.version, 2);
    b.shutdown().await;
}

/// `leadx list --format csv` against `servers` (comma-separated) as `token`:
/// exit status, stdout, stderr.
async fn cli_list(servers: &str, token: &str) -> (Option<i32>, String, String) {
    let home = tempfile::tempdir().expect("home");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_leadx"))
        .args(["list", "--format", "csv"])
        .env_clear()
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("LEADX_SERVER__URL", servers)
        .env("LEADX_SERVER__TOKEN", token)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), out)
        .await
        .expect("leadx finished within 60 s")
        .expect("leadx runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_headless_cli_says_once_that_it_moved() {
    let w = World::start().await;
    w.send(&w.t.northwind, "acme-web", "Cli Co", None).await;
    let dead = closed_port();
    let (code, stdout, stderr) = cli_list(&format!("{dead},{}", w.url), &w.t.acme).await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("Cli Co"), "{stdout}");
    assert_eq!(
        stderr,
        format!(
            "leadx: server {} unreachable (connection refused); using {}\n",
            label(&dead),
            label(&w.url)
        )
    );
}

#[tokio::test]
async fn with_every_server_down_the_cli_says_so_once_and_exits_two() {
    let (a, b) = (closed_port(), closed_port());
    let (code, stdout, stderr) = cli_list(&format!("{a},{b}"), "tok").await;
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "leadx: server {} unreachable (connection refused); using {}",
            label(&a),
            label(&b)
        )
    );
    assert_eq!(lines.len(), 2, "one move line, then the error: {stderr}");
    assert!(lines[1].contains("connection refused"), "{stderr}");
}
