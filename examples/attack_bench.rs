//! The attacks of issue 10, replayed against a real `leadx serve` process
//! (`target/release/leadx`, or `$LEADX_BIN`), one fresh server per attack
//! on one SQLite file, each measured once:
//!
//! 1. **label flood**: 1,000 token-less requests with 30,000-character
//!    made-up methods, then 8 scrapes of `/metrics`;
//! 2. **stalled streams**: 200 live feeds on one viewer token that never
//!    read, while 300 large leads (about 24 KB each as JSON) are sent to
//!    its partner; once with the default stream caps, once with them lifted
//!    (`--max-streams-per-user 0 --max-streams-per-partner 0`), so that
//!    every stream holds its byte budget;
//! 3. **idle connections**: 5,000 connections that send nothing;
//! 4. **revoked token**: a live feed whose user is revoked (in the store,
//!    as `leadx user revoke` does): how long until the stream ends;
//! 5. **formula**: a lead whose company is `=HYPERLINK(...)`, listed with
//!    `leadx list --format csv`;
//! 6. **endless pages**: `leadx list` against a server whose pagination
//!    never ends (full pages of new referrals, forever).
//!
//! For 1–5: the server's `VmRSS` after the attack and its `VmHWM` (peak)
//! from `/proc/PID/status`, and the slowest of 10 `GET /healthz` on new
//! connections while the attack's connections are still held. Target:
//! under 300 MB and under 100 ms. For 6: the client's peak memory and
//! whether it stopped by itself. Each row gets PASS or MISS.
//!
//! The servers run with `--rate-limit 0` (the bench sends its leads fast),
//! otherwise their defaults. `LEADX_BENCH_QUICK=1`: small N, checks only.

mod support;

use support::endless;
use support::fanout::{Serve, raise_nofile};
use support::list_peak::run_list;
use support::raw_http::{healthz_worst, raw, status_of};
use support::{banner, check, leadx_bin, load_average, ms, quick, scaled, status_kib, verdict};

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use leadx::clock;
use leadx::store::sqlite::SqliteStore;
use leadx::wire::Role;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The memory a server (or the client) may reach, KiB.
const RSS_LIMIT_KIB: u64 = 300 * 1024;
/// The slowest `/healthz` allowed while under attack.
const HEALTHZ_LIMIT: Duration = Duration::from_millis(100);

/// One attack's figures.
struct Row {
    name: String,
    rss_kib: u64,
    hwm_kib: u64,
    /// Slowest `/healthz` (None: the client's row).
    healthz: Option<Duration>,
    /// False when the attacked party did not stop by itself.
    stopped: bool,
    what: String,
}

impl Row {
    fn ok(&self) -> bool {
        self.stopped
            && self.hwm_kib < RSS_LIMIT_KIB
            && self.healthz.is_none_or(|d| d < HEALTHZ_LIMIT)
    }

    fn print(&self) {
        let mb = |kib: u64| format!("{:.1}", kib as f64 / 1024.0);
        println!(
            "{:<30} {:>7} {:>7} {:>11}  {:<7}  {}",
            self.name,
            if self.rss_kib == 0 {
                "-".into()
            } else {
                mb(self.rss_kib)
            },
            mb(self.hwm_kib),
            self.healthz
                .map_or("-".into(), |d| format!("{:.1} ms", ms(d))),
            verdict(self.ok()),
            self.what
        );
    }
}

/// The tokens the attacks use.
struct World {
    db: String,
    store: Arc<SqliteStore>,
    viewer: String,
    agent: String,
    agent_id: String,
    sender: String,
}

fn world(dir: &Path) -> World {
    let path = dir.join("attack.db");
    let store = Arc::new(SqliteStore::open(&path, clock::system()).expect("open store"));
    for p in leadx::demo::world::partners() {
        store.add_partner(&p).expect("partner");
    }
    let (_, viewer) = store
        .add_user("acme-web", "Vic Viewer", Role::Viewer)
        .expect("viewer");
    let (agent, agent_token) = store
        .add_user("acme-web", "Ada Agent", Role::Agent)
        .expect("agent");
    let (_, sender) = store
        .add_user("northwind-net", "Nia Sender", Role::Agent)
        .expect("sender");
    World {
        db: path.display().to_string(),
        store,
        viewer,
        agent: agent_token,
        agent_id: agent.id,
        sender,
    }
}

fn measured(name: &str, serve: &Serve, healthz: Duration, what: String) -> Row {
    Row {
        name: name.into(),
        rss_kib: serve.rss_kib(),
        hwm_kib: status_kib(serve.pid(), "VmHWM"),
        healthz: Some(healthz),
        stopped: true,
        what,
    }
}

async fn label_flood(bin: &Path, w: &World) -> Row {
    let serve = Serve::start_with(bin, &w.db, &[]);
    let (n, scrapes) = (scaled(1000, 50), scaled(8, 2));
    let method = "X".repeat(30_000);
    let workers = 8;
    let mut tasks = Vec::new();
    for k in 0..workers {
        let (addr, method) = (serve.addr, method.clone());
        tasks.push(tokio::spawn(async move {
            let mut answered = 0;
            for i in (k..n).step_by(workers) {
                let req = format!(
                    "{method} /made/up/{i} HTTP/1.1\r\nHost: leadx\r\nConnection: close\r\n\r\n"
                );
                let (_, answer) = raw(addr, req.as_bytes(), Duration::from_secs(20)).await;
                answered += usize::from(status_of(&answer) >= 400);
            }
            answered
        }));
    }
    let mut answered = 0;
    for t in tasks {
        answered += t.await.expect("flood task");
    }
    check(
        answered == n,
        "every made-up method is answered with an error",
    );
    let mut biggest = 0;
    for _ in 0..scrapes {
        let (_, answer) = raw(
            serve.addr,
            b"GET /metrics HTTP/1.1\r\nHost: leadx\r\nConnection: close\r\n\r\n",
            Duration::from_secs(20),
        )
        .await;
        check(status_of(&answer) == 200, "/metrics answers");
        biggest = biggest.max(answer.len());
    }
    let healthz = healthz_worst(serve.addr).await;
    measured(
        "label flood",
        &serve,
        healthz,
        format!(
            "{n} requests with 30,000-char methods, {scrapes} scrapes; /metrics {} KiB",
            biggest / 1024
        ),
    )
}

/// Opens a live feed on `token` that reads its response head and then
/// nothing more (a 4 KiB receive buffer); returns the status and the
/// connection, kept open by the caller.
async fn stalled_feed(addr: SocketAddr, token: &str) -> (u16, TcpStream) {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let mut s = socket.connect(addr).await.expect("connect");
    let req =
        format!("GET /v1/events HTTP/1.1\r\nHost: leadx\r\nAuthorization: Bearer {token}\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("request");
    let mut head = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut head))
        .await
        .expect("a response head")
        .expect("read");
    (status_of(&head[..n]), s)
}

/// A lead for acme-web whose summary and note are 4,000 wide characters.
fn large_lead(i: usize) -> serde_json::Value {
    let wide = "漢".repeat(leadx::wire::MAX_TEXT_CHARS);
    serde_json::json!({
        "to_partner": "acme-web",
        "lead": {"company": format!("Large Lead {i}"), "category": "hosting",
                 "summary": wide, "contact_email": "jo@example.com",
                 "currency": "USD", "region": "US-West"},
        "note": wide,
    })
}

/// Sends `n` leads built by `lead` as `token`, 4 at a time; all must be
/// created.
async fn send_leads(url: &str, token: &str, n: usize, lead: fn(usize) -> serde_json::Value) {
    let http = reqwest::Client::new();
    let mut sent = 0;
    for chunk in (0..n).collect::<Vec<_>>().chunks(4) {
        let posts = chunk.iter().map(|&i| {
            http.post(format!("{url}/v1/referrals"))
                .bearer_auth(token)
                .json(&lead(i))
                .send()
        });
        for r in futures::future::join_all(posts).await {
            sent += usize::from(r.is_ok_and(|r| r.status() == 201));
        }
    }
    check(sent == n, "every lead is created");
}

/// A number from the server's `/metrics`.
async fn metric(url: &str, name: &str) -> u64 {
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .expect("/metrics")
        .text()
        .await
        .expect("/metrics text");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0)
}

async fn stalled_streams(bin: &Path, w: &World, caps: bool) -> Row {
    let lifted = [
        "--max-streams-per-user",
        "0",
        "--max-streams-per-partner",
        "0",
    ];
    let serve = Serve::start_with(bin, &w.db, if caps { &[] } else { &lifted });
    let (streams, leads) = (scaled(200, 20), scaled(300, 30));
    let mut held = Vec::new();
    let (mut open, mut refused) = (0, 0);
    for _ in 0..streams {
        let (status, s) = stalled_feed(serve.addr, &w.viewer).await;
        match status {
            200 => open += 1,
            429 => refused += 1,
            other => check(false, &format!("a feed answered {other}")),
        }
        held.push(s);
    }
    let cap = leadx::server::routes::feed_limits::MAX_STREAMS_PER_USER;
    let expected = if caps { streams.min(cap) } else { streams };
    check(open == expected, "the stream cap holds exactly");
    send_leads(&serve.url, &w.sender, leads, large_lead).await;
    // The write timeout (10 s) drops the readers that stopped.
    tokio::time::sleep(scaled(Duration::from_secs(12), Duration::from_secs(1))).await;
    let dropped = metric(&serve.url, "leadx_feeds_dropped_total").await;
    let healthz = healthz_worst(serve.addr).await;
    let row = measured(
        if caps {
            "stalled streams"
        } else {
            "stalled streams, caps lifted"
        },
        &serve,
        healthz,
        format!(
            "{streams} feeds on one viewer token ({open} open, {refused} refused 429), \
             {leads} leads of ~24 KB; {dropped} feeds dropped"
        ),
    );
    drop(held);
    row
}

async fn idle_connections(bin: &Path, w: &World) -> Row {
    let serve = Serve::start_with(bin, &w.db, &[]);
    let n = scaled(5000, 200);
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        held.push(TcpStream::connect(serve.addr).await.expect("connect"));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let fds = serve.fds();
    let healthz = healthz_worst(serve.addr).await;
    let row = measured(
        "idle connections",
        &serve,
        healthz,
        format!("{n} connections sending nothing; the server held {fds} files"),
    );
    drop(held);
    row
}

async fn revoked_stream(bin: &Path, w: &World) -> Row {
    let serve = Serve::start_with(bin, &w.db, &[]);
    let http = reqwest::Client::new();
    let mut feed = http
        .get(format!("{}/v1/events", serve.url))
        .bearer_auth(&w.agent)
        .send()
        .await
        .expect("feed");
    check(feed.status() == 200, "the agent's feed opens");
    send_leads(&serve.url, &w.sender, 1, |i| {
        let mut lead = large_lead(i);
        lead["lead"]["summary"] = "Before the revocation".into();
        lead["note"] = serde_json::Value::Null;
        lead
    })
    .await;
    let mut seen = String::new();
    while !seen.contains("Before the revocation") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), feed.chunk())
            .await
            .expect("the event arrives")
            .expect("read")
            .expect("open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let t = Instant::now();
    check(
        w.store.revoke_user(&w.agent_id).expect("revoke"),
        "the agent is revoked",
    );
    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(15), feed.chunk()).await {
            Err(_) => break None,
            Ok(Ok(Some(_))) => continue,
            Ok(_) => break Some(t.elapsed()),
        }
    };
    let me = http
        .get(format!("{}/v1/me", serve.url))
        .bearer_auth(&w.agent)
        .send()
        .await
        .expect("/v1/me");
    check(me.status() == 401, "the revoked token's requests get 401");
    let Some(ended) = ended else {
        check(false, "the revoked token's stream did not end within 15 s");
        unreachable!()
    };
    let healthz = healthz_worst(serve.addr).await;
    measured(
        "revoked token",
        &serve,
        healthz,
        format!(
            "the open feed ended {:.1} s after the revocation; REST 401",
            ended.as_secs_f64()
        ),
    )
}

async fn formula(bin: &Path, w: &World, home: &Path) -> Row {
    let serve = Serve::start_with(bin, &w.db, &[]);
    let company = "=HYPERLINK(\"http://evil.example\",\"Click\")";
    send_leads(&serve.url, &w.sender, 1, |_| {
        serde_json::json!({"to_partner": "acme-web",
            "lead": {"company": "=HYPERLINK(\"http://evil.example\",\"Click\")",
                     "category": "hosting", "currency": "USD", "region": "US-West"}})
    })
    .await;
    let (bin2, home2, url, token) = (
        bin.to_owned(),
        home.to_owned(),
        serve.url.clone(),
        w.viewer.clone(),
    );
    let (out, _, _) = tokio::task::spawn_blocking(move || {
        run_list(&bin2, &home2, &url, &token, Duration::from_secs(60))
    })
    .await
    .expect("list");
    let csv = String::from_utf8_lossy(&out.stdout);
    check(
        out.status.success(),
        &format!("leadx list: {}", String::from_utf8_lossy(&out.stderr)),
    );
    let neutral = csv.contains("'=HYPERLINK");
    let raw_cell = csv.lines().any(|l| {
        l.starts_with("=HYPERLINK") || l.contains(",=HYPERLINK") || l.contains(",\"=HYPERLINK")
    });
    check(
        neutral && !raw_cell,
        &format!("the formula {company} is neutralized in:\n{csv}"),
    );
    let healthz = healthz_worst(serve.addr).await;
    measured(
        "formula in a company",
        &serve,
        healthz,
        "the CSV cell starts with '= (neutralized)".into(),
    )
}

async fn endless_pages(bin: &Path, home: &Path) -> Row {
    let app = axum::Router::new()
        .route("/v1/referrals", axum::routing::get(endless::page))
        .with_state(Arc::new(std::sync::atomic::AtomicU64::new(1)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let (bin2, home2) = (bin.to_owned(), home.to_owned());
    // Quick mode (a debug client) only checks that it runs and stays
    // bounded for a while; the full run waits for it to stop by itself.
    let within = scaled(Duration::from_secs(600), Duration::from_secs(15));
    let (out, peak, took) =
        tokio::task::spawn_blocking(move || run_list(&bin2, &home2, &url, "lx_endless", within))
            .await
            .expect("list");
    server.abort();
    let err = String::from_utf8_lossy(&out.stderr);
    let why = err
        .lines()
        .find(|l| l.contains("stopped listing"))
        .unwrap_or("")
        .trim();
    let stopped = out.status.code().is_some();
    if stopped {
        check(
            !out.status.success() && !why.is_empty(),
            &format!("leadx list stops an endless list and says why: {err}"),
        );
    }
    Row {
        name: "endless pages (client)".into(),
        rss_kib: 0,
        hwm_kib: peak,
        healthz: None,
        stopped,
        what: if stopped {
            format!(
                "leadx list stopped after {:.1} s: {why}",
                took.as_secs_f64()
            )
        } else {
            format!(
                "leadx list still listing after {:.0} s: killed",
                took.as_secs_f64()
            )
        },
    }
}

#[tokio::main]
async fn main() {
    let (limits, how) = raise_nofile(6_000);
    banner("attack_bench: issue 10's attacks on a real leadx serve");
    println!("{how}");
    check(
        limits.0 >= 5_300 || quick(),
        "5,000 idle connections need 5,300 open files here",
    );
    let bin = leadx_bin();
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let w = world(dir.path());
    let started = Instant::now();
    println!(
        "\n{:<30} {:>7} {:>7} {:>11}  verdict  what",
        "attack", "RSS MB", "peak MB", "healthz max"
    );
    let mut rows = Vec::new();
    let mut keep = |row: Row| {
        row.print();
        rows.push(row);
    };
    keep(label_flood(&bin, &w).await);
    keep(stalled_streams(&bin, &w, true).await);
    keep(stalled_streams(&bin, &w, false).await);
    keep(idle_connections(&bin, &w).await);
    keep(revoked_stream(&bin, &w).await);
    keep(formula(&bin, &w, &home).await);
    keep(endless_pages(&bin, &home).await);
    let misses = rows.iter().filter(|r| !r.ok()).count();
    println!(
        "\n{} of {} within 300 MB and /healthz < 100 ms (the client: stopped by itself within 300 MB); \
         {:.0} s; load average now {}",
        rows.len() - misses,
        rows.len(),
        started.elapsed().as_secs_f64(),
        load_average()
    );
}
