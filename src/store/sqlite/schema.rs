//! The SQLite schema, versioned with `PRAGMA user_version`: migration `n`
//! (1-based) brings a database from version `n - 1` to `n`. Never edit a
//! shipped migration; append a new one.

use rusqlite::Connection;

/// Migrations in order; the database's `user_version` is how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: partners, users, leads, referrals, the event log, idempotency.
    r#"
    CREATE TABLE partners (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        kind        TEXT NOT NULL,
        categories  TEXT NOT NULL,  -- JSON array
        regions     TEXT NOT NULL,  -- JSON array
        created_at  INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE users (
        id          TEXT PRIMARY KEY,
        partner_id  TEXT NOT NULL REFERENCES partners(id),
        name        TEXT NOT NULL,
        role        TEXT NOT NULL,
        token_hash  BLOB NOT NULL UNIQUE,  -- SHA-256 of the bearer token
        created_at  INTEGER NOT NULL,
        revoked_at  INTEGER
    );

    -- One row per lead (keyed by its first hop's id): lead-level state.
    CREATE TABLE leads (
        id                TEXT PRIMARY KEY,
        accepted_partner  TEXT
    ) WITHOUT ROWID;

    -- One row per hop. `body` is the full unmasked referral as JSON; the
    -- other columns are what queries filter on. `status` is the index of
    -- the status in `Status::ALL` (0 pending, 1 accepted, ...).
    CREATE TABLE referrals (
        id            TEXT PRIMARY KEY,
        lead_id       TEXT NOT NULL REFERENCES leads(id),
        status        INTEGER NOT NULL,
        from_partner  TEXT NOT NULL,
        to_partner    TEXT NOT NULL,
        domain_norm   TEXT,
        expires_at    INTEGER NOT NULL,
        version       INTEGER NOT NULL,
        body          TEXT NOT NULL
    );
    CREATE INDEX referrals_to ON referrals(to_partner, id);
    CREATE INDEX referrals_from ON referrals(from_partner, id);
    CREATE INDEX referrals_status_expiry ON referrals(status, expires_at);
    CREATE INDEX referrals_open_domain ON referrals(domain_norm)
        WHERE status IN (0, 1) AND domain_norm IS NOT NULL;

    -- The event log: every change, the referral as stored after it.
    CREATE TABLE events (
        seq               INTEGER PRIMARY KEY AUTOINCREMENT,
        at                INTEGER NOT NULL,
        referral_id       TEXT NOT NULL,
        accepted_partner  TEXT,
        body              TEXT NOT NULL
    );
    CREATE INDEX events_at ON events(at);

    CREATE TABLE idempotency (
        user_id       TEXT NOT NULL,
        key           TEXT NOT NULL,
        request_hash  TEXT NOT NULL,
        status        INTEGER NOT NULL,
        body          BLOB NOT NULL,
        created_at    INTEGER NOT NULL,
        PRIMARY KEY (user_id, key)
    ) WITHOUT ROWID;
    CREATE INDEX idempotency_created ON idempotency(created_at);
    "#,
    // 2: SSH public keys of users (the SSH front end's log-in).
    r#"
    CREATE TABLE ssh_keys (
        fingerprint  TEXT PRIMARY KEY,  -- SHA256:..., as OpenSSH prints it
        user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        public_key   TEXT NOT NULL,
        comment      TEXT NOT NULL,
        added_at     INTEGER NOT NULL,
        last_used    INTEGER
    ) WITHOUT ROWID;
    CREATE INDEX ssh_keys_user ON ssh_keys(user_id);
    "#,
];

/// The schema version this code writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Connection settings every connection gets.
pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -32000;",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Puts the database in WAL mode and runs the migrations it lacks, each in
/// its own immediate transaction. Refuses a database newer than this code.
pub fn migrate(conn: &mut Connection) -> Result<(), String> {
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(format!("cannot use WAL journal mode (got {mode})"));
    }
    loop {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| e.to_string())?;
        let version: u32 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        if version > SCHEMA_VERSION {
            return Err(format!(
                "database schema version {version} is newer than this leadx ({SCHEMA_VERSION})"
            ));
        }
        if version == SCHEMA_VERSION {
            return Ok(());
        }
        tx.execute_batch(MIGRATIONS[version as usize])
            .map_err(|e| format!("migration {}: {e}", version + 1))?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", version + 1))
            .map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
    }
}

/// How long the readiness probe ([`probe_write`]) waits for a write lock
/// another connection holds, where a write waits 10 s.
pub const PROBE_BUSY: std::time::Duration = std::time::Duration::from_millis(250);

/// Whether a write could start now, on a connection of its own: the write
/// lock taken (`BEGIN IMMEDIATE`) and given back at once, waiting at most
/// [`PROBE_BUSY`] for another writer. A read-only file, or a lock another
/// process holds, fails it quickly with the reason.
pub fn probe_write(path: &std::path::Path) -> Result<(), String> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
            | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX
            | rusqlite::OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(|e| format!("cannot open the database: {e}"))?;
    conn.busy_timeout(PROBE_BUSY).map_err(|e| e.to_string())?;
    match conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK") {
        Ok(()) => Ok(()),
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => Err(format!(
            "the database is locked by another writer (waited {} ms)",
            PROBE_BUSY.as_millis()
        )),
        Err(e) => Err(format!("cannot take the write lock: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_newer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut c = Connection::open(&path).unwrap();
        configure(&c).unwrap();
        migrate(&mut c).unwrap();
        migrate(&mut c).unwrap();
        let v: u32 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        let mode: String = c
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        c.execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1))
            .unwrap();
        assert!(migrate(&mut c).unwrap_err().contains("newer"));
    }
}
