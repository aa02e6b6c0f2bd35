//! Throwaway PostgreSQL databases for tests: each [`TestDb`] is a fresh
//! database `leadx_test_<random>` on the server named by `LEADX_TEST_PG`
//! (default [`DEFAULT_ADMIN_URL`]), dropped (`WITH (FORCE)`) when the guard
//! is dropped.
//!
//! Without a reachable server, [`TestDb::create`] answers `None` and the
//! test passes vacuously; one line on stderr (once per test process) says
//! the PostgreSQL tests were skipped and how to run them. With
//! `LEADX_REQUIRE_PG=1` (as CI sets) it panics instead.

use std::io::Write;
use std::sync::{Once, OnceLock};
use std::time::Duration;

/// The server and maintenance database tests connect to by default.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// Names another server for the tests.
pub const URL_ENV: &str = "LEADX_TEST_PG";
/// `1`: an unreachable server fails the tests instead of skipping them.
pub const REQUIRE_ENV: &str = "LEADX_REQUIRE_PG";

/// A database made for one test; dropped with the guard.
#[derive(Debug)]
pub struct TestDb {
    /// URL of the new database.
    pub url: String,
    name: String,
    admin: String,
}

fn admin_url() -> String {
    std::env::var(URL_ENV).unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string())
}

fn required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

/// The URL of database `name` on the server of `admin`.
fn url_of(admin: &str, name: &str) -> String {
    let (head, query) = match admin.split_once('?') {
        Some((h, q)) => (h, format!("?{q}")),
        None => (admin, String::new()),
    };
    let scheme_end = head.find("://").map_or(0, |i| i + 3);
    let base = match head[scheme_end..].find('/') {
        Some(slash) => &head[..scheme_end + slash],
        None => head,
    };
    format!("{base}/{name}{query}")
}

async fn admin_client(admin: &str) -> Result<tokio_postgres::Client, String> {
    let mut config: tokio_postgres::Config = admin.parse().map_err(|e| format!("{e}"))?;
    config.connect_timeout(Duration::from_secs(3));
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| super::conn::error_text(&e))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

impl TestDb {
    /// A fresh empty database, or `None` when PostgreSQL is unreachable
    /// (and not required).
    pub async fn create() -> Option<TestDb> {
        static REACHABLE: OnceLock<bool> = OnceLock::new();
        if REACHABLE.get() == Some(&false) {
            return None;
        }
        let admin = admin_url();
        let client = match admin_client(&admin).await {
            Ok(c) => c,
            Err(e) => {
                let shown = super::conn::redact_url(&admin);
                if required() {
                    panic!("{REQUIRE_ENV}=1 but PostgreSQL at {shown} is unreachable: {e}");
                }
                let _ = REACHABLE.set(false);
                static SAID: Once = Once::new();
                SAID.call_once(|| {
                    let _ = writeln!(
                        std::io::stderr(),
                        "PostgreSQL tests skipped: no PostgreSQL at {shown} ({e}); run one there \
                         (trust auth, user postgres, database test) or set {URL_ENV}=<url>; \
                         {REQUIRE_ENV}=1 makes this a failure"
                    );
                });
                return None;
            }
        };
        let _ = REACHABLE.set(true);
        let name = format!("leadx_test_{}", hex::encode(rand::random::<[u8; 8]>()));
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        Some(TestDb {
            url: url_of(&admin, &name),
            name,
            admin,
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop may run inside a runtime: do the async work on a thread of
        // its own with its own small runtime.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let client = admin_client(&admin).await?;
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .map_err(|e| super::conn::error_text(&e))
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            let _ = writeln!(std::io::stderr(), "drop test database {}: {e}", self.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_keep_server_and_parameters() {
        assert_eq!(
            url_of("postgres://postgres@127.0.0.1:5432/test", "leadx_test_1"),
            "postgres://postgres@127.0.0.1:5432/leadx_test_1"
        );
        assert_eq!(
            url_of("postgres://u:p@h/test?sslmode=disable", "d"),
            "postgres://u:p@h/d?sslmode=disable"
        );
        assert_eq!(url_of("postgres://h", "d"), "postgres://h/d");
    }
}
