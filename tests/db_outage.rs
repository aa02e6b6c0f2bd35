//! The database going away under a running `leadx serve` (issue 8 item
//! 5): writes answer 503 with Retry-After, `/healthz` says which store is
//! not answering, live feeds stay open (pings go on), and when the
//! database is back the server carries on by itself: nothing acknowledged
//! is lost, and the feed delivers what happens next.
//!
//! The outage is made on the test's own database, not the shared server:
//! `ALLOW_CONNECTIONS false` and every session of it ended, which is what
//! a restarting or unreachable database looks like to the server.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{id, lead_body, populate, reply};
use futures::StreamExt;
use leadx::clock;
use leadx::server::{ServerConfig, start};
use leadx::store::SharedStore;
use leadx::store::postgres::PgStore;
use leadx::store::postgres::test_db::{DEFAULT_ADMIN_URL, TestDb, URL_ENV};
use serde_json::Value;

async fn admin() -> tokio_postgres::Client {
    let url = std::env::var(URL_ENV).unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string());
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("admin connection");
    tokio::spawn(connection);
    client
}

fn db_name(url: &str) -> String {
    url.rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string()
}

async fn outage(admin: &tokio_postgres::Client, name: &str, on: bool) {
    admin
        .batch_execute(&format!(
            "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS {}",
            !on
        ))
        .await
        .expect("alter database");
    if on {
        admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                &[&name],
            )
            .await
            .expect("end its sessions");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_outage_is_503_and_the_server_heals_by_itself() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let name = db_name(&db.url);
    let store: SharedStore = Arc::new(PgStore::connect(&db.url, clock::system()).await.unwrap());
    let t = populate(store.as_ref()).await;
    let config = ServerConfig {
        ping_interval: Duration::from_millis(200),
        ..ServerConfig::for_tests()
    };
    let server = start(store.clone(), clock::system(), config).await.unwrap();
    let url = server.url.clone();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let send = |company: String, key: String| {
        http.post(format!("{url}/v1/referrals"))
            .bearer_auth(&t.northwind)
            .header("Idempotency-Key", key)
            .json(&lead_body("acme-web", &company, None))
            .send()
    };
    let before = reply(send("Before Co".into(), "k-before".into()).await.unwrap()).await;
    assert_eq!(before.status, 201);

    // A live feed, read in the background: pings and events.
    let feed = http
        .get(format!("{url}/v1/events"))
        .bearer_auth(&t.acme)
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), 200);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        let mut body = feed.bytes_stream();
        while let Some(Ok(chunk)) = body.next().await {
            if tx
                .send(String::from_utf8_lossy(&chunk).into_owned())
                .is_err()
            {
                return;
            }
        }
    });

    let admin = admin().await;
    outage(&admin, &name, true).await;

    // Writes: 503 with Retry-After, never a 500.
    let down = reply(send("During Co".into(), "k-during".into()).await.unwrap()).await;
    assert_eq!(down.status, 503, "{}", down.body);
    assert_eq!(down.code(), "unavailable");
    assert!(down.headers.get("retry-after").is_some());
    // /healthz says which store is not answering.
    let health = reply(http.get(format!("{url}/healthz")).send().await.unwrap()).await;
    assert_eq!(health.status, 503);
    let message = health.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("postgresql 127.0.0.1:5432"), "{message}");
    // The feed stays open: pings go on during the outage.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut pinged = false;
    while Instant::now() < deadline && !pinged {
        if let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await {
            pinged = chunk.contains(": ping");
        }
    }
    assert!(pinged, "no ping on the feed during the outage");

    outage(&admin, &name, false).await;

    // Back by itself: the retried write (same key) goes through once.
    let deadline = Instant::now() + Duration::from_secs(30);
    let after = loop {
        let r = reply(send("During Co".into(), "k-during".into()).await.unwrap()).await;
        if r.status == 201 {
            break r;
        }
        assert_eq!(r.status, 503, "{}", r.body);
        assert!(Instant::now() < deadline, "the server did not heal");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let healed = id(&after.body);
    let health = http.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let health: Value = health.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    // The live feed delivers it (its listener reconnected).
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = String::new();
    while !seen.contains(&healed) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(chunk)) => seen.push_str(&chunk),
            _ => panic!("the feed never delivered {healed}"),
        }
    }
    // Nothing acknowledged was lost, nothing doubled.
    let page: Value = http
        .get(format!("{url}/v1/referrals?box=outgoing"))
        .bearer_auth(&t.northwind)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let companies: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["lead"]["company"].as_str().unwrap())
        .collect();
    assert_eq!(companies.len(), 2, "{companies:?}");
    assert!(companies.contains(&"Before Co") && companies.contains(&"During Co"));
    server.shutdown().await;
    drop(store);
    drop(db);
}
