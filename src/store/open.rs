//! Which store a `--db` names, and opening it: a PostgreSQL URL
//! (`postgres://` or `postgresql://`) is the shared, networked store for
//! several servers; anything else is a SQLite file, as on one machine.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use super::SharedStore;
use super::blocking::BlockingStore;
use super::postgres::{self, PgStore};
use super::sqlite::SqliteStore;
use crate::clock::SharedClock;

/// Where the exchange's state lives.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL database, by URL (which may hold a password: never
    /// show it; [`Location::shown`] is safe).
    Postgres(String),
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Location({})", self.shown())
    }
}

impl Location {
    /// Reads `--db` (or `LEADX_DB`).
    pub fn parse(db: &str) -> Location {
        if postgres::conn::is_postgres_url(db) {
            Location::Postgres(db.trim().to_string())
        } else {
            Location::Sqlite(PathBuf::from(db))
        }
    }

    /// Safe to print or log: a path, or the URL with its password hidden.
    pub fn shown(&self) -> String {
        match self {
            Location::Sqlite(path) => path.display().to_string(),
            Location::Postgres(url) => postgres::conn::redact_url(url),
        }
    }

    /// Opens (and migrates) the store. Call it inside a runtime: a
    /// PostgreSQL store starts its listener and writers as tasks.
    pub async fn open(&self, clock: SharedClock) -> anyhow::Result<SharedStore> {
        Ok(match self {
            Location::Sqlite(path) => {
                let path = path.clone();
                let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path, clock))
                    .await
                    .context("opening the database panicked")?
                    .with_context(|| format!("opening the database {}", self.shown()))?;
                Arc::new(store)
            }
            Location::Postgres(url) => Arc::new(
                PgStore::connect(url, clock)
                    .await
                    .with_context(|| format!("opening the database {}", self.shown()))?,
            ),
        })
    }

    /// Opens the store for plain sequential code (the admin CLI): on a
    /// runtime of its own, which the returned store keeps.
    pub fn open_blocking(&self, clock: SharedClock) -> anyhow::Result<BlockingStore> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .context("starting a runtime")?;
        let store = runtime.block_on(self.open(clock))?;
        Ok(BlockingStore::owning(store, runtime))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_postgres_and_everything_else_a_file() {
        assert_eq!(
            Location::parse("postgres://u:secret@db:5432/leadx"),
            Location::Postgres("postgres://u:secret@db:5432/leadx".into())
        );
        assert!(matches!(
            Location::parse("POSTGRESQL://db/leadx"),
            Location::Postgres(_)
        ));
        assert_eq!(
            Location::parse("leadx.db"),
            Location::Sqlite(PathBuf::from("leadx.db"))
        );
    }

    #[test]
    fn shown_never_holds_the_password() {
        let l = Location::parse("postgres://u:secret@db:5432/leadx");
        assert_eq!(l.shown(), "postgres://u:***@db:5432/leadx");
        assert!(!format!("{l:?}").contains("secret"));
    }
}
