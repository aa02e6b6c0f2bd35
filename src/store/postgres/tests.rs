//! The PostgreSQL store against a real server: each test makes its own
//! database (see [`super::test_db`]) and passes vacuously, saying so once,
//! when no PostgreSQL is reachable (unless `LEADX_REQUIRE_PG=1`).

use std::sync::Arc;

use super::test_db::TestDb;
use super::*;
use crate::clock::ManualClock;
use crate::wire::parse_timestamp;

/// A fresh database, or an early (passing) return without PostgreSQL.
macro_rules! db_or_skip {
    () => {
        match TestDb::create().await {
            Some(db) => db,
            None => return,
        }
    };
}

fn clock() -> Arc<ManualClock> {
    ManualClock::new(parse_timestamp("2026-11-26T09:14:03Z").unwrap())
}

async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_starting_at_once_migrate_exactly_once() {
    let db = db_or_skip!();
    let c = clock();
    let (a, b, d) = tokio::join!(
        PgStore::connect(&db.url, c.clone()),
        PgStore::connect(&db.url, c.clone()),
        PgStore::connect(&db.url, c.clone()),
    );
    let (a, _b, _d) = (a.unwrap(), b.unwrap(), d.unwrap());
    let client = admin(&db.url).await;
    let rows = client
        .query("SELECT version FROM schema_version ORDER BY version", &[])
        .await
        .unwrap();
    let versions: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(versions, (1..=schema::SCHEMA_VERSION).collect::<Vec<_>>());
    assert_eq!(a.last_seq().await.unwrap(), 0);
    a.health().await.unwrap();
}

#[tokio::test]
async fn refuses_a_schema_newer_than_it_knows() {
    let db = db_or_skip!();
    drop(PgStore::connect(&db.url, clock()).await.unwrap());
    let client = admin(&db.url).await;
    client
        .execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&(schema::SCHEMA_VERSION + 1)],
        )
        .await
        .unwrap();
    let e = PgStore::connect(&db.url, clock())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("newer than this leadx"), "{e}");
    assert!(
        e.contains(&format!("version {}", schema::SCHEMA_VERSION + 1)),
        "{e}"
    );
}

#[tokio::test]
async fn an_unreachable_database_is_named_without_its_password() {
    let e = PgStore::connect("postgres://leadx:hunter2@127.0.0.1:1/leadx", clock())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("127.0.0.1:1"), "{e}");
    assert!(!e.contains("hunter2"), "{e}");
}
