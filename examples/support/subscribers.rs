//! Many live-feed subscribers in one process, cheaply: raw HTTP/1.1 over
//! tokio `TcpStream`s bound to several 127.0.0.x source addresses (so the
//! ephemeral ports of one address do not run out), each scanning its
//! stream for referral events' ids without parsing them. Each read is
//! stamped on `CLOCK_MONOTONIC` ([`monotonic_ns`]), the clock every
//! process of the machine shares, so that a worker process's receipt
//! times compare with its parent's send time (`workers.rs`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;

use super::check;

/// `CLOCK_MONOTONIC` now, in nanoseconds: the same clock in every process
/// of this machine.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the struct we own.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) } == 0;
    check(ok, "clock_gettime(CLOCK_MONOTONIC)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// What a subscriber reports: connected (status 200 and headers read) to
/// server `k`, or why not.
type Ready = Result<usize, String>;

/// A referral event's id as one subscriber read it, and when
/// ([`monotonic_ns`]).
type Receipt = (String, u64);

/// Subscribers to `GET /v1/events`, each a task holding one raw TCP
/// connection; every referral event's id each of them reads goes to one
/// channel with the moment it was read.
pub struct Subscribers {
    /// Connected per server.
    pub connected: Vec<usize>,
    /// How many failed, and the first reasons.
    pub failed: usize,
    pub reasons: Vec<String>,
    /// How long connecting them took, in all.
    pub connect_time: Duration,
    servers: Vec<SocketAddr>,
    tokens: Vec<Arc<str>>,
    hosts: std::ops::Range<u8>,
    events: mpsc::UnboundedReceiver<Receipt>,
    events_tx: mpsc::UnboundedSender<Receipt>,
    tasks: Vec<JoinHandle<()>>,
}

/// Finds `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The start of an event's data line: the referral's id is its first field.
const DATA_ID: &[u8] = b"data: {\"id\":\"";

/// Connects, sends the request and reads the head (200 required); the
/// stream and what came after the head.
async fn connect(
    addr: SocketAddr,
    source: IpAddr,
    token: &str,
) -> Result<(tokio::net::TcpStream, Vec<u8>), String> {
    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    socket
        .bind(SocketAddr::new(source, 0))
        .map_err(|e| format!("bind {source}: {e}"))?;
    let mut stream = socket
        .connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let request = format!(
        "GET /v1/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Accept: text/event-stream\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 512];
    let end = loop {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("closed before the headers".to_string());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = find(&head, b"\r\n\r\n") {
            break end + 4;
        }
    };
    if !head.starts_with(b"HTTP/1.1 200") {
        let line = String::from_utf8_lossy(&head[..head.len().min(40)]).into_owned();
        return Err(format!("answered {line:?}"));
    }
    Ok((stream, head.split_off(end)))
}

async fn subscriber(
    server: (usize, SocketAddr),
    source: IpAddr,
    token: Arc<str>,
    gate: Arc<Semaphore>,
    deadline: tokio::time::Instant,
    ready: mpsc::UnboundedSender<Ready>,
    events: mpsc::UnboundedSender<Receipt>,
) {
    let (k, addr) = server;
    let permit = gate.acquire_owned().await.expect("gate");
    let opened = tokio::time::timeout_at(deadline, connect(addr, source, &token))
        .await
        .unwrap_or_else(|_| Err("not connected before the deadline".to_string()));
    drop(permit);
    let (mut stream, mut pending) = match opened {
        Ok(s) => s,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok(k));
    drop(ready);
    let mut buf = [0u8; 2048];
    loop {
        // Scan what is there for complete `data: {"id":"…"` starts.
        while let Some(at) = find(&pending, DATA_ID) {
            let from = at + DATA_ID.len();
            let Some(len) = pending[from..].iter().position(|&b| b == b'"') else {
                break;
            };
            let id = String::from_utf8_lossy(&pending[from..from + len]).into_owned();
            if events.send((id, monotonic_ns())).is_err() {
                return;
            }
            pending.drain(..from + len);
        }
        // Keep only a tail that may hold the start of a split marker.
        if find(&pending, DATA_ID).is_none() && pending.len() > DATA_ID.len() {
            pending.drain(..pending.len() - DATA_ID.len());
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    }
}

impl Subscribers {
    /// No subscribers yet, for `servers`, with `tokens` taken in turn,
    /// from the source addresses 127.0.0.`hosts`.
    pub fn new(servers: &[SocketAddr], tokens: &[String], hosts: std::ops::Range<u8>) -> Self {
        check(
            !servers.is_empty() && !tokens.is_empty() && !hosts.is_empty(),
            "subscribers need a server, a token and a source address",
        );
        let (events_tx, events) = mpsc::unbounded_channel();
        Subscribers {
            connected: vec![0; servers.len()],
            failed: 0,
            reasons: Vec::new(),
            connect_time: Duration::ZERO,
            servers: servers.to_vec(),
            tokens: tokens.iter().map(|t| Arc::from(t.as_str())).collect(),
            hosts,
            events,
            events_tx,
            tasks: Vec::new(),
        }
    }

    /// Opens subscribers `range`: subscriber `s` on `servers[s % len]`
    /// with `tokens[s % len]`, from the source addresses in turn, at most
    /// `in_flight` connecting at once; waits until each is connected or
    /// failed, or `within` has passed.
    pub async fn open(
        &mut self,
        range: std::ops::Range<usize>,
        in_flight: usize,
        within: Duration,
    ) {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + within;
        let gate = Arc::new(Semaphore::new(in_flight.max(1)));
        let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
        let n = range.len();
        let hosts = self.hosts.len();
        for s in range {
            let k = s % self.servers.len();
            let host = self.hosts.start + (s % hosts) as u8;
            self.tasks.push(tokio::spawn(subscriber(
                (k, self.servers[k]),
                IpAddr::V4(Ipv4Addr::new(127, 0, 0, host)),
                self.tokens[s % self.tokens.len()].clone(),
                gate.clone(),
                deadline,
                ready_tx.clone(),
                self.events_tx.clone(),
            )));
        }
        drop(ready_tx);
        for _ in 0..n {
            match tokio::time::timeout_at(deadline + Duration::from_secs(1), ready_rx.recv()).await
            {
                Ok(Some(Ok(k))) => self.connected[k] += 1,
                Ok(Some(Err(e))) => {
                    self.failed += 1;
                    if self.reasons.len() < 5 {
                        self.reasons.push(e);
                    }
                }
                _ => break,
            }
        }
        self.connect_time += started.elapsed();
    }

    pub fn total(&self) -> usize {
        self.connected.iter().sum()
    }

    /// Drops events read so far (e.g. before the one to time).
    pub fn drain(&mut self) {
        while self.events.try_recv().is_ok() {}
    }

    /// The moments ([`monotonic_ns`]) subscribers read referral `id`,
    /// until every connected one has or `within` has passed.
    pub async fn receipts(&mut self, id: &str, within: Duration) -> Vec<u64> {
        let want = self.total();
        let deadline = tokio::time::Instant::now() + within;
        let mut at = Vec::with_capacity(want);
        while at.len() < want {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some((got, ns))) if got == id => at.push(ns),
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        at
    }

    /// Closes every connection.
    pub fn close(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}
