//! The `leadx serve` process: durability across SIGKILL, HTTPS, and the
//! refusal of plain HTTP on a public address.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{id, lead_body, populate, reply};
use leadx::clock;
use leadx::store::sqlite::SqliteStore;
use serde_json::json;

/// Starts `leadx serve` on the SQLite file `db` and returns it with its URL.
fn serve(db: &Path, extra: &[&str]) -> (Child, String) {
    common::serve_process(db.to_str().expect("a UTF-8 path"), extra)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_actions_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("leadx.db");
    let t = {
        let store = SqliteStore::open(&db, clock::system()).unwrap();
        populate(&store).await
    };
    let http = reqwest::Client::new();
    let (mut child, url) = serve(&db, &[]);
    let post = |token: &str, path: String, body: serde_json::Value, key: String| {
        http.post(format!("{url}{path}"))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let mut acked = Vec::new();
    for i in 0..30 {
        let r = reply(
            post(
                &t.northwind,
                "/v1/referrals".into(),
                lead_body("acme-web", &format!("K{i}"), None),
                format!("s{i}"),
            )
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(r.status, 201);
        let rid = id(&r.body);
        let a = reply(
            post(
                &t.acme,
                format!("/v1/referrals/{rid}/accept"),
                json!({"version": 1}),
                format!("a{i}"),
            )
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(a.status, 200);
        acked.push((rid, a.body));
    }
    // Killed at once, no chance to flush anything more.
    child.kill().unwrap();
    child.wait().unwrap();

    let (mut child, url2) = serve(&db, &[]);
    for (rid, _) in &acked {
        let r = reply(
            http.get(format!("{url2}/v1/referrals/{rid}"))
                .bearer_auth(&t.acme)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.body["status"], "accepted", "{rid} lost its acceptance");
    }
    // A replayed key answers from the stored response.
    let (rid, body) = &acked[29];
    let again = http
        .post(format!("{url2}/v1/referrals/{rid}/accept"))
        .bearer_auth(&t.acme)
        .header("Idempotency-Key", "a29")
        .json(&json!({"version": 1}))
        .send()
        .await
        .unwrap();
    let again = reply(again).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(&again.body, body);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn serves_https_with_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("leadx.db");
    let t = {
        let store = SqliteStore::open(&db, clock::system()).unwrap();
        populate(&store).await
    };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let cert = fixtures.join("test-cert.pem");
    let key = fixtures.join("test-key.pem");
    let (mut child, url) = serve(
        &db,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let ca = reqwest::Certificate::from_pem(&std::fs::read(fixtures.join("test-ca.pem")).unwrap())
        .unwrap();
    let https = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let me = reply(
        https
            .get(format!("{url}/v1/me"))
            .bearer_auth(&t.acme)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me.body["partner"]["id"], "acme-web");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn plain_http_on_a_public_address_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store: leadx::store::SharedStore =
        Arc::new(SqliteStore::open(&dir.path().join("x.db"), clock::system()).unwrap());
    let config = leadx::server::ServerConfig {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..leadx::server::ServerConfig::for_tests()
    };
    let err = leadx::server::start(store.clone(), clock::system(), config.clone())
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("--allow-plain-http"), "{err}");
    // With the flag it serves (bound on every interface, reached on loopback).
    let allowed = leadx::server::ServerConfig {
        allow_plain_http: true,
        ..config
    };
    let running = leadx::server::start(store, clock::system(), allowed)
        .await
        .unwrap();
    let health = reqwest::get(format!("http://127.0.0.1:{}/healthz", running.addr.port()))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    running.shutdown().await;
}

#[test]
fn serve_without_db_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_leadx"))
        .args(["serve"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--db"));
    let _ = Duration::ZERO;
}

#[test]
fn threads_sets_how_many_threads_run_requests() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("leadx.db");
    for (arg, want) in [("1", "threads=1"), ("3", "threads=3")] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_leadx"))
            .args(["serve", "--listen", "127.0.0.1:0", "--threads", arg, "--db"])
            .arg(&db)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert!(line.starts_with("listening on "), "{line:?}");
        child.kill().unwrap();
        let out = child.wait_with_output().unwrap();
        let log = String::from_utf8_lossy(&out.stderr);
        let said = log
            .lines()
            .find(|l| l.contains("threads that run requests"));
        assert!(said.is_some_and(|l| l.contains(want)), "{arg}: {log}");
    }
    for bad in ["0", "-1", "many", "5000"] {
        let out = Command::new(env!("CARGO_BIN_EXE_leadx"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                &format!("--threads={bad}"),
                "--db",
            ])
            .arg(dir.path().join("never.db"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("--threads"), "{bad}: {stderr}");
        assert!(!dir.path().join("never.db").exists(), "{bad}");
    }
}

#[test]
fn a_demo_interval_that_is_not_a_finite_number_is_a_usage_error() {
    for bad in ["inf", "NaN", "-1", "0", "1e300", "soon"] {
        let out = Command::new(env!("CARGO_BIN_EXE_leadx"))
            .args(["serve", "--demo", &format!("--demo-interval={bad}")])
            .stdout(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("--demo-interval"), "{bad}: {stderr}");
        assert!(!stderr.contains("panicked"), "{bad}: {stderr}");
    }
}

#[test]
fn an_empty_or_corrupt_database_file_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_leadx"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(&empty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is an empty file, not a leadx database"),
        "{err}"
    );
    assert_eq!(
        std::fs::metadata(&empty).unwrap().len(),
        0,
        "left as it was"
    );
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![0x5a; 8192]).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_leadx"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(&junk)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("junk.db"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_says_whether_the_store_can_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("leadx.db");
    let store = Arc::new(SqliteStore::open(&db, clock::system()).unwrap());
    let running = leadx::server::start(
        store,
        clock::system(),
        leadx::server::ServerConfig::for_tests(),
    )
    .await
    .unwrap();
    let ready = reqwest::get(format!("{}/readyz", running.url))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert!(body["store"].as_str().unwrap().starts_with("sqlite "));
    // Another connection holds the write lock: the store cannot write now.
    let blocker = rusqlite::Connection::open(&db).unwrap();
    blocker
        .execute_batch("PRAGMA busy_timeout = 0; BEGIN IMMEDIATE")
        .unwrap();
    // The probe does not wait a write's 10 s for the lock: it answers
    // within READY_WAIT (2 s), with the reason.
    let asked = std::time::Instant::now();
    let blocked = reqwest::get(format!("{}/readyz", running.url))
        .await
        .unwrap();
    let waited = asked.elapsed();
    assert_eq!(blocked.status(), 503);
    assert!(blocked.headers().get("retry-after").is_some());
    let body: serde_json::Value = blocked.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("locked by another writer"), "{message}");
    assert!(
        waited < leadx::server::routes::READY_WAIT + std::time::Duration::from_secs(1),
        "/readyz took {waited:?} on a locked database"
    );
    blocker.execute_batch("ROLLBACK").unwrap();
    running.shutdown().await;
}
