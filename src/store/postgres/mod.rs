//! The PostgreSQL store: any number of `leadx serve` processes on one
//! database act as one exchange.
//!
//! - [`conn`]: the URL (`sslmode`, TLS through rustls; a password is never
//!   shown), the pool (deadpool-postgres).
//! - [`schema`]: versioned migrations in `schema_version`, run once under
//!   an advisory lock however many servers start at once; a database newer
//!   than this code is refused.
//! - [`mod@write`]: one write transaction, the primitives the shared write
//!   orchestration runs over.
//! - [`read`]: queries; a list page and its `as_of` come from one
//!   REPEATABLE READ snapshot.
//! - [`listen`]: the live feed across servers (`LISTEN`/`NOTIFY`).
//!
//! **Event sequence numbers follow commit order** (a reader that has seen
//! seq N never later finds a new event below N). A `BIGSERIAL` would not:
//! numbers are taken when rows are inserted, and transactions commit in
//! another order. Here the numbers come from a one-row counter table,
//! `event_seq(last)`, *at the very end* of each write transaction: its
//! buffered events are written in one statement that runs
//! `UPDATE event_seq SET last = last + n RETURNING last`, inserts the
//! events as `last - n + 1 ..= last` and calls
//! `pg_notify('leadx_events', last)`; `COMMIT` follows in the same round
//! trip (see [`mod@write`]). The
//! counter's row lock is held from that statement until the commit is
//! visible, so the next transaction gets its numbers only after this one
//! committed: numbering order is commit order, with no gaps (a rolled back
//! transaction gives its numbers back). The cost: commits that write events
//! go one at a time through that row, a short window (one statement and the
//! commit's flush).
//!
//! Other contracts: an idempotency key is held, for as long as a write
//! with it runs, by that write's transaction (`pg_try_advisory_xact_lock`
//! on the user and key, taken before the kept response is read; see
//! [`write::PgTx::begin`]), so two servers given one key at once run it
//! once: the other finds it in flight, or, once committed, replays it; the
//! unique `(user_id, key)` row it keeps its response in is the last guard;
//! the expiry sweep runs on one server at a time
//! (`pg_try_advisory_xact_lock`, [`SWEEP_LOCK`]); creations of leads with
//! one domain are serialised by a transaction lock on the domain, so two
//! servers cannot both miss a duplicate.

mod admin;
pub mod auth_cache;
pub mod conn;
pub mod group;
mod keys;
pub mod listen;
mod pending;
pub mod read;
pub mod schema;
#[doc(hidden)]
pub mod test_db;
pub mod write;

use std::sync::Arc;

use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use self::conn::Target;
use self::listen::Feed;
use self::read::{exec, row};
use self::write::Hint;
use crate::clock::SharedClock;
use crate::domain::validate::{validate_partner, validate_user_name};
use crate::domain::{ActionItem, Actor, ItemResult, StoredReferral};
use crate::store::common::{
    EVENT_CHANNEL, KEEP_EVENTS, KEEP_EVENTS_SECS, LocalClaims, new_token, secs, token_hash,
};
use crate::store::write::{self as write_ops, IDEM_RETENTION_SECS};
use crate::store::{
    IdemClaim, IdemSave, IdemTaken, KeyRecord, ListPage, ListQuery, NewKey, Store, StoreError,
    StoreResult, StoredEvent, StoredResponse, UserRecord,
};
use crate::wire::{CreateReferral, Partner, Role, Status, Timestamp};

/// `pg_try_advisory_xact_lock` key of the expiry sweep ("leadx sw").
pub const SWEEP_LOCK: i64 = 0x6c65_6164_7820_7377;
/// Rows one housekeeping transaction touches at most.
const CHUNK: usize = 2000;

/// The exchange's state in a PostgreSQL database.
pub struct PgStore {
    pool: deadpool_postgres::Pool,
    target: Target,
    clock: SharedClock,
    feed: Arc<Feed>,
    listener: JoinHandle<()>,
    writer: group::Writer,
    /// Idempotency keys this server's requests are working on (other
    /// servers are kept off by the write's transaction: see
    /// [`write::PgTx::begin`]).
    claims: LocalClaims,
    /// Token look-ups, kept while changes are heard.
    auth: Arc<auth_cache::AuthCache>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("server", &self.target.shown)
            .finish_non_exhaustive()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://...`), migrates it
    /// (once, whoever else starts at the same time) and starts listening
    /// for events. Time is read only from `clock`. An unreachable database
    /// is an error naming its host and port, never the password.
    pub async fn connect(url: &str, clock: SharedClock) -> StoreResult<PgStore> {
        let target = conn::parse(url)?;
        let (mut client, connection) = conn::connect_one(&target, "leadx-migrate").await?;
        let driver = tokio::spawn(connection);
        let migrated = schema::migrate(&mut client).await;
        drop(client);
        let _ = driver.await;
        migrated?;
        let pool = conn::pool(&target)?;
        let start = read::last_seq(&conn::get(&pool).await?).await?;
        let feed = Arc::new(Feed::new(EVENT_CHANNEL, start));
        let auth = Arc::new(auth_cache::AuthCache::default());
        let listener = tokio::spawn(listen::run(
            target.clone(),
            pool.clone(),
            feed.clone(),
            auth.clone(),
        ));
        let writer = group::Writer::start(pool.clone(), clock.clone(), feed.clone());
        Ok(PgStore {
            pool,
            target,
            clock,
            feed,
            listener,
            writer,
            claims: LocalClaims::default(),
            auth,
        })
    }

    /// `host:port` of the database (never the password).
    pub fn server(&self) -> &str {
        &self.target.shown
    }

    async fn conn(&self) -> StoreResult<deadpool_postgres::Client> {
        conn::get(&self.pool).await
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

#[async_trait::async_trait]
impl Store for PgStore {
    async fn add_partner(&self, partner: &Partner) -> StoreResult<()> {
        validate_partner(partner).map_err(StoreError::Rejected)?;
        let categories = serde_json::to_string(&partner.categories).map_err(backend)?;
        let regions = serde_json::to_string(&partner.regions).map_err(backend)?;
        let now = secs(self.now());
        let n = exec(
            &self.conn().await?,
            "INSERT INTO partners (id, name, kind, categories, regions, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            &[
                &partner.id,
                &partner.name,
                &partner.kind.as_str(),
                &categories,
                &regions,
                &now,
            ],
        )
        .await?;
        if n == 0 {
            return Err(StoreError::Rejected(format!(
                "partner {:?} already exists",
                partner.id
            )));
        }
        Ok(())
    }

    async fn list_partners(&self, q: Option<&str>) -> StoreResult<Vec<Partner>> {
        read::partners(&self.conn().await?, q).await
    }

    async fn get_partner(&self, id: &str) -> StoreResult<Option<Partner>> {
        read::partner(&self.conn().await?, id).await
    }

    async fn add_user(
        &self,
        partner_id: &str,
        name: &str,
        role: Role,
    ) -> StoreResult<(UserRecord, String)> {
        validate_user_name(name).map_err(StoreError::Rejected)?;
        let token = new_token();
        let user = UserRecord {
            id: format!("u_{}", ulid::Ulid::new()),
            partner_id: partner_id.to_string(),
            name: name.to_string(),
            role,
            created_at: chrono::SubsecRound::trunc_subsecs(self.now(), 0),
            revoked_at: None,
        };
        let n = exec(
            &self.conn().await?,
            "INSERT INTO users (id, partner_id, name, role, token_hash, created_at) \
             SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM partners WHERE id = $2)",
            &[
                &user.id,
                &user.partner_id,
                &user.name,
                &user.role.as_str(),
                &&token_hash(&token)[..],
                &secs(user.created_at),
            ],
        )
        .await?;
        if n == 0 {
            return Err(StoreError::Rejected(format!(
                "no partner {partner_id:?} on the exchange"
            )));
        }
        Ok((user, token))
    }

    async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
        read::users(&self.conn().await?).await
    }

    async fn revoke_user(&self, user_id: &str) -> StoreResult<bool> {
        let revoked = self.revoke_user_impl(user_id).await;
        self.auth.drop_all();
        revoked
    }

    async fn update_partner(&self, partner: &Partner) -> StoreResult<bool> {
        let changed = self.update_partner_impl(partner).await;
        self.auth.drop_all();
        changed
    }

    async fn remove_partner(&self, id: &str) -> StoreResult<bool> {
        let removed = self.remove_partner_impl(id).await;
        self.auth.drop_all();
        removed
    }

    async fn rotate_user(&self, user_id: &str) -> StoreResult<Option<(UserRecord, String)>> {
        let rotated = self.rotate_user_impl(user_id).await;
        self.auth.drop_all();
        rotated
    }

    async fn revoked_since(&self, since: Timestamp) -> StoreResult<Vec<String>> {
        let rows = self
            .conn()
            .await?
            .query(
                "SELECT id FROM users WHERE revoked_at >= $1",
                &[&secs(since)],
            )
            .await
            .map_err(read::pg)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn add_key(&self, user_id: &str, key: &NewKey) -> StoreResult<KeyRecord> {
        self.add_key_impl(user_id, key).await
    }

    async fn list_keys(&self, user_id: &str) -> StoreResult<Vec<KeyRecord>> {
        self.list_keys_impl(user_id).await
    }

    async fn remove_key(&self, user_id: &str, fingerprint: &str) -> StoreResult<bool> {
        self.remove_key_impl(user_id, fingerprint).await
    }

    async fn authenticate_key(&self, fingerprint: &str) -> StoreResult<Option<Actor>> {
        self.authenticate_key_impl(fingerprint).await
    }

    /// Answered from [`auth_cache::AuthCache`] when it can be.
    async fn authenticate(&self, token: &str) -> StoreResult<Option<Actor>> {
        self.authenticate_impl(token).await
    }

    async fn get(&self, id: &str) -> StoreResult<Option<StoredReferral>> {
        Ok(read::referral_with_lead(&self.conn().await?, id, false)
            .await?
            .map(|(r, _)| r))
    }

    async fn list(&self, query: &ListQuery) -> StoreResult<ListPage> {
        read::list(&mut self.conn().await?, query).await
    }

    async fn next_expiry(&self) -> StoreResult<Option<Timestamp>> {
        read::next_expiry(&self.conn().await?).await
    }

    async fn events_after(&self, seq: u64, limit: usize) -> StoreResult<Vec<Arc<StoredEvent>>> {
        read::events_after(&self.conn().await?, seq, limit).await
    }

    async fn resume_floor(&self) -> StoreResult<u64> {
        read::resume_floor(&self.conn().await?).await
    }

    async fn last_seq(&self) -> StoreResult<u64> {
        read::last_seq(&self.conn().await?).await
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<StoredEvent>> {
        self.feed.subscribe()
    }

    async fn prune(&self) -> StoreResult<()> {
        let conn = self.conn().await?;
        let now = secs(self.now());
        loop {
            let last = read::last_seq(&conn).await?;
            let keep_from = last.saturating_sub(KEEP_EVENTS) as i64;
            let events = exec(
                &conn,
                "DELETE FROM events WHERE seq IN (SELECT seq FROM events \
                 WHERE seq <= $1 AND at < $2 ORDER BY seq LIMIT $3)",
                &[&keep_from, &(now - KEEP_EVENTS_SECS), &read::limit(CHUNK)],
            )
            .await?;
            // Responses past retention (and claim rows of older servers).
            let idem = exec(
                &conn,
                "DELETE FROM idempotency WHERE (user_id, key) IN (SELECT user_id, key \
                 FROM idempotency WHERE created_at <= $1 LIMIT $2)",
                &[&(now - IDEM_RETENTION_SECS), &read::limit(CHUNK)],
            )
            .await?;
            if events.max(idem) < CHUNK as u64 {
                return Ok(());
            }
        }
    }

    async fn count_by_status(&self) -> StoreResult<Vec<(Status, u64)>> {
        read::count_by_status(&self.conn().await?).await
    }

    async fn health(&self) -> StoreResult<()> {
        row(&self.conn().await?, "SELECT 1", &[]).await?;
        if self.writer.stopped() {
            return Err(StoreError::Backend(
                "the store's writers have stopped".into(),
            ));
        }
        if self.listener.is_finished() {
            return Err(StoreError::Backend("the event listener has stopped".into()));
        }
        Ok(())
    }

    async fn writable(&self) -> StoreResult<()> {
        let row = self
            .conn()
            .await?
            .query_one(
                "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'",
                &[],
            )
            .await
            .map_err(read::pg)?;
        if row.get::<_, bool>(0) {
            return Err(StoreError::Backend(
                "the database is read-only (in recovery or a standby)".into(),
            ));
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("postgresql {}", self.target.shown)
    }

    /// Claims an idempotency key on this server only, in memory: no
    /// round trip. The key is checked against what is kept, and held
    /// against the other servers, inside the write's own transaction
    /// ([`write::PgTx::begin`]): a replay, a mismatch or a key in
    /// flight on another server comes back from the write as
    /// [`StoreError::Taken`]. A claim used to be a row of its own, inserted
    /// and committed before the write: a transaction per request, and the
    /// largest part of an accept's cost (see docs/PERFORMANCE.md).
    async fn idem_claim(
        &self,
        user_id: &str,
        key: &str,
        _request_hash: &str,
    ) -> StoreResult<IdemClaim> {
        Ok(if self.claims.claim(user_id, key) {
            IdemClaim::Claimed
        } else {
            IdemClaim::Taken(IdemTaken::InFlight)
        })
    }

    /// Gives the key back to this server (what the write kept stays).
    async fn idem_release(&self, user_id: &str, key: &str) -> StoreResult<()> {
        self.claims.release(user_id, key);
        Ok(())
    }

    async fn create(
        &self,
        actor: &Actor,
        request: CreateReferral,
        idem: Option<IdemSave>,
    ) -> StoreResult<ItemResult> {
        let actor = actor.clone();
        let hint = Hint {
            referrals: Vec::new(),
            keys: idem_hint(&idem),
        };
        self.writer
            .submit(1, hint, move |tx| {
                Box::pin(async move { write_ops::create(tx, &actor, &request, idem).await })
            })
            .await
    }

    async fn apply(
        &self,
        actor: &Actor,
        items: Vec<ActionItem>,
        idem: Option<IdemSave>,
    ) -> StoreResult<Vec<ItemResult>> {
        let actor = actor.clone();
        let hint = Hint {
            referrals: items.iter().map(|i| i.id.clone()).collect(),
            keys: idem_hint(&idem),
        };
        self.writer
            .submit(items.len(), hint, move |tx| {
                Box::pin(async move { write_ops::apply(tx, &actor, &items, idem).await })
            })
            .await
    }

    /// Expires what is due, in chunks, if no other server is sweeping:
    /// each chunk's transaction first takes `pg_try_advisory_xact_lock`
    /// ([`SWEEP_LOCK`]) and does nothing without it.
    async fn expire_due(&self) -> StoreResult<usize> {
        let mut total = 0;
        loop {
            let swept = self
                .writer
                .submit(CHUNK, Hint::default(), |tx| {
                    Box::pin(async move {
                        if !tx.try_lock(SWEEP_LOCK).await? {
                            return Ok(None);
                        }
                        write_ops::expire_due(tx, CHUNK).await.map(Some)
                    })
                })
                .await?;
            match swept {
                Some(n) => {
                    total += n;
                    if n < CHUNK {
                        return Ok(total);
                    }
                }
                None => return Ok(total),
            }
        }
    }

    /// Keeps a response for a request that never reached a write.
    async fn save_response(
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
        let hint = Hint {
            referrals: Vec::new(),
            keys: vec![(user_id.clone(), key.clone())],
        };
        self.writer
            .submit(1, hint, move |tx| {
                Box::pin(async move {
                    write_ops::keep_response(tx, &user_id, &key, &hash, &response).await
                })
            })
            .await
    }
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// The key an idempotent write keeps its answer under, for the prefetch.
fn idem_hint(idem: &Option<IdemSave>) -> Vec<(String, String)> {
    idem.iter()
        .map(|i| (i.user_id.clone(), i.key.clone()))
        .collect()
}

#[cfg(test)]
mod tests;
