//! PostgreSQL restarted under load: the servers recover by themselves
//! (issue 8). Two `leadx serve` processes on a private PostgreSQL cluster
//! (initdb in a temporary directory, a free loopback port: the shared
//! cluster on 5432 is never touched) take sends and accepts from two
//! clients and feed a subscriber; the cluster is restarted
//! (`pg_ctl restart -m fast`) in the middle. Without restarting any
//! server: writes succeed again on both, the subscriber's stream stays
//! open and misses no event (its sequence numbers are every number the
//! log holds, in order), and every acknowledged write is there.
//!
//! Needs PostgreSQL's server binaries (`/usr/lib/postgresql/*/bin`, or
//! `LEADX_PG_BIN`): without them it says so in one line and passes. Run as
//! root it runs the cluster as `postgres` (`runuser`), as initdb refuses
//! root. When the binaries are there but the cluster cannot start,
//! `LEADX_REQUIRE_PG=1` (as CI sets) makes that a failure.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Tokens, id, lead_body, populate, serve_process};
use futures::StreamExt;
use leadx::clock;
use leadx::store::postgres::PgStore;
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// A PostgreSQL cluster of this test's own, stopped and removed on drop.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    /// Run the binaries as `postgres` (we are root).
    as_postgres: bool,
    port: u16,
}

fn server_binaries() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("LEADX_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| Some(e.ok()?.path().join("bin")))
        .filter(|b| b.join("initdb").exists() && b.join("pg_ctl").exists())
        .collect();
    found.sort();
    found.pop()
}

impl Cluster {
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let out = self
            .command(tool)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{tool}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{tool} {args:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    fn pg_ctl(&self, what: &[&str]) -> Result<(), String> {
        let data = self.data();
        let log = self.dir.path().join("log");
        let mut args = vec!["-D", data.to_str().unwrap(), "-l", log.to_str().unwrap()];
        args.extend_from_slice(what);
        self.run("pg_ctl", &args)
    }

    /// initdb, then start on a free loopback port.
    fn start(bin: PathBuf) -> Result<Cluster, String> {
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        if as_postgres {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
                .map_err(|e| e.to_string())?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let c = Cluster {
            bin,
            dir,
            as_postgres,
            port,
        };
        let data = c.data();
        c.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
            ],
        )?;
        let conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\n\
             synchronous_commit = on\nmax_connections = 60\n",
            c.dir.path().display()
        );
        append(&data.join("postgresql.conf"), &conf)?;
        c.pg_ctl(&["-w", "start"])?;
        Ok(c)
    }

    /// The postmaster's pid (the first line of `postmaster.pid`).
    fn postmaster(&self) -> String {
        std::fs::read_to_string(self.data().join("postmaster.pid"))
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }
}

fn append(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("{}: {e}", path.display()))
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-m", "immediate", "stop"]);
    }
}

/// Kills a `leadx serve` when dropped (a failing assertion included).
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends `body` with `key`, again with the same key while the answer is
/// not `want` (a 503 during the outage, a refused connection, an
/// in-flight key), until `deadline`. The body of the answer.
async fn until_done(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
    key: &str,
    want: u16,
    deadline: Instant,
) -> Option<Value> {
    while Instant::now() < deadline {
        let sent = http
            .post(url)
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await;
        if let Ok(r) = sent {
            let status = r.status().as_u16();
            if status == want {
                return r.json().await.ok();
            }
            assert!(
                status >= 500 || status == 409 || status == 429,
                "{url} answered {status}"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// Acknowledged writes: referral id → version the server answered with,
/// and which server answered after the restart.
#[derive(Default)]
struct Acked {
    versions: HashMap<String, u64>,
    after_restart: [usize; 2],
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_restarted_under_load_the_servers_recover_by_themselves() {
    let Some(bin) = server_binaries() else {
        eprintln!(
            "pg_restart: skipped, no PostgreSQL server binaries (initdb, pg_ctl) in \
             /usr/lib/postgresql/*/bin; set LEADX_PG_BIN to run it"
        );
        return;
    };
    let cluster = match Cluster::start(bin) {
        Ok(c) => c,
        Err(e) => {
            let required = std::env::var("LEADX_REQUIRE_PG").is_ok_and(|v| v == "1");
            assert!(!required, "cannot start a private PostgreSQL cluster: {e}");
            eprintln!("pg_restart: skipped, cannot start a private PostgreSQL cluster: {e}");
            return;
        }
    };
    let url = cluster.url();
    let t: Tokens = {
        let store = PgStore::connect(&url, clock::system()).await.unwrap();
        populate(&store).await
    };
    let (a, url_a) = serve_process(&url, &[]);
    let (b, url_b) = serve_process(&url, &[]);
    let mut servers = (Serve(a), Serve(b));
    let urls = [url_a, url_b];
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    // The subscriber, on B, from the start: every event, in order.
    let feed = http
        .get(format!("{}/v1/events", urls[1]))
        .bearer_auth(&t.acme)
        .timeout(Duration::from_secs(600))
        .send()
        .await
        .expect("subscribe");
    assert_eq!(feed.status(), 200);
    let seen: Arc<Mutex<BTreeMap<u64, (String, u64)>>> = Arc::default();
    let stream_open = Arc::new(AtomicBool::new(true));
    let reader = {
        let (seen, open) = (seen.clone(), stream_open.clone());
        tokio::spawn(async move {
            let mut body = feed.bytes_stream();
            let mut buf = String::new();
            while let Some(Ok(chunk)) = body.next().await {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let block: String = buf.drain(..end + 2).collect();
                    let seq = block.lines().find_map(|l| l.strip_prefix("id: "));
                    let data = block.lines().find_map(|l| l.strip_prefix("data: "));
                    if let (Some(seq), Some(data)) = (seq, data) {
                        let v: Value = serde_json::from_str(data).expect("event JSON");
                        let version = v["version"].as_u64().unwrap();
                        let seq = seq.parse().unwrap();
                        let old = seen.lock().await.insert(seq, (id(&v), version));
                        assert!(old.is_none(), "event {seq} delivered twice");
                    }
                }
            }
            open.store(false, Ordering::SeqCst);
        })
    };

    // Two clients, one per server, each sending a lead and accepting it,
    // over and over, until told to stop.
    let acked: Arc<Mutex<Acked>> = Arc::default();
    let restarted = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for (k, server) in urls.iter().enumerate() {
        let (http, server, t) = (
            http.clone(),
            server.clone(),
            (t.northwind.clone(), t.acme.clone()),
        );
        let (acked, restarted, stop) = (acked.clone(), restarted.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let deadline = Instant::now() + Duration::from_secs(60);
                let after = restarted.load(Ordering::SeqCst);
                let send = lead_body("acme-web", &format!("Restart {k}-{i}"), None);
                let Some(sent) = until_done(
                    &http,
                    &format!("{server}/v1/referrals"),
                    &t.0,
                    &send,
                    &format!("send-{k}-{i}"),
                    201,
                    deadline,
                )
                .await
                else {
                    panic!("server {k}: a send was not acknowledged within 60 s");
                };
                let rid = id(&sent);
                acked.lock().await.versions.insert(rid.clone(), 1);
                let Some(done) = until_done(
                    &http,
                    &format!("{server}/v1/referrals/{rid}/accept"),
                    &t.1,
                    &json!({"version": 1}),
                    &format!("accept-{k}-{i}"),
                    200,
                    deadline,
                )
                .await
                else {
                    panic!("server {k}: an accept was not acknowledged within 60 s");
                };
                let mut acked = acked.lock().await;
                acked
                    .versions
                    .insert(rid, done["version"].as_u64().unwrap());
                if after {
                    acked.after_restart[k] += 1;
                }
                i += 1;
            }
        }));
    }

    // Some load first, then the restart in the middle of it.
    let warm = Instant::now();
    while acked.lock().await.versions.len() < 20 {
        assert!(
            warm.elapsed() < Duration::from_secs(60),
            "no load before the restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let postmaster = cluster.postmaster();
    cluster
        .pg_ctl(&["-m", "fast", "-w", "restart"])
        .expect("pg_ctl restart");
    restarted.store(true, Ordering::SeqCst);
    assert_ne!(
        cluster.postmaster(),
        postmaster,
        "PostgreSQL did not restart"
    );
    // Both servers take writes again, by themselves.
    let back = Instant::now();
    loop {
        let done = acked.lock().await.after_restart;
        if done.iter().all(|n| *n >= 10) {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(60),
            "writes after the restart, per server: {done:?} (want 10 each within 60 s)"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.await.expect("client");
    }
    // The same two server processes throughout.
    for (k, s) in [&mut servers.0, &mut servers.1].into_iter().enumerate() {
        assert!(s.0.try_wait().unwrap().is_none(), "server {k} exited");
    }

    // Nothing acknowledged is lost: every write is in the store (read
    // through a fresh connection), at least at the version answered.
    let acked = std::mem::take(&mut *acked.lock().await).versions;
    let store = PgStore::connect(&url, clock::system()).await.unwrap();
    use leadx::store::Store;
    for (rid, version) in &acked {
        let stored = store.get(rid).await.unwrap();
        let stored = stored.unwrap_or_else(|| panic!("acknowledged {rid} is lost"));
        assert!(stored.referral.version >= *version, "{rid} went back");
    }
    // The subscriber missed nothing: it has every event the log holds, in
    // order, with no gap, its stream still open.
    let last = store.last_seq().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.lock().await.keys().next_back().copied().unwrap_or(0) < last {
        assert!(
            Instant::now() < deadline,
            "the subscriber is behind: {:?} of {last}",
            seen.lock().await.keys().next_back()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        stream_open.load(Ordering::SeqCst),
        "the subscriber's stream ended during the outage"
    );
    let seen = seen.lock().await.clone();
    let seqs: Vec<u64> = seen.keys().copied().collect();
    assert_eq!(seqs, (1..=last).collect::<Vec<_>>(), "events missed");
    let logged = store.events_after(0, last as usize + 1).await.unwrap();
    for e in &logged {
        let (rid, version) = &seen[&e.seq];
        assert_eq!(
            (rid, *version),
            (&e.referral.referral.id, e.referral.referral.version)
        );
    }
    for (rid, version) in &acked {
        assert!(
            seen.values().any(|(r, v)| r == rid && v == version),
            "the subscriber never saw {rid} at version {version}"
        );
    }
    reader.abort();
    eprintln!(
        "pg_restart: {} writes acknowledged, {last} events, all seen by the subscriber",
        acked.len() * 2
    );
}
