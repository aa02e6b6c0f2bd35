//! Batch-accepting 1,000 selected referrals end to end (issue 4, item 8:
//! key press to results view ≤ 1.5 s on loopback).
//!
//! For each of three runs: a fresh SQLite store is seeded through the
//! `Store` trait with 1,000 pending referrals sent to acme-web, plus 1,000
//! it already accepted and 1,000 it sent (so the selection has to pick),
//! the real server starts in this process on loopback, and the real
//! `leadx inbox` binary runs in a pseudo-terminal (200x50) as acme-web's
//! agent with `[batch] undo_seconds = 0` in its config file. The example
//! types `:select status:pending` Enter (waits for `marked 1000
//! matching`), `a` (waits for the confirmation `Accept 1000 referrals?`
//! and for the screen to settle), then writes `y` and times until the
//! screen shows the results line `1000 accepted`. The store is then
//! checked: 1,000 more accepted, 1,000 fewer pending, each selected one
//! accepted.
//!
//! A fourth world measures the server's share: the same 1,000 accepts
//! sent straight with `Client::batch` as the inbox sends them (two chunks
//! of 500, concurrently).
//!
//! ```text
//! cargo build --release --bin leadx --examples
//! cargo run --release --example batch_bench
//! ```
//!
//! The binary is taken from next to this example (`target/release/leadx`)
//! or from `$LEADX_BIN`. `LEADX_BENCH_QUICK=1` (for CI): one run with 100
//! pending and 100 of each background kind, the same checks (exit 1 if one
//! fails); the figures mean nothing.

mod support;

use support::{
    ME, banner, check, inbox_command, leadx_bin, load_average, ms, quick, scaled, spawn_pty_reader,
    verdict,
};

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use leadx::client::{Client, ClientConfig};
use leadx::clock::{ManualClock, SharedClock};
use leadx::demo::world::{LeadFactory, commission, sender_note, trading_partners};
use leadx::domain::{Action, ActionItem};
use leadx::server::{ServerConfig, start};
use leadx::store::SharedStore;
use leadx::store::sqlite::SqliteStore;
use leadx::wire::{
    AcceptRequest, BatchAction, BatchItem, BatchRequest, CreateReferral, Partner, Status,
};
use portable_pty::{PtySize, native_pty_system};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

const COLS: u16 = 200;
const ROWS: u16 = 50;
/// Pending incoming referrals to accept.
fn pending_n() -> usize {
    scaled(1000, 100)
}
/// Incoming referrals already accepted, and outgoing ones: background.
fn background_n() -> usize {
    scaled(1000, 100)
}
/// The inbox's batch chunk (`inbox::power::CHUNK`).
const CHUNK: usize = 500;

// ------------------------------------------------------------------ the pty

/// What the inbox wrote, followed on a vt100 screen, and when a watched
/// text first appeared on it.
#[derive(Default)]
struct Output {
    screen: Option<vt100::Parser>,
    last_chunk: Option<Instant>,
    /// The first byte written after this instant, once one arrives.
    first_after: Option<(Instant, Option<Instant>)>,
    /// (text, when the screen first showed it).
    watch: Option<(String, Option<Instant>)>,
    closed: bool,
}

type Shared = Arc<Mutex<Output>>;

fn spawn_reader(reader: Box<dyn Read + Send>, out: Shared) {
    let closing = out.clone();
    spawn_pty_reader(
        reader,
        move |at, bytes| {
            let mut o = out.lock().expect("output");
            o.last_chunk = Some(at);
            if let Some((from, first @ None)) = o.first_after.as_mut()
                && at >= *from
            {
                *first = Some(at);
            }
            let Output { screen, watch, .. } = &mut *o;
            let p = screen.as_mut().expect("screen");
            p.process(bytes);
            if let Some((text, seen @ None)) = watch.as_mut()
                && p.screen().contents().contains(text.as_str())
            {
                *seen = Some(at);
            }
        },
        move || closing.lock().expect("output").closed = true,
    );
}

fn screen_text(out: &Shared) -> String {
    let o = out.lock().expect("output");
    o.screen
        .as_ref()
        .map(|p| p.screen().contents())
        .unwrap_or_default()
}

/// Waits until `pred(screen)` holds and nothing was written for `quiet`.
fn settle(out: &Shared, limit: Duration, quiet: Duration, pred: impl Fn(&str) -> bool) -> bool {
    let start = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(10));
        let (last, closed) = {
            let o = out.lock().expect("output");
            (o.last_chunk, o.closed)
        };
        if closed || start.elapsed() > limit {
            return false;
        }
        if last.is_none_or(|t| t.elapsed() >= quiet) && pred(&screen_text(out)) {
            return true;
        }
    }
}

// ------------------------------------------------------------------ the world

struct World {
    store: Arc<SqliteStore>,
    clock: Arc<ManualClock>,
    /// acme-web's agent: the inbox runs as them.
    token: String,
    /// The pending referrals sent to acme-web: (id, version).
    pending: Vec<(String, u64)>,
    /// How many referrals the Incoming pane holds once listed.
    incoming: usize,
}

/// A fresh store: `pending_n()` pending referrals sent to acme-web, and
/// `background_n()` each of ones it accepted and ones it sent.
fn seed(dir: &Path, tag: &str) -> World {
    let partners = trading_partners();
    let now = Utc::now();
    let clock = ManualClock::new(now - chrono::Duration::hours(2));
    let shared: SharedClock = clock.clone();
    let store = Arc::new(SqliteStore::open(&dir.join("batch.db"), shared).expect("store"));
    let (actors, tokens) = support::agents(&store, &partners);
    let token = tokens.get(ME).cloned().unwrap_or_default();
    let others: Vec<&Partner> = partners.iter().filter(|p| p.id != ME).collect();
    // 0 = pending incoming, 1 = incoming to accept now, 2 = outgoing.
    let kinds: Vec<usize> = (0..pending_n())
        .map(|_| 0)
        .chain((0..background_n()).map(|_| 1))
        .chain((0..background_n()).map(|_| 2))
        .collect();
    const THREADS: usize = 16;
    let created: Vec<(usize, String, String, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (store, actors, others, kinds) = (&store, &actors, &others, &kinds);
                scope.spawn(move || {
                    let mut rng = StdRng::seed_from_u64(t as u64);
                    let mut leads = LeadFactory::new();
                    let mut made = Vec::new();
                    for i in (t..kinds.len()).step_by(THREADS) {
                        let other = *others.choose(&mut rng).expect("partners");
                        let mut lead = support::lead_from(&mut rng, &mut leads, other);
                        // Unique per run and item: duplicate detection stays quiet.
                        lead.domain = lead.domain.map(|d| format!("{tag}{i}-{d}"));
                        let (from, to) = if kinds[i] == 2 {
                            (ME, other.id.as_str())
                        } else {
                            (other.id.as_str(), ME)
                        };
                        let request = CreateReferral {
                            to_partner: to.to_string(),
                            lead,
                            commission_pct: Some(commission(&mut rng, other.kind)),
                            note: sender_note(&mut rng),
                            expires_in_hours: None,
                        };
                        let r = store
                            .create(&actors[from], request, None)
                            .expect("store")
                            .expect("created")
                            .referral
                            .referral;
                        made.push((kinds[i], r.to_partner.to_string(), r.id, r.version));
                    }
                    made
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("seed thread"))
            .collect()
    });
    clock.set(now - chrono::Duration::hours(1));
    let accept: Vec<ActionItem> = created
        .iter()
        .filter(|c| c.0 == 1)
        .map(|c| ActionItem {
            id: c.2.clone(),
            version: c.3,
            action: Action::Accept { note: None },
        })
        .collect();
    for items in accept.chunks(CHUNK) {
        for r in store
            .apply(&actors[ME], items.to_vec(), None)
            .expect("apply")
        {
            r.expect("accepted");
        }
    }
    clock.set(now);
    let pending = created
        .iter()
        .filter(|c| c.0 == 0)
        .map(|c| (c.2.clone(), c.3))
        .collect();
    World {
        store,
        clock,
        token,
        pending,
        incoming: pending_n() + background_n(),
    }
}

fn count(store: &SqliteStore, status: Status) -> u64 {
    store
        .count_by_status()
        .expect("counts")
        .iter()
        .find(|(s, _)| *s == status)
        .map_or(0, |(_, k)| *k)
}

// ------------------------------------------------------------------ one run

/// One end-to-end run; returns (y → results line, y → first byte back).
async fn run(bin: &Path, round: usize) -> (Duration, Option<Duration>) {
    let pending = pending_n();
    let dir = tempfile::tempdir().expect("tempdir");
    let t = Instant::now();
    let world = {
        let d = dir.path().to_path_buf();
        let tag = format!("r{round}-");
        tokio::task::spawn_blocking(move || seed(&d, &tag))
            .await
            .expect("seed")
    };
    let accepted_before = count(&world.store, Status::Accepted);
    let pending_before = count(&world.store, Status::Pending);
    println!(
        "run {round}: seeded in {:.1} s (not timed): {pending_before} pending, {accepted_before} accepted",
        t.elapsed().as_secs_f64()
    );
    let clock: SharedClock = world.clock.clone();
    let store: SharedStore = world.store.clone();
    let server = start(store, clock, ServerConfig::for_tests())
        .await
        .expect("server");

    let pair = native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("openpty");
    let cmd = inbox_command(
        bin,
        &server.url,
        &world.token,
        dir.path(),
        Some("[batch]\nundo_seconds = 0\n"),
    );
    let mut child = pair.slave.spawn_command(cmd).expect("spawn leadx");
    drop(pair.slave);
    let out: Shared = Arc::new(Mutex::new(Output {
        screen: Some(vt100::Parser::new(ROWS, COLS, 0)),
        ..Output::default()
    }));
    spawn_reader(pair.master.try_clone_reader().expect("reader"), out.clone());
    let mut keys = pair.master.take_writer().expect("writer");
    let mut fail = |what: &str| -> ! {
        eprintln!("{what}; screen:\n{}", screen_text(&out));
        let _ = child.kill();
        std::process::exit(1);
    };

    let title = format!("Incoming {} ", world.incoming);
    let quiet = Duration::from_millis(500);
    if !settle(&out, Duration::from_secs(60), quiet, |s| {
        s.contains("live") && s.contains(&title)
    }) {
        fail("the inbox did not settle");
    }
    keys.write_all(b":select status:pending\r").expect("keys");
    keys.flush().expect("flush");
    let marked = format!("marked {pending} matching");
    if !settle(&out, Duration::from_secs(20), quiet, |s| {
        s.contains(&marked)
    }) {
        fail("`:select status:pending` did not mark the pending referrals");
    }
    keys.write_all(b"a").expect("keys");
    keys.flush().expect("flush");
    let question = format!("Accept {pending} referrals?");
    if !settle(&out, Duration::from_secs(20), quiet, |s| {
        s.contains(&question) && s.contains("sent at once")
    }) {
        fail("no confirmation popup");
    }
    let load = load_average();
    let results_line = format!("{pending} accepted");
    let t0 = {
        let mut o = out.lock().expect("output");
        o.watch = Some((results_line.clone(), None));
        let t0 = Instant::now();
        o.first_after = Some((t0, None));
        keys.write_all(b"y").expect("keys");
        keys.flush().expect("flush");
        t0
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let (seen, first) = loop {
        std::thread::sleep(Duration::from_millis(5));
        let o = out.lock().expect("output");
        if let Some((_, Some(at))) = &o.watch {
            break (*at, o.first_after.and_then(|f| f.1));
        }
        drop(o);
        if Instant::now() > deadline {
            fail("the results line never appeared");
        }
    };
    let took = seen - t0;
    let first = first.map(|f| f - t0);
    // The server side: every selected referral accepted.
    let accepted_after = count(&world.store, Status::Accepted);
    let pending_after = count(&world.store, Status::Pending);
    let each_accepted = world.pending.iter().all(|(id, _)| {
        world
            .store
            .get(id)
            .expect("get")
            .is_some_and(|r| r.referral.status == Status::Accepted)
    });
    let server_ok = accepted_after == accepted_before + pending as u64
        && pending_after + pending as u64 == pending_before
        && each_accepted;
    println!(
        "  y → results line \"{results_line}\": {:.0} ms (first byte back after {:.1} ms); \
         server: accepted {accepted_before} → {accepted_after}, pending {pending_before} → {pending_after}, \
         each of the {pending} selected accepted: {}; load average before {load}",
        ms(took),
        first.map_or(f64::NAN, ms),
        if server_ok { "yes" } else { "NO" }
    );
    if !server_ok {
        fail("the server does not have the selected referrals accepted");
    }
    keys.write_all(b"\x1bq").expect("keys");
    keys.flush().expect("flush");
    let t = Instant::now();
    while !matches!(child.try_wait(), Ok(Some(_))) {
        if t.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    server.shutdown().await;
    (took, first)
}

/// The server's share: the same 1,000 accepts straight over HTTP, in two
/// concurrent chunks of 500, as the inbox sends them.
async fn direct() -> Duration {
    let pending = pending_n();
    let dir = tempfile::tempdir().expect("tempdir");
    let world = {
        let d = dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || seed(&d, "direct-"))
            .await
            .expect("seed")
    };
    let clock: SharedClock = world.clock.clone();
    let store: SharedStore = world.store.clone();
    let server = start(store, clock, ServerConfig::for_tests())
        .await
        .expect("server");
    let client =
        Client::new(ClientConfig::new(server.url.clone(), world.token.clone())).expect("client");
    let _ = client.me().await.expect("me");
    let requests: Vec<BatchRequest> = world
        .pending
        .chunks(CHUNK)
        .map(|c| BatchRequest {
            items: c
                .iter()
                .map(|(id, version)| BatchItem {
                    id: id.clone(),
                    action: BatchAction::Accept(AcceptRequest {
                        version: *version,
                        note: None,
                    }),
                })
                .collect(),
        })
        .collect();
    let t = Instant::now();
    let answers = send_chunks(&client, &requests).await;
    let took = t.elapsed();
    let applied: usize = answers.iter().map(|a| a.summary.applied as usize).sum();
    check(applied == pending, "every accept applied");
    server.shutdown().await;
    took
}

async fn send_chunks(
    client: &Client,
    requests: &[BatchRequest],
) -> Vec<leadx::wire::BatchResponse> {
    let tasks: Vec<_> = requests
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let (client, r) = (client.clone(), r.clone());
            tokio::spawn(async move {
                client
                    .batch(&r, &format!("bench-direct-{k}"))
                    .await
                    .expect("batch")
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

#[tokio::main]
async fn main() {
    let bin = leadx_bin();
    let pending = pending_n();
    banner(&format!(
        "leadx batch benchmark: accept {pending} selected referrals in the real inbox, pty {COLS}x{ROWS}, binary {}",
        bin.display()
    ));
    let mut runs = Vec::new();
    let mut firsts = Vec::new();
    let rounds = scaled(3, 1);
    for round in 1..=rounds {
        let (took, first) = run(&bin, round).await;
        runs.push(took);
        firsts.extend(first);
    }
    runs.sort();
    let median = runs[runs.len() / 2];
    let server = direct().await;
    println!(
        "  server's share: the same {pending} accepts straight with Client::batch ({} chunk(s) of up to {CHUNK}, concurrent): {:.0} ms",
        pending.div_ceil(CHUNK),
        ms(server)
    );
    println!(
        "batch-accept {pending} selected, confirm key → results line: median {:.0} ms of {rounds} (min {:.0} ms, max {:.0} ms)  (target ≤ 1500 ms) {}",
        ms(median),
        ms(runs[0]),
        ms(runs[rounds - 1]),
        verdict(median <= Duration::from_millis(1500))
    );
    if quick() {
        println!("quick mode: every check passed");
    }
}
