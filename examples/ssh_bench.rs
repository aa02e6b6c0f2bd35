//! The SSH front end under load (issue 11): many concurrent inbox sessions
//! of a partner with 1,000 referrals on a real `leadx serve
//! --ssh-listen` process, driven by an SSH client library (russh).
//!
//! - key press (`j`/`k`, alternating so that every press changes the
//!   screen) to the first frame bytes on the channel: p99 ≤ 50 ms, with
//!   every session pressing a key every ~250 ms at once;
//! - the server's memory per session: resident memory with the sessions
//!   open less before, divided by the sessions (goal ≤ 2 MB; the verdict),
//!   and the second half's growth alone (sessions open in two halves):
//!   what one more session costs once the server's fixed costs are warm;
//! - idle CPU: the server's CPU time while every session sits idle.
//!
//! `cargo build --release --bin leadx --examples && target/release/examples/ssh_bench [SESSIONS]`
//! (200 by default). `LEADX_BENCH_QUICK=1`: 10 sessions, 100 referrals, a
//! few presses each (the code and its checks keep working; the figures
//! mean nothing).

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use leadx::demo::world::trading_partners;
use russh::client::{self, Handle};
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};
use russh::{ChannelMsg, Disconnect};
use support::{banner, check, cpu_ticks, leadx_bin, ms, scaled, seed, status_kib, verdict};

/// The client trusts the host key it is shown (a loopback benchmark).
struct Trusting;

impl client::Handler for Trusting {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// A `leadx serve` process, killed when dropped.
struct Server {
    child: Child,
    ssh: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(db: &std::path::Path, host_key: &std::path::Path) -> Server {
    let mut child = Command::new(leadx_bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--rate-limit", "0"])
        .args([
            "--max-streams-per-user",
            "0",
            "--max-streams-per-partner",
            "0",
        ])
        .args([
            "--auth-failures-per-minute",
            "0",
            "--ssh-listen",
            "127.0.0.1:0",
        ])
        .args([
            "--ssh-max-sessions",
            "0",
            "--ssh-max-sessions-per-user",
            "0",
        ])
        .arg("--db")
        .arg(db)
        .arg("--ssh-host-key")
        .arg(host_key)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn leadx serve");
    let out = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    let ssh = loop {
        let line = lines
            .next()
            .expect("leadx serve printed its addresses")
            .expect("read");
        if let Some(rest) = line.strip_prefix("listening on ssh://") {
            break rest.split_whitespace().next().expect("addr").to_owned();
        }
    };
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, ssh }
}

/// One open inbox session.
struct Session {
    handle: Handle<Trusting>,
    channel: russh::Channel<client::Msg>,
}

async fn open(addr: &str, key: Arc<PrivateKey>) -> Session {
    let config = Arc::new(client::Config {
        inactivity_timeout: None,
        // A key is one small packet: no Nagle wait for the last one's ack.
        nodelay: true,
        ..Default::default()
    });
    let mut handle = client::connect(config, addr, Trusting)
        .await
        .expect("connect");
    let auth = handle
        .authenticate_publickey("bench", PrivateKeyWithHashAlg::new(key, None))
        .await
        .expect("auth");
    check(auth.success(), "the registered key logs in");
    let mut channel = handle.channel_open_session().await.expect("channel");
    channel
        .request_pty(false, "xterm-256color", 100, 30, 0, 0, &[])
        .await
        .expect("pty");
    channel.request_shell(false).await.expect("shell");
    // The inbox is up once the status bar says the feed is live.
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !String::from_utf8_lossy(&seen).contains("live") {
        check(Instant::now() < deadline, "the inbox went live within 60 s");
        match tokio::time::timeout(Duration::from_secs(60), channel.wait()).await {
            Ok(Some(ChannelMsg::Data { data })) => seen.extend_from_slice(&data),
            Ok(Some(_)) => {}
            _ => check(false, "the session stayed open"),
        }
    }
    Session { handle, channel }
}

/// Reads until the channel has been quiet for `quiet`.
async fn drain(channel: &mut russh::Channel<client::Msg>, quiet: Duration) {
    while let Ok(Some(_)) = tokio::time::timeout(quiet, channel.wait()).await {}
}

/// `presses` key presses, each timed to the first frame bytes.
async fn press(session: &mut Session, presses: usize, offset: Duration) -> Vec<Duration> {
    tokio::time::sleep(offset).await;
    let mut times = Vec::with_capacity(presses);
    for i in 0..presses {
        let key: &[u8] = if i % 2 == 0 { b"j" } else { b"k" };
        let start = Instant::now();
        session.channel.data(key).await.expect("send key");
        loop {
            match tokio::time::timeout(Duration::from_secs(10), session.channel.wait()).await {
                Ok(Some(ChannelMsg::Data { .. })) => break,
                Ok(Some(_)) => {}
                _ => {
                    check(false, "a frame came within 10 s of a key");
                }
            }
        }
        times.push(start.elapsed());
        drain(&mut session.channel, Duration::from_millis(40)).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    times
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let sessions: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| scaled(200, 10));
    let referrals = scaled(1000, 100);
    let presses = scaled(10, 3);
    banner(&format!(
        "ssh_bench: {sessions} SSH inbox sessions, {referrals} referrals, {presses} presses each"
    ));
    let dir = tempfile::tempdir().expect("tempdir");
    let seeded = seed(dir.path(), referrals, &trading_partners());
    let key = Arc::new(PrivateKey::from(Ed25519Keypair::from_seed(&rand::random())));
    let line = key.public_key().to_openssh().expect("openssh");
    let new = leadx::ssh::keys::parse_public_key(&line).expect("key");
    let user = seeded
        .store
        .authenticate(&seeded.token)
        .expect("auth")
        .expect("user")
        .user_id;
    seeded
        .store
        .add_key(&user, &new)
        .expect("add the bench key");
    drop(seeded);
    let server = serve(&dir.path().join("bench.db"), &dir.path().join("host"));
    let pid = server.child.id();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = status_kib(pid, "VmRSS");

    // Open every session (at most 20 log-ins at once), in two halves: the
    // second half's growth is what one more session costs once the
    // server's fixed costs (the store's reader caches, pools) are warm.
    let gate = Arc::new(tokio::sync::Semaphore::new(20));
    let half = sessions / 2;
    let mut open_sessions = Vec::with_capacity(sessions);
    let mut rss_half = rss_before;
    let mut opened_in = Duration::ZERO;
    for (from, to) in [(0, half), (half, sessions)] {
        let began = Instant::now();
        let opening: Vec<_> = (from..to)
            .map(|_| {
                let (addr, key, gate) = (server.ssh.clone(), key.clone(), gate.clone());
                tokio::spawn(async move {
                    let _permit = gate.acquire_owned().await.expect("gate");
                    open(&addr, key).await
                })
            })
            .collect();
        for t in opening {
            open_sessions.push(t.await.expect("session task"));
        }
        opened_in += began.elapsed();
        for s in &mut open_sessions[from..] {
            drain(&mut s.channel, Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        if to == half {
            rss_half = status_kib(pid, "VmRSS");
        }
    }
    let rss_open = status_kib(pid, "VmRSS");
    let per_session_kib = rss_open.saturating_sub(rss_before) as f64 / sessions as f64;
    let second_half_kib =
        rss_open.saturating_sub(rss_half) as f64 / (sessions - half).max(1) as f64;

    // Idle: every session open, nobody typing.
    let idle_for = scaled(Duration::from_secs(10), Duration::from_secs(2));
    let ticks = cpu_ticks(pid);
    tokio::time::sleep(idle_for).await;
    let idle_cpu = (cpu_ticks(pid) - ticks) as f64 * 10.0 / ms(idle_for) * 100.0;

    // Every session typing at once.
    let cpu_before = cpu_ticks(pid);
    let typing_started = Instant::now();
    let tasks: Vec<_> = open_sessions
        .into_iter()
        .enumerate()
        .map(|(i, mut s)| {
            let offset = Duration::from_millis((i as u64 * 250) / sessions.max(1) as u64);
            tokio::spawn(async move {
                let times = press(&mut s, presses, offset).await;
                (s, times)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut closing = Vec::new();
    for t in tasks {
        let (s, times) = t.await.expect("press task");
        all.extend(times);
        closing.push(s);
    }
    let typing = typing_started.elapsed();
    let typing_cpu = (cpu_ticks(pid) - cpu_before) as f64 * 10.0 / ms(typing) * 100.0;
    all.sort();
    check(all.len() == sessions * presses, "every press was timed");
    let (p50, p99, max) = (pct(&all, 0.50), pct(&all, 0.99), pct(&all, 1.0));
    for s in closing {
        let _ = s
            .handle
            .disconnect(Disconnect::ByApplication, "", "en")
            .await;
    }
    let peak = status_kib(pid, "VmHWM");

    println!(
        "sessions opened (pty + shell, inbox live): {sessions} in {:.1} s",
        opened_in.as_secs_f64()
    );
    println!(
        "server RSS: {:.1} MB before, {:.1} MB with {sessions} sessions open ({:.0} KiB a session), peak {:.1} MB",
        rss_before as f64 / 1024.0,
        rss_open as f64 / 1024.0,
        per_session_kib,
        peak as f64 / 1024.0
    );
    println!(
        "  the second half alone ({} sessions): {second_half_kib:.0} KiB a session (what one more costs once the server's fixed costs are warm; the verdict below is on the whole)",
        sessions - half
    );
    println!(
        "idle CPU with {sessions} sessions open: {idle_cpu:.1}% of a core over {:.0} s",
        idle_for.as_secs_f64()
    );
    println!(
        "key press -> first frame bytes ({} presses, every session typing): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; server CPU while typing {typing_cpu:.0}% of a core",
        all.len(),
        ms(p50),
        ms(p99),
        ms(max)
    );
    println!(
        "{}: p99 key-to-frame {:.1} ms (target <= 50 ms)",
        verdict(ms(p99) <= 50.0),
        ms(p99)
    );
    println!(
        "{}: memory per session {:.0} KiB (goal <= 2048 KiB)",
        verdict(per_session_kib <= 2048.0),
        per_session_kib
    );
    drop(server);
}
