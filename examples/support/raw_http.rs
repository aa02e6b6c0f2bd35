//! HTTP/1.1 by hand for `attack_bench`: one request on a new connection,
//! the status of what came back, and the slowest of 10 `GET /healthz`
//! (how the server answers newcomers while under attack).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::check;

/// Sends `request` on a new connection and reads the answer to its end
/// (or `within`); returns how long that took and what came back.
pub async fn raw(addr: SocketAddr, request: &[u8], within: Duration) -> (Duration, Vec<u8>) {
    let t = Instant::now();
    let mut answer = Vec::new();
    let done = tokio::time::timeout(within, async {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(request).await?;
        s.read_to_end(&mut answer).await
    })
    .await;
    if !matches!(done, Ok(Ok(_))) {
        answer.clear();
    }
    (t.elapsed(), answer)
}

/// The status code of a raw HTTP/1.1 answer (0 if there is none).
pub fn status_of(answer: &[u8]) -> u16 {
    std::str::from_utf8(&answer[..answer.len().min(12)])
        .ok()
        .and_then(|s| s.get(9..12)?.parse().ok())
        .unwrap_or(0)
}

/// The slowest of 10 `GET /healthz` on new connections; every one must be
/// 200 within 5 s (a timeout counts as 5 s and fails the check).
pub async fn healthz_worst(addr: SocketAddr) -> Duration {
    let mut worst = Duration::ZERO;
    for _ in 0..10 {
        let (took, answer) = raw(
            addr,
            b"GET /healthz HTTP/1.1\r\nHost: leadx\r\nConnection: close\r\n\r\n",
            Duration::from_secs(5),
        )
        .await;
        check(
            status_of(&answer) == 200,
            "/healthz answers 200 under attack",
        );
        worst = worst.max(took);
    }
    worst
}
