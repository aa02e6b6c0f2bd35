use super::*;
use crate::client::answer::retry_after_at;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

fn api(status: u16, code: ErrorCode) -> ClientError {
    ClientError::Api {
        status,
        error: ApiError::new(code, "m"),
        retry_after: None,
    }
}

#[test]
fn definite_and_retryable_follow_the_protocol() {
    for (status, code, definite, retryable) in [
        (400, ErrorCode::BadRequest, true, false),
        (401, ErrorCode::Unauthenticated, true, false),
        (403, ErrorCode::Forbidden, true, false),
        (404, ErrorCode::NotFound, true, false),
        (409, ErrorCode::Conflict, true, false),
        (409, ErrorCode::Duplicate, true, false),
        (409, ErrorCode::IdempotencyInFlight, false, true),
        (410, ErrorCode::Gone, true, false),
        (422, ErrorCode::IdempotencyMismatch, true, false),
        (429, ErrorCode::RateLimited, false, true),
        (500, ErrorCode::Internal, false, true),
        (502, ErrorCode::Unknown, false, true),
        (503, ErrorCode::Unavailable, false, true),
    ] {
        let e = api(status, code);
        assert_eq!(e.is_definite(), definite, "{status} {code:?} definite");
        assert_eq!(e.is_retryable(), retryable, "{status} {code:?} retryable");
    }
    let net = ClientError::Network("server unreachable: connection refused".into());
    assert!(!net.is_definite() && net.is_retryable());
    let dec = ClientError::Decode("x".into());
    assert!(!dec.is_definite() && !dec.is_retryable());
}

#[test]
fn display_reads_like_a_status_bar() {
    let e = ClientError::Api {
        status: 409,
        error: ApiError::new(ErrorCode::Conflict, "accepted by dana (acme-web) at 10:42"),
        retry_after: None,
    };
    assert_eq!(
        e.to_string(),
        "conflict: accepted by dana (acme-web) at 10:42"
    );
    let e = ClientError::Api {
        status: 429,
        error: ApiError::new(ErrorCode::RateLimited, "slow down"),
        retry_after: Some(Duration::from_secs(3)),
    };
    assert_eq!(e.to_string(), "rate limited: slow down (retry in 3s)");
    let e = ClientError::Api {
        status: 422,
        error: ApiError::new(ErrorCode::Invalid, "too long").with_field("lead.company"),
        retry_after: None,
    };
    assert_eq!(e.to_string(), "invalid: too long [lead.company]");
    // A hostile server's message never reaches the terminal raw.
    let e = ClientError::Api {
        status: 404,
        error: ApiError::new(ErrorCode::NotFound, "x\x1b]0;pwned\x07y"),
        retry_after: None,
    };
    assert!(!e.to_string().contains('\x1b'));
    assert!(!e.to_string().contains('\x07'));
}

#[test]
fn non_protocol_bodies_become_api_errors() {
    let e = api_error(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>", None);
    assert_eq!(e.status(), Some(502));
    assert_eq!(e.code(), Some(ErrorCode::Internal));
    assert_eq!(e.to_string(), "internal: HTTP 502 Bad Gateway");
    assert!(e.is_retryable());

    let body = br#"{"error":{"code":"idempotency_in_flight","message":"still running"}}"#;
    let e = api_error(StatusCode::CONFLICT, body, None);
    assert_eq!(e.code(), Some(ErrorCode::IdempotencyInFlight));
    assert!(e.is_retryable() && !e.is_definite());

    let body = br#"{"error":{"code":"brand_new","message":"newer server"}}"#;
    let e = api_error(StatusCode::IM_A_TEAPOT, body, None);
    assert_eq!(e.code(), Some(ErrorCode::Unknown));
    assert_eq!(e.to_string(), "HTTP 418: newer server");
}

#[test]
fn retry_after_seconds_and_dates() {
    let mut h = HeaderMap::new();
    assert_eq!(parse_retry_after(&h), None);
    h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
    assert_eq!(parse_retry_after(&h), Some(Duration::from_secs(7)));
    h.insert(
        RETRY_AFTER,
        HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
    );
    assert_eq!(parse_retry_after(&h), Some(Duration::ZERO));
    // A date is a wait from now (given here, so the wait is exact).
    h.insert(
        RETRY_AFTER,
        HeaderValue::from_static("Sun, 06 Dec 2026 12:02:00 GMT"),
    );
    let now = crate::wire::parse_timestamp("2026-12-06T12:00:00Z").unwrap();
    assert_eq!(retry_after_at(&h, now), Some(Duration::from_secs(120)));
    let past = now + chrono::Duration::seconds(121);
    assert_eq!(retry_after_at(&h, past), Some(Duration::ZERO));
    h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
    assert_eq!(parse_retry_after(&h), None);
}

#[test]
fn keys_are_random_long_and_printable() {
    let a = new_idempotency_key();
    let b = new_idempotency_key();
    assert_ne!(a, b);
    assert_eq!(a.len(), 40);
    assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    assert!(HeaderValue::from_str(&a).is_ok());
}

#[test]
fn urls_encode_segments_and_keep_a_prefix() {
    let c = Client::new(ClientConfig::new("http://h:1/prefix/", "t")).unwrap();
    assert_eq!(
        c.url(&["v1", "referrals", "r/../x y", "accept"]).as_str(),
        "http://h:1/prefix/v1/referrals/r%2F..%2Fx%20y/accept"
    );
    let c = Client::new(ClientConfig::new("http://h:1", "t")).unwrap();
    assert_eq!(c.url(&["v1", "me"]).as_str(), "http://h:1/v1/me");
    for bad in ["..", ""] {
        match check_id(bad) {
            Err(ClientError::Api { status, error, .. }) => assert_eq!(
                (status, error.code, error.message),
                (
                    404,
                    ErrorCode::NotFound,
                    format!("no referral has the id {bad:?}")
                )
            ),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    check_id("r_1").unwrap();
    let refused = |url: &str, token: &str| match Client::new(ClientConfig::new(url, token)) {
        Err(ClientError::Network(m)) => m,
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("{url} with {token:?} was accepted"),
    };
    assert_eq!(
        refused("ftp://h", "t"),
        "bad server URL \"ftp://h\": expected http:// or https://"
    );
    assert_eq!(
        refused("http://h", "bad\ntoken"),
        "the token is not printable ASCII"
    );
    assert!(!format!("{:?}", ClientConfig::new("http://h", "secret")).contains("secret"));
}

/// A one-shot server: reads the request head, writes `response`, and
/// then keeps the socket open (or, with `None`, never answers).
async fn one_shot(response: Option<&'static str>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match sock.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(k) => head.extend_from_slice(&buf[..k]),
            }
        }
        if let Some(r) = response {
            let _ = sock.write_all(r.as_bytes()).await;
        }
        tokio::time::sleep(Duration::from_secs(3600)).await;
    });
    url
}

#[tokio::test]
async fn a_silent_server_times_out_as_a_network_error() {
    let url = one_shot(None).await;
    let mut config = ClientConfig::new(url, "t");
    config.request_timeout = Duration::from_millis(200);
    let e = Client::new(config).unwrap().me().await.unwrap_err();
    assert!(matches!(e, ClientError::Network(_)), "{e:?}");
    assert_eq!(e.to_string(), "server did not answer in time");
    assert!(e.is_retryable() && !e.is_definite());
}

#[tokio::test]
async fn a_2xx_body_that_does_not_parse_is_a_decode_error() {
    let url = one_shot(Some(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 9\r\n\r\n{\"user\":1",
    ))
    .await;
    let e = Client::new(ClientConfig::new(url, "t"))
        .unwrap()
        .me()
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::Decode(_)), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("unexpected answer from server: 200 with a body"),
        "{e}"
    );
    assert!(!e.is_retryable() && !e.is_definite());
}

#[tokio::test]
async fn a_429_carries_retry_after() {
    let url = one_shot(Some(
        "HTTP/1.1 429 Too Many Requests\r\nretry-after: 4\r\ncontent-type: application/json\r\ncontent-length: 63\r\n\r\n{\"error\":{\"code\":\"rate_limited\",\"message\":\"too many requests\"}}",
    ))
    .await;
    let e = Client::new(ClientConfig::new(url, "t"))
        .unwrap()
        .me()
        .await
        .unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(4)));
    assert_eq!(
        e.to_string(),
        "rate limited: too many requests (retry in 4s)"
    );
    assert!(e.is_retryable());
}

#[tokio::test]
async fn connection_refused_is_a_readable_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = Client::new(ClientConfig::new(format!("http://{addr}"), "t")).unwrap();
    let e = c.me().await.unwrap_err();
    assert!(matches!(e, ClientError::Network(_)), "{e:?}");
    assert_eq!(e.to_string(), "server unreachable: connection refused");
    assert!(e.is_retryable());
}
