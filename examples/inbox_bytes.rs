//! The real `leadx` binary in a pseudo-terminal at 200x50 against a real
//! server in this process: how many bytes one new lead costs on the
//! terminal (target ≤ 2 KB), how much CPU the inbox uses while idle
//! (target: none), how long a key press takes to come back as a frame
//! (target ≤ 10 ms), and the inbox's resident memory.
//!
//! ```text
//! cargo build --release --bin leadx
//! cargo run --release --example inbox_bytes [-- N [COLSxROWS]]  # N referrals (default 300), size (default 200x50)
//! ```
//!
//! Then three short sessions, 24, 48 and 60 referrals: at 200x50 their
//! incoming rows fit (16, 32, 40 of them, beside 8, 16, 20 outgoing), so a
//! new lead's row is drawn and the rows below it move down (the inbox moves
//! them with the terminal's scrolling, `inbox::scroll_backend`). Each
//! session prints one `case ...` line with its bytes per new lead and its
//! verdict: a case with any lead over 2,048 bytes is a MISS.
//!
//! `LEADX_BENCH_QUICK=1` (for CI): one session of 24 referrals, 2 leads,
//! 5 key presses; it checks that each lead is drawn or counted and that
//! leadx exits cleanly (exit 1 if not); the figures mean nothing.
//!
//! The binary is taken from next to this example (`target/release/leadx`)
//! or from `$LEADX_BIN`.
//!
//! The server's clock is a `ManualClock` held at whole hours while the
//! referrals are seeded, so every age and countdown on screen changes only
//! on the hour: nothing but the measured input makes the inbox draw. The
//! inbox itself runs on the real clock. Runs starting within two minutes of
//! the hour wait until it has passed.

mod support;

use support::hourly_seed::{World, seed};
use support::{
    ME, banner, bytes_case, check, cpu_ticks, inbox_command, leadx_bin, ms, quick,
    spawn_pty_reader, status_kib, verdict,
};

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DurationRound, Timelike, Utc};
use leadx::client::{Client, ClientConfig, new_idempotency_key};
use leadx::clock::SharedClock;
use leadx::server::{ServerConfig, start};
use leadx::store::SharedStore;
use leadx::wire::{CreateReferral, LeadInput};
use portable_pty::{PtySize, native_pty_system};

/// The terminal's size: the second argument (`COLSxROWS`), else 200x50.
fn screen_size() -> (u16, u16) {
    std::env::args()
        .nth(2)
        .and_then(|a| {
            let (c, r) = a.split_once('x')?;
            Some((c.parse().ok()?, r.parse().ok()?))
        })
        .unwrap_or((200, 50))
}
/// No output for this long: the screen has settled.
const QUIET: Duration = Duration::from_millis(1000);

/// Everything the inbox wrote, chunk by chunk, with when it arrived.
#[derive(Default)]
struct Output {
    chunks: Vec<(Instant, usize)>,
    total: usize,
    screen: Option<vt100::Parser>,
    closed: bool,
}

type Shared = Arc<Mutex<Output>>;

fn spawn_reader(reader: Box<dyn Read + Send>, out: Shared) {
    let closing = out.clone();
    spawn_pty_reader(
        reader,
        move |at, bytes| {
            let mut o = out.lock().expect("output");
            o.chunks.push((at, bytes.len()));
            o.total += bytes.len();
            if let Some(p) = o.screen.as_mut() {
                p.process(bytes);
            }
        },
        move || closing.lock().expect("output").closed = true,
    );
}

fn total(out: &Shared) -> usize {
    out.lock().expect("output").total
}

fn screen_text(out: &Shared) -> String {
    let o = out.lock().expect("output");
    o.screen
        .as_ref()
        .map(|p| p.screen().contents())
        .unwrap_or_default()
}

/// Waits until `pred(screen)` holds and then nothing is written for
/// [`QUIET`]; returns when the last byte before the quiet came.
fn settle(out: &Shared, limit: Duration, pred: impl Fn(&str) -> bool) -> Option<Instant> {
    let start = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let (last, closed) = {
            let o = out.lock().expect("output");
            (o.chunks.last().map(|c| c.0), o.closed)
        };
        if closed || start.elapsed() > limit {
            return None;
        }
        let quiet = last.is_none_or(|t| t.elapsed() >= QUIET);
        if quiet && pred(&screen_text(out)) {
            return last;
        }
    }
}

/// Bytes and the first and last chunk times after `mark` (a byte count).
fn since(out: &Shared, from: Instant) -> (usize, Option<Instant>, Option<Instant>) {
    let o = out.lock().expect("output");
    let after: Vec<&(Instant, usize)> = o.chunks.iter().filter(|c| c.0 >= from).collect();
    (
        after.iter().map(|c| c.1).sum(),
        after.first().map(|c| c.0),
        after.last().map(|c| c.0),
    )
}

fn now_on_the_second() -> chrono::DateTime<Utc> {
    Utc::now()
        .duration_trunc(chrono::Duration::seconds(1))
        .expect("second")
}

/// A running inbox in a pseudo-terminal against its own server.
struct Session {
    n: usize,
    world: World,
    server: leadx::server::RunningServer,
    out: Shared,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    keys: Box<dyn Write + Send>,
    pid: u32,
    _master: Box<dyn portable_pty::MasterPty + Send>,
    _dir: tempfile::TempDir,
}

impl Session {
    /// Seeds `n` referrals, starts the server and the inbox, and waits
    /// until the first screen is drawn, the feed live, and output quiet.
    async fn open(bin: &Path, n: usize) -> Session {
        let dir = tempfile::tempdir().expect("tempdir");
        let t = Instant::now();
        let world = {
            let d = dir.path().to_path_buf();
            tokio::task::spawn_blocking(move || seed(&d, n))
                .await
                .expect("seed")
        };
        let seeded = t.elapsed();
        let clock: SharedClock = world.clock.clone();
        let store: SharedStore = world.store.clone();
        let server = start(store, clock, ServerConfig::for_tests())
            .await
            .expect("server");

        let (cols, rows) = screen_size();
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let cmd = inbox_command(bin, &server.url, &world.inbox_token, dir.path(), None);
        let started = Instant::now();
        let mut child = pair.slave.spawn_command(cmd).expect("spawn leadx");
        drop(pair.slave);
        let pid = child.process_id().expect("pid");
        let out: Shared = Arc::new(Mutex::new(Output {
            screen: Some(vt100::Parser::new(rows, cols, 0)),
            ..Output::default()
        }));
        spawn_reader(pair.master.try_clone_reader().expect("reader"), out.clone());
        let keys = pair.master.take_writer().expect("writer");

        // The pane's title counts every listed referral.
        let title = format!("Incoming {} ", world.incoming);
        let Some(last) = settle(&out, Duration::from_secs(120), |s| {
            s.contains("live") && s.contains(&title)
        }) else {
            eprintln!("the inbox did not settle; screen:\n{}", screen_text(&out));
            let _ = child.kill();
            std::process::exit(1);
        };
        println!(
            "start-up with {n} referrals (seeded in {:.1} s): first screen drawn, feed live, in {:.0} ms; {} bytes; \
             inbox resident memory {:.1} MiB",
            seeded.as_secs_f64(),
            ms(last - started),
            total(&out),
            status_kib(pid, "VmRSS") as f64 / 1024.0
        );
        Session {
            n,
            world,
            server,
            out,
            child,
            keys,
            pid,
            _master: pair.master,
            _dir: dir,
        }
    }

    fn fail(&mut self, what: &str) -> ! {
        eprintln!("{what}; screen:\n{}", screen_text(&self.out));
        let _ = self.child.kill();
        std::process::exit(1);
    }

    /// CPU ticks and bytes over `secs` seconds of nothing happening.
    fn idle(&self, secs: u64) -> (u64, usize) {
        let before_bytes = total(&self.out);
        let before = cpu_ticks(self.pid);
        std::thread::sleep(Duration::from_secs(secs));
        (
            cpu_ticks(self.pid) - before,
            total(&self.out) - before_bytes,
        )
    }

    /// Sends `count` leads one at a time; the bytes each one cost, and how
    /// many of their rows were drawn (the others landed above the view).
    async fn new_leads(&mut self, count: usize, tag: &str) -> (Vec<usize>, usize) {
        let sender = Client::new(ClientConfig::new(
            self.server.url.clone(),
            self.world.sender.1.clone(),
        ))
        .expect("client");
        let mut per_lead = Vec::new();
        let mut shown = 0;
        for k in 0..count {
            self.world.clock.set(now_on_the_second());
            let company = format!("Bytecount Bakery {tag}{k}");
            let request = CreateReferral {
                to_partner: ME.to_string(),
                lead: LeadInput {
                    company: Some(company.clone()),
                    domain: Some(format!("bytecount-{tag}{k}.example")),
                    contact_name: Some("Elena Novak".into()),
                    contact_email: Some("elena@bytecount.example".into()),
                    category: Some("hosting".into()),
                    summary: Some("Managed hosting for an online shop relaunch".into()),
                    est_value_cents: Some(1_250_000),
                    currency: Some("USD".into()),
                    region: Some("US-West".into()),
                    ..LeadInput::default()
                },
                commission_pct: Some(10),
                note: Some("Warm intro; their CTO expects a call this week".into()),
                expires_in_hours: None,
            };
            // Rows of the measured leads on screen (a narrow screen cuts
            // the company name, so its start is what is counted).
            let drawn = |out: &Shared| screen_text(out).matches("Bytecount").count();
            let drawn_before = drawn(&self.out);
            let sent = Instant::now();
            sender
                .send(&request, &new_idempotency_key())
                .await
                .expect("send lead");
            // Its row is drawn, or it lands above the view and the pane's
            // title counts it ("· 3 new" counts only the leads not drawn).
            let counted = format!("· {} new", k - shown + 1);
            let arrived =
                |s: &str| s.matches("Bytecount").count() > drawn_before || s.contains(&counted);
            if settle(&self.out, Duration::from_secs(20), arrived).is_none() {
                self.fail(&format!("lead {company} was neither drawn nor counted"));
            }
            let (bytes, first, _) = since(&self.out, sent);
            let in_view = drawn(&self.out) > drawn_before;
            per_lead.push(bytes);
            shown += usize::from(in_view);
            println!(
                "  new lead {}: {bytes} bytes; first byte {:.1} ms after the POST was sent; its row {}",
                k + 1,
                first.map_or(f64::NAN, |f| ms(f - sent)),
                if in_view {
                    "drawn"
                } else {
                    "above the view (title counts it)"
                }
            );
        }
        (per_lead, shown)
    }

    /// Key presses through the pty: (first byte, frame complete, bytes) each.
    fn keys(&mut self, presses: usize) -> Vec<(Duration, Duration, usize)> {
        let mut v = Vec::new();
        for i in 0..presses {
            let c = if i % 20 < 10 { b'j' } else { b'k' };
            std::thread::sleep(Duration::from_millis(150));
            let t = Instant::now();
            self.keys.write_all(&[c]).expect("key");
            self.keys.flush().expect("flush");
            std::thread::sleep(Duration::from_millis(150));
            let (bytes, first, last) = since(&self.out, t);
            if let (Some(f), Some(l)) = (first, last) {
                v.push((f - t, l - t, bytes));
            }
        }
        v
    }

    /// Reads the inbox's peak memory (VmHWM: the most it was resident at
    /// any time in the run), then quits it; exits 1 unless it exits cleanly.
    async fn quit(mut self) {
        let peak = status_kib(self.pid, "VmHWM") as f64 / 1024.0;
        println!(
            "  peak resident memory of leadx over the run (VmHWM), {} referrals: {peak:.1} MiB  \
             (target < 150 MB) {}",
            self.n,
            verdict(peak < 150.0)
        );
        self.keys.write_all(b"q").expect("q");
        self.keys.flush().expect("flush");
        let t = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                println!("  quit: leadx exited in {:.0} ms", ms(t.elapsed()));
                check(status.success(), "leadx exited with a failure");
                break;
            }
            if t.elapsed() > Duration::from_secs(5) {
                let _ = self.child.kill();
                check(false, "leadx still running 5 s after q");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.server.shutdown().await;
    }
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// One short session of `n` referrals whose rows all fit: the bytes its
/// new leads cost, as one `case` line; whether it passed.
async fn short_case(bin: &Path, n: usize, leads: usize, tag: &str) -> bool {
    let (cols, rows) = screen_size();
    let mut s = Session::open(bin, n).await;
    let (per_lead, drawn) = s.new_leads(leads, tag).await;
    let incoming = s.world.incoming;
    let layout = match std::env::var("LEADX_LAYOUT") {
        Ok(l) if !l.is_empty() => format!("LEADX_LAYOUT={l}"),
        _ if cols >= 160 => "side by side".to_string(),
        _ => "one pane".to_string(),
    };
    let ok = bytes_case(
        &format!(
            "{n} referrals at {cols}x{rows}, {layout}: {incoming} incoming, {} outgoing; \
             {drawn} of {leads} new rows drawn, the rest above the view",
            n - incoming
        ),
        &per_lead,
    );
    s.quit().await;
    ok
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let bin = leadx_bin();
    // Stay clear of the hour, when every age on screen turns (quick mode
    // only checks, so it does not wait).
    let m = Utc::now().minute();
    if m >= 58 && !quick() {
        let wait = (60 - m as u64) * 60 + 5 - Utc::now().second() as u64;
        println!("waiting {wait} s for the hour to pass (ages on screen turn on the hour)");
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
    banner(&format!(
        "leadx inbox in a pseudo-terminal at {}x{}, binary {}",
        screen_size().0,
        screen_size().1,
        bin.display()
    ));
    if quick() {
        short_case(&bin, 24, 2, "q").await;
        let mut s = Session::open(&bin, 24).await;
        let presses = s.keys(5);
        println!("  {} of 5 key presses drew a frame", presses.len());
        s.quit().await;
        println!("quick mode: every check passed");
        return;
    }

    // A busy inbox: more rows than fit, the cursor on the top row.
    let mut s = Session::open(&bin, n).await;
    let (ticks, bytes) = s.idle(5);
    println!(
        "idle for 5 s after the screen settled: {ticks} CPU ticks of leadx (utime+stime, 1 tick = 10 ms), \
         {bytes} bytes written  (target 0 ticks) {}",
        verdict(ticks == 0 && bytes == 0)
    );
    let (busy, drawn) = s.new_leads(5, "a").await;
    let (cols, rows) = screen_size();
    let mut cases = vec![(
        format!("{n} referrals"),
        bytes_case(
            &format!(
                "{n} referrals at {cols}x{rows}: {drawn} of 5 new rows drawn, the rest above the view"
            ),
            &busy,
        ),
    )];
    let presses = s.keys(40);
    let mut first: Vec<Duration> = presses.iter().map(|p| p.0).collect();
    let mut whole: Vec<Duration> = presses.iter().map(|p| p.1).collect();
    let key_bytes: Vec<usize> = presses.iter().map(|p| p.2).collect();
    let ok = presses.len() == 40 && pct(&mut whole, 0.99) <= Duration::from_millis(10);
    println!(
        "key press j/k → frame back through the pty ({} presses): first byte median {:.2} ms, p99 {:.2} ms; \
         last byte median {:.2} ms, p99 {:.2} ms; {}–{} bytes a frame  (target ≤ 10 ms) {}",
        presses.len(),
        ms(pct(&mut first, 0.5)),
        ms(pct(&mut first, 0.99)),
        ms(pct(&mut whole, 0.5)),
        ms(pct(&mut whole, 0.99)),
        key_bytes.iter().min().copied().unwrap_or(0),
        key_bytes.iter().max().copied().unwrap_or(0),
        verdict(ok)
    );
    s.quit().await;

    // Short inboxes: every incoming row fits, so a new lead's row is drawn
    // at the top and the rows below it move down one line.
    for (k, short) in [24, 48, 60].into_iter().enumerate() {
        let ok = short_case(&bin, short, 5, &format!("s{k}")).await;
        cases.push((format!("{short} referrals"), ok));
    }
    let missed: Vec<&str> = cases
        .iter()
        .filter(|c| !c.1)
        .map(|c| c.0.as_str())
        .collect();
    println!(
        "one new lead ≤ 2 KB: {} of {} cases pass; {}",
        cases.len() - missed.len(),
        cases.len(),
        if missed.is_empty() {
            "PASS".to_string()
        } else {
            format!("MISS ({})", missed.join(", "))
        }
    );
}
