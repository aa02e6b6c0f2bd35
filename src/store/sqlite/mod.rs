//! The SQLite store: one file in WAL mode with `synchronous=FULL`, one
//! writer thread doing group commit ([`writer`]), a small pool of reader
//! connections ([`read`]), migrations keyed on `PRAGMA user_version`
//! ([`schema`]).
//!
//! Ids are `r_` + ULID (referrals) and `u_` + ULID (users). Bearer tokens
//! are `lx_` + 64 hex digits (256 random bits), stored only as SHA-256
//! hashes, looked up by hash and compared in constant time.

mod admin;
mod keys;
pub mod read;
pub mod schema;
mod store_impl;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags, params};
use tokio::sync::broadcast;

use self::writer::{Ctx, Finish, IDEM_RETENTION_SECS, Job, Queued, backend};
use super::{
    IdemSave, IdemTaken, ListPage, ListQuery, StoreError, StoreResult, StoredEvent, StoredResponse,
    UserRecord, write,
};
use crate::clock::SharedClock;
use crate::domain::validate::{validate_partner, validate_user_name};
use crate::domain::{ActionItem, Actor, ItemResult, StoredReferral};
use crate::wire::{CreateReferral, Partner, Role, Status, Timestamp};

pub use super::common::{EVENT_CHANNEL, KEEP_EVENTS, KEEP_EVENTS_SECS, new_token, token_hash};
use super::common::{LocalClaims, actor_if_hash_matches};
use super::write::answer_after_commit;

/// Idle reader connections kept open.
const MAX_IDLE_READERS: usize = 32;
/// Rows one housekeeping job touches at most (keeps the writer responsive).
const CHUNK: usize = 2000;

struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )?;
        schema::configure(&conn)?;
        // Many readers: a smaller page cache each (the OS caches the file).
        conn.execute_batch("PRAGMA query_only = ON; PRAGMA cache_size = -4000;")?;
        Ok(conn)
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> StoreResult<T> {
        let idle = self.idle.lock().map_err(backend)?.pop();
        let conn = match idle {
            Some(c) => c,
            None => self.open().map_err(backend)?,
        };
        let out = f(&conn).map_err(backend);
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE_READERS
        {
            idle.push(conn);
        }
        out
    }
}

/// The exchange's state in one SQLite file.
pub struct SqliteStore {
    jobs: Option<mpsc::Sender<Queued>>,
    writer: Option<JoinHandle<()>>,
    /// Dropping this stops the checkpointer.
    stop_checkpoints: Option<mpsc::Sender<()>>,
    checkpointer: Option<JoinHandle<()>>,
    readers: Readers,
    /// Idempotency keys being worked on now (see `Store::idem_claim`).
    claims: LocalClaims,
    clock: SharedClock,
    events: broadcast::Sender<Arc<StoredEvent>>,
    /// Group transactions the writer has committed.
    commits: Arc<AtomicU64>,
    /// Jobs handed to the writer, so a test can tell they are queued.
    #[cfg(test)]
    queued: AtomicU64,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.readers.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, migrates it and
    /// starts the writer thread. Time is read only from `clock`.
    pub fn open(path: &Path, clock: SharedClock) -> StoreResult<SqliteStore> {
        // A file that is there but empty is not a new exchange: it is a
        // database lost (a failed copy, a full disk). Refuse it rather than
        // start an empty exchange in its place.
        if std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0) {
            return Err(StoreError::Backend(format!(
                "{} is an empty file, not a leadx database; remove it to start a new exchange there",
                path.display()
            )));
        }
        let mut conn = Connection::open(path)
            .map_err(|e| StoreError::Backend(format!("open {}: {e}", path.display())))?;
        schema::configure(&conn).map_err(backend)?;
        // A quick integrity check before serving anything from it.
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| StoreError::Backend(format!("{} cannot be read: {e}", path.display())))?;
        if check != "ok" {
            return Err(StoreError::Backend(format!(
                "{} fails its integrity check: {check}",
                path.display()
            )));
        }
        schema::migrate(&mut conn).map_err(StoreError::Backend)?;
        // Checkpoints run on their own thread, not inside the writer's commits.
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;")
            .map_err(backend)?;
        let (stop_checkpoints, stopped) = mpsc::channel::<()>();
        let checkpoint_conn = Connection::open(path).map_err(backend)?;
        schema::configure(&checkpoint_conn).map_err(backend)?;
        let checkpointer = std::thread::Builder::new()
            .name("leadx-store-checkpoint".into())
            .spawn(move || checkpoints(checkpoint_conn, stopped))
            .map_err(backend)?;
        let (events, _) = broadcast::channel(EVENT_CHANNEL);
        let (jobs, rx) = mpsc::channel::<Queued>();
        let writer_events = events.clone();
        let writer_clock = clock.clone();
        let commits = Arc::new(AtomicU64::new(0));
        let writer_commits = commits.clone();
        let writer = std::thread::Builder::new()
            .name("leadx-store-writer".into())
            .spawn(move || writer::run(conn, rx, writer_clock, writer_events, writer_commits))
            .map_err(backend)?;
        Ok(SqliteStore {
            jobs: Some(jobs),
            writer: Some(writer),
            stop_checkpoints: Some(stop_checkpoints),
            checkpointer: Some(checkpointer),
            claims: LocalClaims::default(),
            readers: Readers {
                path: path.to_path_buf(),
                idle: Mutex::new(Vec::new()),
            },
            clock,
            events,
            commits,
            #[cfg(test)]
            queued: AtomicU64::new(0),
        })
    }

    /// How many group transactions the writer has committed since the
    /// store was opened (each is one fsync, however many jobs it held).
    pub fn group_commits(&self) -> u64 {
        self.commits.load(Ordering::Acquire)
    }

    /// Queues `f` for the writer's next group transaction (in its own
    /// savepoint); `reply` gets its result once the group has committed.
    /// `weight`: about how many rows it changes.
    fn enqueue<T: Send + 'static>(
        &self,
        weight: usize,
        f: impl FnOnce(&mut Ctx<'_>) -> StoreResult<T> + Send + 'static,
        reply: impl FnOnce(StoreResult<T>) + Send + 'static,
    ) -> StoreResult<()> {
        let job: Job = Box::new(move |ctx| {
            let result = f(ctx);
            let ok = result.is_ok();
            let finish: Finish = Box::new(move |commit_error| {
                reply(answer_after_commit(result, commit_error));
            });
            (ok, finish)
        });
        let jobs = self
            .jobs
            .as_ref()
            .ok_or_else(|| StoreError::Backend("store is closed".into()))?;
        jobs.send(Queued { weight, job })
            .map_err(|_| StoreError::Backend("the store's writer has stopped".into()))?;
        #[cfg(test)]
        self.queued.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// Runs `f` in the writer's next group transaction and waits (on this
    /// thread) until the group has committed.
    fn submit<T: Send + 'static>(
        &self,
        weight: usize,
        f: impl FnOnce(&mut Ctx<'_>) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let (tx, rx) = mpsc::sync_channel::<StoreResult<T>>(1);
        self.enqueue(weight, f, move |out| {
            let _ = tx.send(out);
        })?;
        rx.recv()
            .map_err(|_| StoreError::Backend("the store's writer did not answer".into()))?
    }

    /// [`SqliteStore::submit`] for async callers: the task waits, no
    /// thread does.
    async fn submit_async<T: Send + 'static>(
        &self,
        weight: usize,
        f: impl FnOnce(&mut Ctx<'_>) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let (tx, rx) = tokio::sync::oneshot::channel::<StoreResult<T>>();
        self.enqueue(weight, f, move |out| {
            let _ = tx.send(out);
        })?;
        rx.await
            .map_err(|_| StoreError::Backend("the store's writer did not answer".into()))?
    }

    fn now_secs(&self) -> i64 {
        read::secs(self.clock.now())
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Closing the queue ends the writer after it has run what is queued.
        self.jobs.take();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
        self.stop_checkpoints.take();
        if let Some(c) = self.checkpointer.take() {
            let _ = c.join();
        }
    }
}

/// Copies the WAL back into the database now and then (PASSIVE: never
/// blocks the writer or readers), until told to stop.
fn checkpoints(conn: Connection, stop: mpsc::Receiver<()>) {
    let every = std::time::Duration::from_millis(250);
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(every) {
        let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0));
        if let Err(e) = done {
            tracing::warn!(error = %e, "store: WAL checkpoint");
        }
    }
}

/// The blocking API: what the async [`Store`](crate::store::Store) implementation
/// (`store_impl.rs`) runs, and what the store's own tests and the
/// benchmarks' seeding call directly.
impl SqliteStore {
    pub fn add_partner(&self, partner: &Partner) -> StoreResult<()> {
        validate_partner(partner).map_err(StoreError::Rejected)?;
        let p = partner.clone();
        self.submit(1, move |ctx| {
            if read::partner_exists(ctx.conn, &p.id).map_err(backend)? {
                return Err(StoreError::Rejected(format!(
                    "partner {:?} already exists",
                    p.id
                )));
            }
            let categories = serde_json::to_string(&p.categories).map_err(backend)?;
            let regions = serde_json::to_string(&p.regions).map_err(backend)?;
            ctx.conn
                .execute(
                    "INSERT INTO partners (id, name, kind, categories, regions, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        p.id,
                        p.name,
                        p.kind.as_str(),
                        categories,
                        regions,
                        read::secs(ctx.now)
                    ],
                )
                .map_err(backend)?;
            Ok(())
        })
    }

    pub fn list_partners(&self, q: Option<&str>) -> StoreResult<Vec<Partner>> {
        self.readers.with(|c| read::partners(c, q))
    }

    pub fn get_partner(&self, id: &str) -> StoreResult<Option<Partner>> {
        self.readers.with(|c| read::partner(c, id))
    }

    pub fn add_user(
        &self,
        partner_id: &str,
        name: &str,
        role: Role,
    ) -> StoreResult<(UserRecord, String)> {
        validate_user_name(name).map_err(StoreError::Rejected)?;
        let partner_id = partner_id.to_string();
        let name = name.to_string();
        self.submit(1, move |ctx| {
            if !read::partner_exists(ctx.conn, &partner_id).map_err(backend)? {
                return Err(StoreError::Rejected(format!(
                    "no partner {partner_id:?} on the exchange"
                )));
            }
            let token = new_token();
            let user = UserRecord {
                id: ctx.new_id("u_"),
                partner_id,
                name,
                role,
                created_at: ctx.now,
                revoked_at: None,
            };
            ctx.conn
                .execute(
                    "INSERT INTO users (id, partner_id, name, role, token_hash, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        user.id,
                        user.partner_id,
                        user.name,
                        user.role.as_str(),
                        &token_hash(&token)[..],
                        read::secs(ctx.now)
                    ],
                )
                .map_err(backend)?;
            Ok((user, token))
        })
    }

    pub fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
        self.readers.with(read::users)
    }

    pub fn revoke_user(&self, user_id: &str) -> StoreResult<bool> {
        let user_id = user_id.to_string();
        self.submit(1, move |ctx| {
            let n = ctx
                .conn
                .execute(
                    "UPDATE users SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
                    params![read::secs(ctx.now), user_id],
                )
                .map_err(backend)?;
            Ok(n == 1)
        })
    }

    pub fn revoked_since(&self, since: Timestamp) -> StoreResult<Vec<String>> {
        self.readers.with(|c| {
            let mut st = c.prepare_cached("SELECT id FROM users WHERE revoked_at >= ?1")?;
            st.query_map([read::secs(since)], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()
        })
    }

    pub fn authenticate(&self, token: &str) -> StoreResult<Option<Actor>> {
        let hash = token_hash(token);
        let found = self.readers.with(|c| read::user_by_token_hash(c, &hash))?;
        Ok(actor_if_hash_matches(found, &hash))
    }

    pub fn create(
        &self,
        actor: &Actor,
        request: CreateReferral,
        idem: Option<IdemSave>,
    ) -> StoreResult<ItemResult> {
        let actor = actor.clone();
        self.submit(1, move |ctx| {
            writer::drive(write::create(ctx, &actor, &request, idem))
        })
    }

    pub fn apply(
        &self,
        actor: &Actor,
        items: Vec<ActionItem>,
        idem: Option<IdemSave>,
    ) -> StoreResult<Vec<ItemResult>> {
        let actor = actor.clone();
        self.submit(items.len(), move |ctx| {
            writer::drive(write::apply(ctx, &actor, &items, idem))
        })
    }

    pub fn save_response(
        &self,
        user_id: &str,
        key: &str,
        request_hash: &str,
        response: StoredResponse,
    ) -> StoreResult<()> {
        let (user_id, key, hash) = (
            user_id.to_string(),
            key.to_string(),
            request_hash.to_string(),
        );
        self.submit(1, move |ctx| {
            writer::drive(write::keep_response(ctx, &user_id, &key, &hash, &response))
        })
    }

    /// What a request with this hash meets under the key: a kept answer
    /// (replay or mismatch) or nothing (`None`).
    pub fn idem_lookup(
        &self,
        user_id: &str,
        key: &str,
        request_hash: &str,
    ) -> StoreResult<Option<IdemTaken>> {
        let kept = self.readers.with(|c| writer::kept_row(c, user_id, key))?;
        write::judge_kept(kept, request_hash, self.now_secs())
    }

    pub fn get(&self, id: &str) -> StoreResult<Option<StoredReferral>> {
        self.readers.with(|c| read::referral(c, id))
    }

    pub fn list(&self, query: &ListQuery) -> StoreResult<ListPage> {
        self.readers.with(|c| read::list(c, query))
    }

    pub fn expire_due(&self) -> StoreResult<usize> {
        let mut total = 0;
        loop {
            let n = self.submit(CHUNK, |ctx| writer::drive(write::expire_due(ctx, CHUNK)))?;
            total += n;
            if n < CHUNK {
                return Ok(total);
            }
        }
    }

    pub fn next_expiry(&self) -> StoreResult<Option<Timestamp>> {
        self.readers.with(read::next_expiry)
    }

    pub fn events_after(&self, seq: u64, limit: usize) -> StoreResult<Vec<Arc<StoredEvent>>> {
        self.readers.with(|c| read::events_after(c, seq, limit))
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StoredEvent>> {
        self.events.subscribe()
    }

    pub fn resume_floor(&self) -> StoreResult<u64> {
        self.readers.with(read::resume_floor)
    }

    pub fn last_seq(&self) -> StoreResult<u64> {
        self.readers.with(read::last_seq)
    }

    pub fn prune(&self) -> StoreResult<()> {
        loop {
            let n = self.submit(CHUNK, |ctx| {
                let now = read::secs(ctx.now);
                let last = read::last_seq(ctx.conn).map_err(backend)?;
                let keep_from = last.saturating_sub(KEEP_EVENTS) as i64;
                let events = ctx
                    .conn
                    .execute(
                        "DELETE FROM events WHERE seq IN (SELECT seq FROM events \
                         WHERE seq <= ?1 AND at < ?2 ORDER BY seq LIMIT ?3)",
                        params![keep_from, now - KEEP_EVENTS_SECS, CHUNK as i64],
                    )
                    .map_err(backend)?;
                let idem = ctx
                    .conn
                    .execute(
                        "DELETE FROM idempotency WHERE (user_id, key) IN (SELECT user_id, key \
                         FROM idempotency WHERE created_at <= ?1 LIMIT ?2)",
                        params![now - IDEM_RETENTION_SECS, CHUNK as i64],
                    )
                    .map_err(backend)?;
                Ok(events.max(idem))
            })?;
            if n < CHUNK {
                return Ok(());
            }
        }
    }

    pub fn count_by_status(&self) -> StoreResult<Vec<(Status, u64)>> {
        self.readers.with(read::count_by_status)
    }

    /// Whether the store can write now: the write lock probed on a
    /// connection of its own (a locked or read-only file fails within
    /// [`schema::PROBE_BUSY`]), then an empty write transaction on the
    /// writer.
    pub fn writable(&self) -> StoreResult<()> {
        schema::probe_write(&self.readers.path).map_err(StoreError::Backend)?;
        self.submit(1, |_| Ok(()))
    }

    pub fn health(&self) -> StoreResult<()> {
        if self.jobs.is_none() || self.writer.as_ref().is_some_and(|w| w.is_finished()) {
            return Err(StoreError::Backend("the store's writer has stopped".into()));
        }
        self.readers
            .with(|c| c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
