//! The real `leadx inbox` in a pseudo-terminal against a server in this
//! process, its output relayed through a rate-limited pipe (a slow link:
//! 9600 baud and 56k, 10 bits a byte) into a vt100 emulator. For each
//! link and size: the bytes of a full repaint (`Ctrl-L`), of one key, of
//! one new lead, and a burst of 20 `j` keys 30 ms apart (autorepeat):
//! when the screen settles after the last key, against the time the link
//! takes to carry one key's frame (the goal: within that).
//!
//! ```text
//! cargo build --release --bin leadx
//! cargo run --release --example slow_link [-- PACING]
//! ```
//!
//! PACING is passed to the inbox as its `[ui]` settings: `none` (default:
//! only what the inbox sees by itself), `baud` (`link_baud` set to the
//! link's speed), `fps=N` (`max_fps = N`). The relay reads what the inbox
//! writes as fast as the link carries it, like an SSH server: what is not
//! yet carried waits in the relay, unseen by the inbox. With
//! `SLOW_LINK_DUMP=1` each burst's last frame is printed (stderr).

mod support;

use support::{ME, leadx_bin, seed, spawn_pty_reader, verdict};

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use leadx::client::{Client, ClientConfig, new_idempotency_key};
use leadx::clock::SharedClock;
use leadx::demo::world::{LeadFactory, trading_partners};
use leadx::server::{ServerConfig, start};
use leadx::store::SharedStore;
use leadx::wire::{CreateReferral, Role};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// What has come over the link so far.
#[derive(Default)]
struct Link {
    screen: Option<vt100::Parser>,
    bytes: usize,
    /// When the last byte arrived.
    last: Option<Instant>,
    /// Every byte, in order (to find where the last frame began).
    log: Vec<u8>,
}

type Shared = Arc<(Mutex<Link>, Condvar)>;

/// Relays the pty's output at `baud` (10 bits a byte) into the emulator:
/// the reader takes everything at once (as an SSH server does) and the
/// link hands it on chunk by chunk, each when it would have arrived.
fn relay(reader: Box<dyn std::io::Read + Send>, baud: u32, out: Shared) {
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    spawn_pty_reader(reader, move |_, b| drop(tx.send(b.to_vec())), || {});
    std::thread::spawn(move || {
        let rate = f64::from(baud) / 10.0;
        let chunk = ((rate / 100.0) as usize).max(1); // ~10 ms of line
        // When the line is next free: it cannot bank idle time, and a
        // sleep that overshoots is made up by the next one (the rate holds).
        let mut free = Instant::now();
        while let Ok(buf) = rx.recv() {
            free = free.max(Instant::now());
            for piece in buf.chunks(chunk) {
                free += Duration::from_secs_f64(piece.len() as f64 / rate);
                let now = Instant::now();
                if free > now {
                    std::thread::sleep(free - now);
                }
                let (m, cv) = &*out;
                let mut l = m.lock().expect("lock");
                if let Some(p) = l.screen.as_mut() {
                    p.process(piece);
                }
                l.bytes += piece.len();
                l.log.extend_from_slice(piece);
                l.last = Some(Instant::now());
                cv.notify_all();
            }
        }
    });
}

fn total(out: &Shared) -> usize {
    out.0.lock().expect("lock").bytes
}

/// The last synchronized frame that began after byte `from`.
fn last_frame(out: &Shared, from: usize) -> Vec<u8> {
    let l = out.0.lock().expect("lock");
    let tail = &l.log[from.min(l.log.len())..];
    let open = b"\x1b[?2026h";
    let at = tail
        .windows(open.len())
        .rposition(|w| w == open)
        .unwrap_or(0);
    tail[at..].to_vec()
}

fn screen(out: &Shared) -> String {
    let l = out.0.lock().expect("lock");
    l.screen
        .as_ref()
        .map(|p| p.screen().contents())
        .unwrap_or_default()
}

/// Waits until more than `after` bytes have come, then until no byte has
/// come for `quiet` and `pred` holds of the screen; the time of the last
/// byte, or `None` after `limit`.
fn settle(
    out: &Shared,
    after: usize,
    quiet: Duration,
    limit: Duration,
    pred: impl Fn(&str) -> bool,
) -> Option<Instant> {
    let start = Instant::now();
    while total(out) <= after {
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    loop {
        {
            let l = out.0.lock().expect("lock");
            let last = l.last.unwrap_or(start);
            let shown = l
                .screen
                .as_ref()
                .map(|p| p.screen().contents())
                .unwrap_or_default();
            if last.elapsed() >= quiet && pred(&shown) {
                return Some(last);
            }
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

struct Figures {
    repaint: usize,
    key: usize,
    lead: usize,
    burst_bytes: usize,
    settle: Duration,
    frame_time: Duration,
    /// The burst's last frame: its bytes.
    final_frame: usize,
}

async fn measure(baud: u32, (cols, rows): (u16, u16), pacing: &str) -> Figures {
    let dir = tempfile::tempdir().expect("tempdir");
    let partners = trading_partners();
    let seeded = {
        let (d, p) = (dir.path().to_path_buf(), partners.clone());
        tokio::task::spawn_blocking(move || seed(&d, 300, &p))
            .await
            .expect("seed")
    };
    let sender_partner = partners
        .iter()
        .find(|p| p.id != ME)
        .expect("a partner")
        .id
        .clone();
    let (_, sender_token) = seeded
        .store
        .add_user(&sender_partner, "Ada Sender", Role::Agent)
        .expect("sender");
    let clock: SharedClock = seeded.clock.clone();
    let store: SharedStore = seeded.store.clone();
    let server = start(store, clock, ServerConfig::for_tests())
        .await
        .expect("server");

    let home = dir.path().join("home");
    let conf = home.join(".config/leadx");
    std::fs::create_dir_all(&conf).expect("config dir");
    let ui = match pacing {
        "none" => String::new(),
        "baud" => format!("[ui]\nlink_baud = {baud}\n"),
        p => match p.strip_prefix("fps=") {
            Some(n) => format!("[ui]\nmax_fps = {n}\n"),
            None => panic!("PACING is none, baud or fps=N, not {p:?}"),
        },
    };
    std::fs::write(conf.join("config.toml"), ui).expect("config");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, &seeded.token).expect("token file");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
    }

    let pair = native_pty_system()
        .openpty(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("openpty");
    let mut cmd = CommandBuilder::new(leadx_bin());
    cmd.args([
        "inbox",
        "--server",
        &server.url,
        "--token-file",
        token_file.to_str().expect("utf-8"),
    ]);
    cmd.env_clear();
    cmd.env("HOME", &home);
    cmd.env("XDG_CONFIG_HOME", home.join(".config"));
    cmd.env("XDG_STATE_HOME", home.join(".state"));
    cmd.env("TERM", "xterm-256color");
    cmd.env("COLORTERM", "truecolor");
    cmd.env("LANG", "C.UTF-8");
    cmd.cwd(&home);
    let mut child = pair.slave.spawn_command(cmd).expect("spawn leadx");
    drop(pair.slave);
    let out: Shared = Arc::new((
        Mutex::new(Link {
            screen: Some(vt100::Parser::new(rows, cols, 0)),
            ..Link::default()
        }),
        Condvar::new(),
    ));
    relay(
        pair.master.try_clone_reader().expect("reader"),
        baud,
        out.clone(),
    );
    let mut keys = pair.master.take_writer().expect("writer");
    let mut send = |b: &[u8]| {
        keys.write_all(b).expect("key");
        keys.flush().expect("flush");
    };
    let quiet = Duration::from_millis(1500);
    let limit = Duration::from_secs(180);
    if settle(&out, 0, quiet, limit, |s| s.contains("live")).is_none() {
        let _ = child.kill();
        panic!("the inbox did not settle:\n{}", screen(&out));
    }

    // A full repaint.
    let b0 = total(&out);
    send(b"\x0c");
    settle(&out, b0, quiet, limit, |_| true).expect("repaint");
    let repaint = total(&out) - b0;

    // One key alone: its frame, and the time the link takes to carry it.
    let b0 = total(&out);
    send(b"j");
    settle(&out, b0, quiet, limit, |_| true).expect("key");
    let key = total(&out) - b0;
    let frame_time = Duration::from_secs_f64(key as f64 * 10.0 / f64::from(baud));

    // One new lead.
    let sender = Client::new(ClientConfig::new(server.url.clone(), sender_token)).expect("client");
    let mut rng = StdRng::seed_from_u64(13);
    let category = partners
        .iter()
        .find(|p| p.id == ME)
        .and_then(|p| p.categories.first().cloned());
    let lead = LeadFactory::new().lead(
        &mut rng,
        category.as_deref().unwrap_or("hosting"),
        "US-West",
    );
    let request = CreateReferral {
        to_partner: ME.to_string(),
        lead,
        commission_pct: Some(10),
        note: None,
        expires_in_hours: None,
    };
    let b0 = total(&out);
    seeded.clock.set(chrono::Utc::now());
    sender
        .send(&request, &new_idempotency_key())
        .await
        .expect("send lead");
    settle(&out, b0, quiet, limit, |_| true).expect("lead");
    let lead_bytes = total(&out) - b0;

    // A burst of 20 keys, 30 ms apart.
    let b0 = total(&out);
    let mut last_key = Instant::now();
    for _ in 0..20 {
        send(b"j");
        last_key = Instant::now();
        std::thread::sleep(Duration::from_millis(30));
    }
    let last = settle(&out, b0, quiet, limit, |_| true).expect("burst");
    let burst_bytes = total(&out) - b0;
    let final_frame = last_frame(&out, b0);
    if std::env::var_os("SLOW_LINK_DUMP").is_some() {
        // What the last frame is made of (ESC shown as ⎋).
        eprintln!(
            "{cols}x{rows} at {baud}: the burst's last frame, {} B:\n{}\n",
            final_frame.len(),
            String::from_utf8_lossy(&final_frame).replace('\x1b', "⎋")
        );
    }
    let final_frame = final_frame.len();
    send(b"q");
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(60) {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    server.shutdown().await;
    Figures {
        repaint,
        key,
        lead: lead_bytes,
        burst_bytes,
        settle: last.saturating_duration_since(last_key),
        frame_time,
        final_frame,
    }
}

#[tokio::main]
async fn main() {
    let pacing = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "none".to_string());
    println!("pacing: {pacing}");
    println!(
        "| Link | Size | Repaint | Key | Lead | Burst of 20 keys | Settles after the last key | One key's frame on the link | The burst's last frame on the link | |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    // Quick mode (CI): one link and one size, to keep the code working
    // and its checks passing; the figures mean nothing there.
    let links: &[u32] = if support::quick() {
        &[56_000]
    } else {
        &[9600, 56_000]
    };
    let sizes: &[(u16, u16)] = if support::quick() {
        &[(80, 24)]
    } else {
        &[(80, 24), (200, 50)]
    };
    let mut failed = false;
    for &baud in links {
        for &size in sizes {
            let f = measure(baud, size, &pacing).await;
            if f.repaint == 0 || f.key == 0 || f.lead == 0 || f.burst_bytes == 0 {
                eprintln!(
                    "check failed: a repaint, a key, a lead and a burst must each write bytes"
                );
                failed = true;
            }
            println!(
                "| {baud} | {}x{} | {} B | {} B | {} B | {} B ({} B/key) | {:.2} s ({:.1} frames) | {:.2} s | {} B, {:.2} s | {} |",
                size.0,
                size.1,
                f.repaint,
                f.key,
                f.lead,
                f.burst_bytes,
                f.burst_bytes / 20,
                f.settle.as_secs_f64(),
                f.settle.as_secs_f64() / f.frame_time.as_secs_f64(),
                f.frame_time.as_secs_f64(),
                f.final_frame,
                f.final_frame as f64 * 10.0 / f64::from(baud),
                verdict(f.settle <= f.frame_time),
            );
        }
    }
    if failed {
        std::process::exit(1);
    }
}
