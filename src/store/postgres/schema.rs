//! The PostgreSQL schema, versioned in the table `schema_version` (one row
//! per migration that ran). Migration `n` (1-based) brings a database from
//! version `n - 1` to `n`; never edit a shipped migration, append one.
//!
//! Servers starting at once migrate under a session advisory lock
//! ([`MIGRATION_LOCK`]): the first runs what is missing, the others wait and
//! then find nothing to do. A database newer than this code is refused.

use tokio_postgres::Client;

use super::conn::error_text;
use crate::store::{StoreError, StoreResult};

/// `pg_advisory_lock` key held while migrating ("leadx mg").
pub const MIGRATION_LOCK: i64 = 0x6c65_6164_7820_6d67;

/// Migrations in order.
const MIGRATIONS: &[&str] = &[
    // 1: partners, users, leads, referrals, the event log and its counter,
    // idempotency. Ids sort bytewise (COLLATE "C"), as pages are ordered.
    r#"
    CREATE TABLE partners (
        id          TEXT COLLATE "C" PRIMARY KEY,
        name        TEXT NOT NULL,
        kind        TEXT NOT NULL,
        categories  TEXT NOT NULL,  -- JSON array
        regions     TEXT NOT NULL,  -- JSON array
        created_at  BIGINT NOT NULL
    );

    CREATE TABLE users (
        id          TEXT COLLATE "C" PRIMARY KEY,
        partner_id  TEXT COLLATE "C" NOT NULL REFERENCES partners(id),
        name        TEXT NOT NULL,
        role        TEXT NOT NULL,
        token_hash  BYTEA NOT NULL UNIQUE,  -- SHA-256 of the bearer token
        created_at  BIGINT NOT NULL,
        revoked_at  BIGINT
    );

    -- One row per lead (keyed by its first hop's id): lead-level state.
    CREATE TABLE leads (
        id                TEXT COLLATE "C" PRIMARY KEY,
        accepted_partner  TEXT
    );

    -- One row per hop; `body` is the unmasked referral as JSON, the other
    -- columns are what queries filter on. `status` is the index of the
    -- status in `Status::ALL` (0 pending, 1 accepted, ...).
    CREATE TABLE referrals (
        id            TEXT COLLATE "C" PRIMARY KEY,
        lead_id       TEXT COLLATE "C" NOT NULL REFERENCES leads(id),
        status        SMALLINT NOT NULL,
        from_partner  TEXT COLLATE "C" NOT NULL,
        to_partner    TEXT COLLATE "C" NOT NULL,
        domain_norm   TEXT,
        expires_at    BIGINT NOT NULL,
        version       BIGINT NOT NULL,
        body          TEXT NOT NULL
    );
    CREATE INDEX referrals_to ON referrals (to_partner, id);
    CREATE INDEX referrals_from ON referrals (from_partner, id);
    CREATE INDEX referrals_pending_expiry ON referrals (expires_at, id) WHERE status = 0;
    CREATE INDEX referrals_open_domain ON referrals (domain_norm)
        WHERE status IN (0, 1) AND domain_norm IS NOT NULL;

    -- The last event sequence number handed out. Each write transaction
    -- takes its numbers from this one row at its very end, so the row lock
    -- orders numbering and commit alike (see the module docs of postgres).
    CREATE TABLE event_seq (
        id    SMALLINT PRIMARY KEY CHECK (id = 1),
        last  BIGINT NOT NULL
    );
    INSERT INTO event_seq (id, last) VALUES (1, 0);

    -- The event log: every change, the referral as stored after it.
    CREATE TABLE events (
        seq               BIGINT PRIMARY KEY,
        at                BIGINT NOT NULL,
        referral_id       TEXT NOT NULL,
        accepted_partner  TEXT,
        body              TEXT NOT NULL
    );
    CREATE INDEX events_at ON events (at);

    -- Idempotency keys: `status` 0 is a claim in flight (since created_at),
    -- any other is the HTTP status of the kept response.
    CREATE TABLE idempotency (
        user_id       TEXT NOT NULL,
        key           TEXT NOT NULL,
        request_hash  TEXT NOT NULL,
        status        INTEGER NOT NULL,
        body          BYTEA NOT NULL,
        created_at    BIGINT NOT NULL,
        PRIMARY KEY (user_id, key)
    );
    CREATE INDEX idempotency_created ON idempotency (created_at);
    "#,
    // 2: who holds an in-flight claim: the backend pid of the claiming
    // server's LISTEN session, so that a claim of a server that died is
    // taken over as soon as its session is gone, not after the timeout.
    // No longer written or read: a claim is now an advisory lock held by
    // the write transaction itself (`write/idem.rs`), which ends with its
    // session. The column stays: dropping it would take a migration that
    // makes every server of the version before refuse the database.
    r#"
    ALTER TABLE idempotency ADD COLUMN holder_pid INTEGER;
    "#,
    // 3: SSH public keys of users (the SSH front end's log-in).
    r#"
    CREATE TABLE ssh_keys (
        fingerprint  TEXT COLLATE "C" PRIMARY KEY,
        user_id      TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        public_key   TEXT NOT NULL,
        comment      TEXT NOT NULL,
        added_at     BIGINT NOT NULL,
        last_used    BIGINT
    );
    CREATE INDEX ssh_keys_user ON ssh_keys (user_id);
    "#,
    // 4: every change to users or partners (a revocation, a rotated token,
    // a renamed or removed partner), whoever makes it, notifies
    // `leadx_auth` in its own transaction: servers drop the token look-ups
    // they cache when it commits (see `auth_cache.rs`).
    r#"
    CREATE FUNCTION leadx_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('leadx_auth', '');
        RETURN NULL;
    END $$;
    CREATE TRIGGER users_auth_changed AFTER UPDATE OR DELETE OR TRUNCATE ON users
        FOR EACH STATEMENT EXECUTE FUNCTION leadx_auth_changed();
    CREATE TRIGGER partners_auth_changed AFTER UPDATE OR DELETE OR TRUNCATE ON partners
        FOR EACH STATEMENT EXECUTE FUNCTION leadx_auth_changed();
    "#,
];

/// The schema version this code writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

fn db(what: &str, e: tokio_postgres::Error) -> StoreError {
    StoreError::Backend(format!("{what}: {}", error_text(&e)))
}

/// Brings the database to [`SCHEMA_VERSION`], once however many servers
/// start at once; refuses a database newer than this code.
pub async fn migrate(client: &mut Client) -> StoreResult<()> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(|e| db("migration lock", e))?;
    let result = migrate_locked(client).await;
    // The lock also ends with the session; unlocking is a courtesy.
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    result?;
    unlocked.map_err(|e| db("migration unlock", e))?;
    Ok(())
}

/// The version the database is at (`schema_version` must exist).
pub async fn version(client: &Client) -> StoreResult<i32> {
    let row = client
        .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
        .await
        .map_err(|e| db("schema version", e))?;
    Ok(row.get(0))
}

async fn migrate_locked(client: &mut Client) -> StoreResult<()> {
    // Looked up first (the migration lock is held): `CREATE TABLE IF NOT
    // EXISTS` on a migrated database would log a NOTICE at every start.
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
        .await
        .map_err(|e| db("schema_version table", e))?
        .get(0);
    if !exists {
        client
            .batch_execute(
                "CREATE TABLE schema_version (
                     version     INTEGER PRIMARY KEY,
                     applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
                 )",
            )
            .await
            .map_err(|e| db("schema_version table", e))?;
    }
    let current = version(client).await?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::Backend(format!(
            "the database's schema is version {current}, newer than this leadx knows \
             ({SCHEMA_VERSION}); refusing to start: upgrade leadx"
        )));
    }
    for v in current + 1..=SCHEMA_VERSION {
        let tx = client.transaction().await.map_err(|e| db("migration", e))?;
        tx.batch_execute(MIGRATIONS[(v - 1) as usize])
            .await
            .map_err(|e| db(&format!("migration {v}"), e))?;
        tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&v])
            .await
            .map_err(|e| db(&format!("migration {v}"), e))?;
        tx.commit()
            .await
            .map_err(|e| db(&format!("migration {v}"), e))?;
        tracing::info!(version = v, "store: PostgreSQL schema migrated");
    }
    Ok(())
}
