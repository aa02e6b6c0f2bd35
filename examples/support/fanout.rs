//! Many live-feed subscribers from one process, cheaply: `leadx serve`
//! processes to subscribe to, raw HTTP/1.1 over tokio `TcpStream`s bound to
//! several 127.0.0.x source addresses (so the ephemeral ports of one
//! address do not run out), each scanning its stream for referral events'
//! ids without parsing them. Used by `scale_bench`.

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;

use super::{check, status_kib};

/// The open-files limit this process started with, read by the first
/// call of [`nofile`] or [`raise_nofile`]: what a `leadx serve` started
/// from the same shell would have.
static AT_START: std::sync::OnceLock<(u64, u64)> = std::sync::OnceLock::new();

/// The open-files limit of this process: `(soft, hard)`.
pub fn nofile() -> (u64, u64) {
    let now = nofile_now();
    let _ = AT_START.get_or_init(|| now);
    now
}

fn nofile_now() -> (u64, u64) {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } == 0;
    check(ok, "getrlimit(RLIMIT_NOFILE)");
    (r.rlim_cur, r.rlim_max)
}

/// Raises this process's open-files soft limit to its hard limit, and both
/// to `want` if the hard limit is lower and the process may raise it
/// (root). Returns the limits after, and a sentence saying what was done.
pub fn raise_nofile(want: u64) -> ((u64, u64), String) {
    let before = nofile();
    let _ = AT_START.get_or_init(|| before);
    let set = |soft: u64, hard: u64| {
        let r = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: setrlimit reads the struct we pass.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) == 0 }
    };
    let mut how = format!("open files: soft {} / hard {} at start", before.0, before.1);
    if before.1 < want {
        if set(want, want) {
            how.push_str(&format!(
                "; hard limit below the {want} needed, raised both to {want}"
            ));
        } else {
            how.push_str(&format!(
                "; hard limit below the {want} needed and not raisable here ({}: \
                 raising it needs CAP_SYS_RESOURCE)",
                std::io::Error::last_os_error()
            ));
        }
    }
    let now = nofile_now();
    if now.0 < now.1 && set(now.1, now.1) {
        how.push_str("; soft raised to the hard limit");
    }
    let after = nofile_now();
    how.push_str(&format!(" → soft {} / hard {}", after.0, after.1));
    (after, how)
}

/// A `leadx serve` process, killed (SIGKILL) when dropped, and also when
/// this process dies (`PR_SET_PDEATHSIG`: spawn it from the main thread).
/// It runs with the open-files limit this process started with, not the
/// one [`raise_nofile`] set: as if started from the same shell.
pub struct Serve {
    pub child: Child,
    pub url: String,
    pub addr: SocketAddr,
    /// Kept open: the server may print more, and a closed pipe would hurt it.
    _stdout: BufReader<ChildStdout>,
}

impl Serve {
    /// `bin serve --listen 127.0.0.1:0 --rate-limit 0` with `LEADX_DB=db`
    /// and no stream caps (every subscriber is one partner's, many per
    /// token); waits for its `listening on URL` line.
    pub fn start(bin: &Path, db: &str) -> Serve {
        Self::start_with(
            bin,
            db,
            &[
                "--max-streams-per-user",
                "0",
                "--max-streams-per-partner",
                "0",
            ],
        )
    }

    /// `bin serve --listen 127.0.0.1:0 --rate-limit 0 EXTRA...` with
    /// `LEADX_DB=db`; waits for its `listening on URL` line.
    pub fn start_with(bin: &Path, db: &str, extra: &[&str]) -> Serve {
        let mut cmd = Command::new(bin);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--rate-limit", "0"])
            .args(extra)
            .env("LEADX_DB", db)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let (soft, hard) = *AT_START.get().unwrap_or(&nofile_now());
        let limit = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: prctl and setrlimit are async-signal-safe system calls on
        // memory owned by the closure; nothing else runs in the child.
        unsafe {
            cmd.pre_exec(move || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("spawn leadx serve");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            check(
                false,
                &format!("leadx serve printed {line:?}, not `listening on URL`"),
            );
            unreachable!();
        };
        let url = url.to_owned();
        let addr = url
            .trim_start_matches("http://")
            .parse()
            .expect("listening address");
        Serve {
            child,
            url,
            addr,
            _stdout: stdout,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now, KiB (`VmRSS` of `/proc/PID/status`).
    pub fn rss_kib(&self) -> u64 {
        status_kib(self.pid(), "VmRSS")
    }

    /// Open file descriptors of the process.
    pub fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid())).map_or(0, |d| d.count())
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a subscriber reports: connected (status 200 and headers read) to
/// server `k`, or why not.
type Ready = Result<usize, String>;

/// N subscribers to `GET /v1/events`, each a task holding one raw TCP
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
    sources: u8,
    events: mpsc::UnboundedReceiver<(String, Instant)>,
    events_tx: mpsc::UnboundedSender<(String, Instant)>,
    tasks: Vec<JoinHandle<()>>,
}

/// Finds `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The start of an event's data line: the referral's id is its first field.
const DATA_ID: &[u8] = b"data: {\"id\":\"";

async fn subscriber(
    server: (usize, SocketAddr),
    source: IpAddr,
    token: Arc<str>,
    gate: Arc<Semaphore>,
    deadline: tokio::time::Instant,
    ready: mpsc::UnboundedSender<Ready>,
    events: mpsc::UnboundedSender<(String, Instant)>,
) {
    let (k, addr) = server;
    let permit = gate.acquire_owned().await.expect("gate");
    let opened = tokio::time::timeout_at(deadline, async {
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
    })
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
            if events.send((id, Instant::now())).is_err() {
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
    /// from `sources` source addresses (127.0.0.2 and up).
    pub fn new(servers: &[SocketAddr], tokens: &[String], sources: u8) -> Subscribers {
        check(
            !servers.is_empty() && !tokens.is_empty() && sources > 0,
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
            sources,
            events,
            events_tx,
            tasks: Vec::new(),
        }
    }

    /// Opens subscribers `range`: subscriber `s` on `servers[s % len]`
    /// with `tokens[s % len]`, from source address 127.0.0.(2 + s %
    /// sources), at most `in_flight` connecting at once; waits until each
    /// is connected or failed, or `within` has passed.
    pub async fn open(
        &mut self,
        range: std::ops::Range<usize>,
        in_flight: usize,
        within: Duration,
    ) {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + within;
        let gate = Arc::new(Semaphore::new(in_flight));
        let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
        let n = range.len();
        for s in range {
            let k = s % self.servers.len();
            let host = 2 + (s % self.sources as usize) as u8;
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

    /// The moments subscribers read referral `id`, until every connected
    /// one has or `within` has passed (sorted latencies since `sent`).
    pub async fn receipts(&mut self, id: &str, sent: Instant, within: Duration) -> Vec<Duration> {
        let want = self.total();
        let deadline = tokio::time::Instant::now() + within;
        let mut lat = Vec::with_capacity(want);
        while lat.len() < want {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some((got, at))) if got == id => lat.push(at.saturating_duration_since(sent)),
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        lat.sort();
        lat
    }

    /// Closes every connection.
    pub fn close(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}
