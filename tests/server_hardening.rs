//! The server under hostile clients: bounded metrics, JSON for every
//! error, forged cursors, throttled failed logins, no cleartext HTTP/2,
//! and connections that are timed out and capped (SECURITY.md).

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::World;
use leadx::server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the peer closes or `limit` passes; the bytes and whether it
/// closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (got, true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (got, false),
        }
    }
}

/// One HTTP/1.1 request on its own connection; the raw answer.
async fn raw_request(addr: SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(request.as_bytes()).await.expect("write");
    let (bytes, _) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    String::from_utf8_lossy(&bytes).into_owned()
}

fn addr(w: &World) -> SocketAddr {
    w.server.as_ref().expect("running").addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_methods_and_paths_leave_metrics_small() {
    let w = World::start().await;
    for i in 0..1_000 {
        let method = format!("M{i}{}", "X".repeat(2_000));
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a token");
        let r = w
            .http
            .request(method, format!("{}/made/up/{i}/{}", w.url, "p".repeat(200)))
            .send()
            .await
            .expect("answered");
        assert_eq!(r.status(), 404);
    }
    let text = w
        .http
        .get(format!("{}/metrics", w.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.len() < 16 * 1024, "/metrics is {} bytes", text.len());
    assert!(
        text.contains(
            "leadx_http_requests_total{method=\"other\",route=\"other\",status=\"404\"} 1000"
        ),
        "{text}"
    );
    assert!(
        !text.contains("XXXX") && !text.contains("made/up"),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_can_require_a_token() {
    let config = ServerConfig {
        metrics_token: Some("metrics-secret-0123456789".into()),
        ..ServerConfig::for_tests()
    };
    let w = World::start_with(config, |s| s).await;
    let r = common::reply(
        w.http
            .get(format!("{}/metrics", w.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.expect(401, "unauthenticated");
    w.get("wrong-token", "/metrics")
        .await
        .expect(401, "unauthenticated");
    // A user's token is not the metrics token.
    w.get(&w.t.operator, "/metrics")
        .await
        .expect(401, "unauthenticated");
    let r = w
        .http
        .get(format!("{}/metrics", w.url))
        .bearer_auth("metrics-secret-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("leadx_http_requests_total")
    );
}

#[tokio::test]
async fn metrics_can_have_an_address_of_their_own() {
    let config = ServerConfig {
        metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..ServerConfig::for_tests()
    };
    let w = World::start_with(config, |s| s).await;
    w.get(&w.t.acme, "/metrics").await.expect(404, "not_found");
    let at = w
        .server
        .as_ref()
        .unwrap()
        .metrics_addr
        .expect("metrics address");
    let r = reqwest::get(format!("http://{at}/metrics")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("leadx_event_subscribers"));
    let r = common::reply(reqwest::get(format!("http://{at}/v1/me")).await.unwrap()).await;
    r.expect(404, "not_found");
}

#[tokio::test]
async fn every_error_is_json_even_for_a_path_that_is_not_utf8() {
    let w = World::start().await;
    w.get(&w.t.acme, "/v1/referrals/%ff%fe")
        .await
        .expect(400, "bad_request");
    w.post(
        &w.t.acme,
        "/v1/referrals/%ff%fe/accept",
        &serde_json::json!({"version": 1}),
    )
    .await
    .expect(400, "bad_request");
    w.get(&w.t.acme, "/v1/referrals?limit=%ff")
        .await
        .expect(400, "bad_request");
}

#[tokio::test]
async fn forged_cursors_are_bad_requests() {
    let w = World::start().await;
    for forged in ["after:", "after:zzz", "after:' OR 1=1 --", "after:r_01ABC"] {
        let c = URL_SAFE_NO_PAD.encode(forged);
        w.get(&w.t.acme, &format!("/v1/referrals?cursor={c}"))
            .await
            .expect(400, "bad_request");
    }
    // A real one still works.
    for i in 0..3 {
        w.send(&w.t.northwind, "acme-web", &format!("Co {i}"), None)
            .await;
    }
    let page = w.get(&w.t.acme, "/v1/referrals?limit=1").await.ok();
    let cursor = page["next_cursor"].as_str().expect("more pages").to_owned();
    let next = w
        .get(&w.t.acme, &format!("/v1/referrals?limit=1&cursor={cursor}"))
        .await
        .ok();
    assert_eq!(next["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn failed_logins_are_throttled_per_address() {
    let config = ServerConfig {
        auth_failures_per_minute: 5,
        ..ServerConfig::for_tests()
    };
    let w = World::start_with(config, |s| s).await;
    for i in 0..5 {
        w.get(&format!("lx_guess{i}"), "/v1/me")
            .await
            .expect(401, "unauthenticated");
    }
    let r = w.get("lx_guess6", "/v1/me").await;
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    r.expect(429, "rate_limited");
    // While it waits, even a right token from there is not looked up.
    w.get(&w.t.acme, "/v1/me").await.expect(429, "rate_limited");
    // Health and successful users elsewhere are not affected.
    assert_eq!(
        reqwest::get(format!("{}/healthz", w.url))
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn cleartext_http2_is_not_served() {
    let w = World::start().await;
    let mut s = TcpStream::connect(addr(&w)).await.unwrap();
    // The HTTP/2 connection preface, then an empty SETTINGS frame.
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .unwrap();
    let (bytes, closed) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(closed, "the connection stays open");
    // An HTTP/2 server answers with its SETTINGS frame (type 4).
    assert!(
        bytes.len() < 9 || bytes[3] != 4,
        "an HTTP/2 answer: {bytes:?}"
    );
    // HTTP/1.1 is served as ever.
    let answer = raw_request(
        addr(&w),
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

fn quick_timeouts() -> ServerConfig {
    ServerConfig {
        header_timeout: Duration::from_millis(500),
        body_timeout: Duration::from_millis(500),
        ..ServerConfig::for_tests()
    }
}

#[tokio::test]
async fn a_slowloris_connection_is_closed_after_the_header_timeout() {
    let w = World::start_with(quick_timeouts(), |s| s).await;
    let mut s = TcpStream::connect(addr(&w)).await.unwrap();
    let started = Instant::now();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let (_, closed) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(closed, "still open after 5 s");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(400), "closed after {took:?}");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let w = World::start_with(quick_timeouts(), |s| s).await;
    let mut s = TcpStream::connect(addr(&w)).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (bytes, closed) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(String::from_utf8_lossy(&bytes).starts_with("HTTP/1.1 200"));
    assert!(closed, "an idle connection is held past 5 s");
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_refused_in_json() {
    let w = World::start_with(quick_timeouts(), |s| s).await;
    let mut s = TcpStream::connect(addr(&w)).await.unwrap();
    let head = format!(
        "POST /v1/referrals HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"to_partner\":",
        w.t.northwind
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let (bytes, _) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("\"code\":\"bad_request\""), "{text}");
}

#[tokio::test]
async fn connections_past_the_cap_are_closed_and_healthz_keeps_its_reserve() {
    let config = ServerConfig {
        max_connections: Some(6),
        ..ServerConfig::for_tests()
    };
    let w = World::start_with(config, |s| s).await;
    let at = addr(&w);
    // Four idle connections take every ordinary place (two are reserved).
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(at).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A reserved place answers /healthz ...
    let health = raw_request(
        at,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    // ... and nothing else.
    let me = format!(
        "GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
        w.t.acme
    );
    let busy = raw_request(at, &me).await;
    assert!(busy.starts_with("HTTP/1.1 503"), "{busy}");
    assert!(busy.contains("\"code\":\"unavailable\""), "{busy}");
    // With the reserve held too, a new connection is closed unanswered.
    let mut reserve = Vec::new();
    for _ in 0..2 {
        reserve.push(TcpStream::connect(at).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = raw_request(at, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(refused.is_empty(), "{refused}");
    // Once idle connections go, places come back.
    drop(idle);
    drop(reserve);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = w.get(&w.t.acme, "/v1/me").await;
    assert_eq!(r.status, 200, "{}", r.body);
}
