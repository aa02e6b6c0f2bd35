//! Starting against a database: migrations once, a newer schema refused,
//! an unreachable database named without its password, TLS.

use super::*;

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

#[tokio::test]
async fn tls_when_the_url_asks_for_it() {
    let db = db_or_skip!();
    let client = admin(&db.url).await;
    let ssl: String = client.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    if ssl != "on" {
        // The server offers no TLS: nothing to check here.
        return;
    }
    let store = PgStore::connect(&format!("{}?sslmode=require", db.url), clock())
        .await
        .unwrap();
    let conn = store.conn().await.unwrap();
    let on_tls: bool = conn
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(on_tls);
    drop(conn);
    // verify-full checks the certificate: a test server's own certificate
    // is not signed by a root this machine trusts for its address.
    let e = PgStore::connect(&format!("{}?sslmode=verify-full", db.url), clock())
        .await
        .unwrap_err()
        .to_string();
    let shown = conn::parse(&db.url).unwrap().shown;
    assert!(e.contains(&shown), "{e}");
}
