//! Issue 8's speed goals, on PostgreSQL beside SQLite: run with
//! `cargo build --release --bin leadx --examples` then
//! `target/release/examples/scale_bench [N] [accepts|serve|fanout]`
//! (`serve`: only the accepts against a `leadx serve` process).
//!
//! 1. **Accepts/s at 64 clients**: servers in this process (each with its
//!    own store: pool, LISTEN connection, writer, as three processes would
//!    have), `leadx serve`'s configuration with the rate limit off
//!    (`rate_limit: 0`, as server_bench's "unlimited" case), one receiver
//!    token; the 64 clients are spread round-robin over
//!    the servers, each accepting 100 distinct pending referrals seeded
//!    straight through the store beforehand (not timed). One SQLite server,
//!    one PostgreSQL server, three PostgreSQL servers on one database, then
//!    stock (`ServerConfig::default()`, 100/s per token, a token per client)
//!    on one PostgreSQL server; and the one-server job straight through a
//!    PostgreSQL store, no HTTP (64 callers in this process: what the
//!    store's path costs apart from the HTTP server and clients). Then the
//!    one-server job against a real `leadx serve` process (`$LEADX_BIN`,
//!    rate limit off), with a thread per core and with `--threads 1`, the
//!    64 clients in this process: CPU per accept split between the
//!    server, the clients and PostgreSQL. The accepted count is checked
//!    after each run.
//! 2. **Fan-out**: N live-feed subscribers (default 50,000), users of
//!    acme-web (1,000 tokens, taken in turn), spread over three `leadx
//!    serve` processes (`target/release/leadx`, or `$LEADX_BIN`) on one
//!    PostgreSQL database; one lead sent to acme-web must reach every one.
//!    Latency from the POST being sent to each subscriber reading the
//!    event; each server's VmRSS before the subscribers and after they are
//!    connected and idle. Then one SQLite `leadx serve` with N/3
//!    subscribers (as many as each PostgreSQL server held). One subscriber
//!    is one socket: the subscribers are held by worker processes (this
//!    program run again with a hidden argument, support/workers.rs), at
//!    most 15,000 each, under the 20,000 open files a process may have
//!    here; they stamp each read on `CLOCK_MONOTONIC`, and this process
//!    takes the send time on the same clock.
//!
//! The subscribers are raw HTTP/1.1 over tokio `TcpStream`s from several
//! 127.0.0.x source addresses, each worker its own (support/subscribers.rs).
//! Everything is loopback, and the run is bounded in time: connecting
//! ≤ 90 s + 2 s per thousand subscribers, each event ≤ 20 s, the whole
//! program ≤ 15 min (2 min in quick mode), after which it exits by itself
//! (its servers and workers die with it).
//!
//! Needs PostgreSQL (`LEADX_TEST_PG`, default
//! postgres://postgres@127.0.0.1:5432/test; a throwaway database per run).
//! `LEADX_BENCH_QUICK=1`: small N, checks only; without PostgreSQL it says
//! so in one line and exits 0, unless `LEADX_REQUIRE_PG=1`.
//! `LEADX_BENCH_PER_CLIENT=n`: accepts per client (default 100; longer
//! runs average out the machine's noise). `LEADX_BENCH_NO_KEY=1`: accepts
//! without an `Idempotency-Key` (what the key costs).
//! `RUST_LOG=leadx::store=debug`: the servers' logs on stderr (each
//! PostgreSQL group commit: its jobs and times).

mod support;

use support::accepts::{self, AcceptFigures, Counter, percentile};
use support::exchange::{World, populate, send_lead};
use support::fanout::{Serve, nofile};
use support::postgres::{CpuSpent, bench_db, pg_stores, synchronous_commit};
use support::subscribers::monotonic_ns;
use support::workers::{WORKER_ARG, Workers, worker_main};
use support::{
    banner, check, cpu_split, cpu_ticks, leadx_bin, load_average, ms, quick, scaled, thousands,
    verdict,
};

use std::sync::Arc;
use std::time::{Duration, Instant};

use leadx::clock;
use leadx::server::{ServerConfig, start};
use leadx::store::SharedStore;
use leadx::store::postgres::PgStore;
use leadx::store::postgres::test_db::TestDb;
use leadx::store::sqlite::SqliteStore;

/// Accepts/s goal with one PostgreSQL server (issue 8).
const ACCEPTS_GOAL: f64 = 5000.0;
/// Fan-out p99 goal.
const FANOUT_P99_GOAL: Duration = Duration::from_secs(1);
/// The whole program stops by itself after this long (2 min in quick mode).
fn time_limit() -> Duration {
    scaled(Duration::from_secs(900), Duration::from_secs(120))
}
/// Server memory per idle subscriber goal, bytes.
const BYTES_PER_SUBSCRIBER_GOAL: f64 = 20.0 * 1024.0;

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("http client")
}

/// Accepts per client: `LEADX_BENCH_PER_CLIENT`, else 100 (5 in quick mode).
fn per_client() -> usize {
    std::env::var("LEADX_BENCH_PER_CLIENT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(scaled(100, 5))
}

/// One accept run: `stores.len()` servers in this process with `config`,
/// one store each; `tokens` receiver tokens; 64 clients round-robin.
async fn accept_case(
    label: &str,
    stores: Vec<SharedStore>,
    db: Option<&str>,
    config: ServerConfig,
    tokens: usize,
) -> AcceptFigures {
    let per_client = per_client();
    let clients = 64;
    let world = populate(&stores[0], tokens).await;
    let mut servers = Vec::new();
    for store in &stores {
        let s = start(store.clone(), clock::system(), config.clone()).await;
        servers.push(s.expect("server starts"));
    }
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    let ids = accepts::seed_pending(&stores[0], &world.sender, "acme-web", clients * per_client);
    let ids = ids.await;
    let load = load_average();
    let cpu = CpuSpent::start(db).await;
    let f: AcceptFigures = accepts::run(
        &http(),
        Counter::Store(&stores[0]),
        &urls,
        &world.receivers,
        ids,
        clients,
        per_client,
    )
    .await;
    println!(
        "accepts, {label}: {:>6.0} accepts/s  p50 {:.2} ms  p99 {:.2} ms  ({} accepts by {clients} clients \
         over {} server(s), {} token(s), in {:.2} s; {} × 429; store count checked; load {load} → {})",
        f.per_sec(),
        ms(f.p50()),
        ms(f.p99()),
        thousands(f.accepts),
        urls.len(),
        tokens,
        f.elapsed.as_secs_f64(),
        f.refused,
        load_average()
    );
    let (cpu_me, cpu_pg) = cpu.per_accept(db, f.accepts).await;
    println!(
        "   CPU per accept: {cpu_me:.3} ms in this process (the server(s) and the 64 HTTP clients){}",
        if db.is_some() {
            format!(", {cpu_pg:.3} ms in PostgreSQL's backends of this database")
        } else {
            String::new()
        }
    );
    for s in servers {
        s.shutdown().await;
    }
    f
}

/// The one-server job straight through a PostgreSQL store, no HTTP: 64
/// callers in this process. What the store's path costs (this process and
/// PostgreSQL), apart from the HTTP server and clients.
async fn store_case(db: &TestDb) -> AcceptFigures {
    let per_client = per_client();
    let clients = 64;
    let store = pg_stores(db, 1).await.remove(0);
    let world = populate(&store, 1).await;
    let actor = store
        .authenticate(&world.receivers[0])
        .await
        .expect("auth")
        .expect("receiver");
    let ids = accepts::seed_pending(&store, &world.sender, "acme-web", clients * per_client);
    let ids = ids.await;
    let load = load_average();
    let cpu = CpuSpent::start(Some(&db.url)).await;
    let f = accepts::run_store(&store, &actor, ids, clients, per_client).await;
    let (cpu_me, cpu_pg) = cpu.per_accept(Some(&db.url), f.accepts).await;
    println!(
        "accepts, PostgreSQL store alone (no HTTP): {:>6.0} accepts/s  p50 {:.2} ms  p99 {:.2} ms  \
         ({} accepts by {clients} callers in this process, in {:.2} s; store count checked; \
         load {load} → {})",
        f.per_sec(),
        ms(f.p50()),
        ms(f.p99()),
        thousands(f.accepts),
        f.elapsed.as_secs_f64(),
        load_average()
    );
    println!(
        "   CPU per accept: {cpu_me:.3} ms in this process (the store's path), \
         {cpu_pg:.3} ms in PostgreSQL's backends"
    );
    f
}

/// The one-server job against a real `leadx serve` process on PostgreSQL
/// (its rate limit off, `extra` arguments such as `--threads 1`), the 64
/// clients in this process: CPU per accept split between the server, the
/// clients and PostgreSQL.
async fn process_case(label: &str, extra: &[&str]) -> AcceptFigures {
    let per_client = per_client();
    let clients = 64;
    let db = bench_db().await;
    let store = pg_stores(&db, 1).await.remove(0);
    let world = populate(&store, 1).await;
    let server = Serve::start_with(&leadx_bin(), &db.url, extra);
    let ids = accepts::seed_pending(&store, &world.sender, "acme-web", clients * per_client);
    let ids = ids.await;
    // Only the server listens to the database's events during the run.
    drop(store);
    let load = load_average();
    let cpu = CpuSpent::start(Some(&db.url)).await;
    let server_before = cpu_ticks(server.pid());
    let urls = [server.url.clone()];
    let http = http();
    let count = Counter::Database(&db.url);
    let f = accepts::run(
        &http,
        count,
        &urls,
        &world.receivers,
        ids,
        clients,
        per_client,
    );
    let f = f.await;
    let server_ms = (cpu_ticks(server.pid()) - server_before) as f64 * 10.0 / f.accepts as f64;
    println!(
        "accepts, {label}: {:>6.0} accepts/s  p50 {:.2} ms  p99 {:.2} ms  ({} accepts by {clients} \
         clients, 1 token, in {:.2} s; {} × 429; store count checked; load {load} → {})",
        f.per_sec(),
        ms(f.p50()),
        ms(f.p99()),
        thousands(f.accepts),
        f.elapsed.as_secs_f64(),
        f.refused,
        load_average()
    );
    let (cpu_me, cpu_pg) = cpu.per_accept(Some(&db.url), f.accepts).await;
    println!(
        "   CPU per accept: {server_ms:.3} ms in the server process, {cpu_me:.3} ms in this \
         process (the 64 HTTP clients), {cpu_pg:.3} ms in PostgreSQL's backends of this database"
    );
    f
}

/// The one-server job against a `leadx serve` process, with a thread per
/// core, then with `--threads 1`.
async fn serve_accepts() {
    println!(
        "== one `leadx serve` process (rate limit off), the 64 clients in this process: \
         its runtime's threads as by default (one per core), then `--threads 1`"
    );
    let process = process_case("PostgreSQL, `leadx serve`", &[]).await;
    let one = process_case("PostgreSQL, `leadx serve --threads 1`", &["--threads", "1"]).await;
    let goal = |f: &AcceptFigures| verdict(f.per_sec() >= ACCEPTS_GOAL);
    println!(
        "accepts/s at 64 clients ≥ 5,000 with one `leadx serve` process on PostgreSQL: \
         {:.0}/s with a thread per core {}, {:.0}/s with --threads 1 {}",
        process.per_sec(),
        goal(&process),
        one.per_sec(),
        goal(&one)
    );
}

async fn accepts() {
    // `leadx serve` as it runs, its rate limit off: its expiry sweep every
    // second (the tests' 50 ms would put twenty sweeps a second into the
    // group commit, each a write job that ends its group early).
    let unlimited = ServerConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        rate_limit: 0,
        ..ServerConfig::default()
    };
    println!(
        "\n== accepts: 64 clients, leadx serve's configuration with the rate limit off, one token"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = SqliteStore::open(&dir.path().join("bench.db"), clock::system());
    let sqlite: SharedStore = Arc::new(sqlite.expect("sqlite"));
    let lite = accept_case("SQLite, 1 server", vec![sqlite], None, unlimited.clone(), 1).await;
    let mut pg = Vec::new();
    for servers in [1, 3] {
        let db = bench_db().await;
        let label = format!("PostgreSQL, {servers} server(s)");
        let stores = pg_stores(&db, servers).await;
        pg.push(accept_case(&label, stores, Some(&db.url), unlimited.clone(), 1).await);
    }
    // The same job without HTTP: how much of one server's cost is the
    // store's path.
    let alone = store_case(&bench_db().await).await;
    let stock = ServerConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        ..ServerConfig::default()
    };
    println!("== stock `leadx serve` limits (100/s per token, bursts of 200), a token per client");
    let db = bench_db().await;
    let stock = accept_case(
        "PostgreSQL, 1 server, stock",
        pg_stores(&db, 1).await,
        Some(&db.url),
        stock,
        64,
    )
    .await;
    serve_accepts().await;
    let goal = |f: &AcceptFigures| verdict(f.per_sec() >= ACCEPTS_GOAL);
    println!(
        "accepts/s at 64 clients ≥ 5,000 with one PostgreSQL server: {:.0}/s unlimited {}, \
         {:.0}/s stock {}; three servers {:.0}/s (recorded); the store alone, no HTTP, \
         {:.0}/s (recorded); SQLite {:.0}/s {}",
        pg[0].per_sec(),
        goal(&pg[0]),
        stock.per_sec(),
        goal(&stock),
        pg[1].per_sec(),
        alone.per_sec(),
        lite.per_sec(),
        goal(&lite)
    );
}

/// N subscribers over `servers` (already started on one database), one
/// event to them all, twice (the first event is each stream's first
/// write). Returns whether the goals were met.
async fn fanout_case(label: &str, servers: &[Serve], world: &World, n: usize) -> bool {
    let addrs: Vec<_> = servers.iter().map(|s| s.addr).collect();
    let mut subs = Workers::spawn(&addrs, &world.receivers, n, time_limit()).await;
    println!(
        "\n== fan-out, {label}: {} subscribers over {} `leadx serve` process(es), {} tokens, \
         held by {} worker processes (each its own 127.0.0.x source addresses); load {}",
        thousands(n),
        servers.len(),
        world.receivers.len(),
        subs.count(),
        load_average()
    );
    for s in servers {
        let limit =
            std::fs::read_to_string(format!("/proc/{}/limits", s.pid())).unwrap_or_default();
        let files = limit.lines().find(|l| l.starts_with("Max open files"));
        println!("   server pid {}: {}", s.pid(), files.unwrap_or("?").trim());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before: Vec<u64> = servers.iter().map(Serve::rss_kib).collect();
    let me_before = subs.rss_kib();
    let within = scaled(
        Duration::from_secs(90 + 2 * n as u64 / 1000),
        Duration::from_secs(30),
    );
    // Half, then the rest: the second half's growth is the marginal cost
    // of a subscriber, without what the first ones started (pools, caches).
    let started = Instant::now();
    subs.open(0, 2, 256, within).await;
    let half: Vec<(usize, u64)> = servers
        .iter()
        .enumerate()
        .map(|(k, s)| (subs.connected[k], s.rss_kib()))
        .collect();
    let left = within.saturating_sub(started.elapsed());
    subs.open(1, 2, 256, left).await;
    let total = subs.total();
    println!(
        "   connected {} of {} in {:.1} s ({} per server; {} failed{}); load {}",
        thousands(total),
        thousands(n),
        subs.connect_time.as_secs_f64(),
        subs.connected
            .iter()
            .map(|c| thousands(*c))
            .collect::<Vec<_>>()
            .join(" / "),
        subs.failed,
        if subs.reasons.is_empty() {
            String::new()
        } else {
            format!(", first reasons: {}", subs.reasons.join("; "))
        },
        load_average()
    );
    if quick() {
        check(total == n, "every subscriber connects in quick mode");
    }
    check(total > 0, "no subscriber connected");
    // Idle: connected, the first `retry:` frame written, nothing else.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut worst_bytes = 0f64;
    for (k, s) in servers.iter().enumerate() {
        let after = s.rss_kib();
        let per = (after.saturating_sub(before[k]) * 1024) as f64 / subs.connected[k].max(1) as f64;
        let (half_n, half_kib) = half[k];
        let marginal = (after.saturating_sub(half_kib) * 1024) as f64
            / subs.connected[k].saturating_sub(half_n).max(1) as f64;
        worst_bytes = worst_bytes.max(per);
        println!(
            "   server {k} (pid {}): VmRSS {:.1} MiB before, {:.1} MiB with {} subscribers, \
             {:.1} MiB with {} idle subscribers ({} fds): {:.1} KB per subscriber \
             (the second half alone: {:.1} KB each)",
            s.pid(),
            before[k] as f64 / 1024.0,
            half_kib as f64 / 1024.0,
            thousands(half_n),
            after as f64 / 1024.0,
            thousands(subs.connected[k]),
            s.fds(),
            per / 1024.0,
            marginal / 1024.0
        );
    }
    let me_after = subs.rss_kib();
    println!(
        "   (the load generator's workers together: VmRSS {:.1} → {:.1} MiB, {:.1} KB per subscriber)",
        me_before as f64 / 1024.0,
        me_after as f64 / 1024.0,
        (me_after.saturating_sub(me_before) as f64) / total as f64
    );
    subs.drain().await;
    let http = http();
    let mut all_ok = true;
    for (round, what) in ["first event (each stream's first write)", "second event"]
        .iter()
        .enumerate()
    {
        let load = load_average();
        let cpu_before: Vec<(u64, u64)> = servers.iter().map(|s| cpu_split(s.pid())).collect();
        let workers_before = subs.cpu_split();
        let sent = Instant::now();
        let sent_ns = monotonic_ns();
        let server = &servers[round % servers.len()];
        let id = send_lead(
            &http,
            &server.url,
            &world.sender_token,
            &format!("Fan {round}"),
        )
        .await;
        let posted = sent.elapsed();
        let within = scaled(Duration::from_secs(20), Duration::from_secs(10));
        let mut lat: Vec<Duration> = (subs.receipts(&id, within).await)
            .into_iter()
            .map(|at| Duration::from_nanos(at.saturating_sub(sent_ns)))
            .collect();
        lat.sort();
        let ok = lat.len() == total && percentile(&lat, 0.99) <= FANOUT_P99_GOAL;
        all_ok &= ok;
        println!(
            "   {what}, POSTed to server {}: reached {} of {} subscribers; POST sent → event read: \
             p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms  (POST answered after {:.1} ms; load {load})  {}",
            round % servers.len(),
            thousands(lat.len()),
            thousands(total),
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99)),
            ms(lat.last().copied().unwrap_or_default()),
            ms(posted),
            verdict(ok)
        );
        subs.print_event_cpu(servers, &cpu_before, workers_before);
        check(
            lat.len() == total,
            &format!(
                "{} of {} connected subscribers did not read the event within {within:?}",
                total - lat.len(),
                total
            ),
        );
        subs.drain().await;
    }
    subs.close().await;
    let held = total == n;
    let memory_ok = worst_bytes <= BYTES_PER_SUBSCRIBER_GOAL;
    println!(
        "   {label}: {} of {} subscribers held {}; p99 ≤ 1 s on both events {}; \
         ≤ 20 KB per idle subscriber (worst server {:.1} KB) {}",
        thousands(total),
        thousands(n),
        verdict(held),
        verdict(all_ok),
        worst_bytes / 1024.0,
        verdict(memory_ok)
    );
    held && all_ok && memory_ok
}

async fn fanout(n: usize, pg: Option<&TestDb>) {
    let bin = leadx_bin();
    if let Some(db) = pg {
        let store: SharedStore = Arc::new(
            PgStore::connect(&db.url, clock::system())
                .await
                .expect("pg"),
        );
        let world = populate(&store, 1000).await;
        drop(store);
        // Spawned from the main thread (so PR_SET_PDEATHSIG holds them to
        // this process's life), with the open-files limit this process
        // started with (not the raised one).
        let servers: Vec<Serve> = (0..3).map(|_| Serve::start(&bin, &db.url)).collect();
        fanout_case("PostgreSQL, 3 servers", &servers, &world, n).await;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("fanout.db");
    let store: SharedStore = Arc::new(SqliteStore::open(&path, clock::system()).expect("sqlite"));
    let world = populate(&store, 1000).await;
    drop(store);
    let servers = [Serve::start(&bin, path.to_str().expect("utf-8 path"))];
    let per_server = if pg.is_some() { n.div_ceil(3) } else { n };
    fanout_case("SQLite, 1 server", &servers, &world, per_server).await;
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some(WORKER_ARG) {
        worker_main();
    }
    // `RUST_LOG=leadx::store=debug`: the servers' own logs on stderr (each
    // PostgreSQL group commit with its size and times, say).
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    // `block_on` runs `run` on this, the main thread: the servers and
    // workers it spawns die with it (`PR_SET_PDEATHSIG` follows the
    // spawning thread).
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(run());
}

async fn run() {
    banner("leadx scale-out benchmark (issue 8): PostgreSQL beside SQLite, loopback HTTP/1.1");
    let limit = time_limit();
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        eprintln!("scale_bench: still running after {limit:?}; stopping (its servers die with it)");
        std::process::exit(3);
    });
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = args
        .iter()
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(scaled(50_000, 30));
    let only = |part: &str| {
        !args
            .iter()
            .any(|a| ["accepts", "serve", "fanout"].contains(&a.as_str()))
            || args.iter().any(|a| a == part)
    };
    println!(
        "open files at start: soft {} / hard {}",
        nofile().0,
        nofile().1
    );
    let Some(db) = TestDb::create().await else {
        println!(
            "scale_bench: no PostgreSQL reachable (see above); skipped (LEADX_REQUIRE_PG=1 makes this a failure)"
        );
        std::process::exit(if quick() { 0 } else { 2 });
    };
    println!(
        "PostgreSQL synchronous_commit = {}",
        synchronous_commit(&db.url).await
    );
    if only("accepts") {
        accepts().await;
    } else if only("serve") {
        serve_accepts().await;
    }
    if only("fanout") {
        fanout(n, Some(&db)).await;
    }
    if quick() {
        println!("quick mode: every check passed");
    }
}
