//! The idempotency keys a write transaction holds
//! (`pg_try_advisory_xact_lock` on the user and key), what it found kept
//! under them, and the responses it keeps: see [`PgTx::prefetch`] and
//! docs/ARCHITECTURE.md ("An idempotency key is held by the write's own
//! transaction").

use std::collections::HashMap;

use tokio_postgres::Row;

use super::super::pending::Write;
use super::super::read::rows;
use super::{Key, PgTx, backend};
use crate::store::common::secs;
use crate::store::write::{IDEM_RETENTION_SECS, Kept, judge_kept};
use crate::store::{IdemTaken, StoreResult, StoredResponse};

/// Seed of `hashtextextended` for the transaction-long advisory lock that
/// holds a user's idempotency key: the lock's 64-bit key is
/// `hashtextextended(user_id || E'\n' || key, KEY_LOCK_SEED)`.
pub const KEY_LOCK_SEED: i64 = 0x6c78_6b79;

/// Takes the keys' locks, without waiting: whether each was got.
pub(super) const LOCK_KEYS: &str = "SELECT u.user_id, u.key, \
     pg_try_advisory_xact_lock(hashtextextended(u.user_id || E'\\n' || u.key, $3)) \
     FROM UNNEST($1::text[], $2::text[]) AS u(user_id, key)";
/// What is kept under the keys (read after [`LOCK_KEYS`], in a later
/// statement, so that its snapshot sees what a transaction that held a
/// key committed before this one got it).
pub(in crate::store::postgres) const KEPT_UNDER_KEYS: &str = "SELECT i.user_id, i.key, i.request_hash, i.status, i.body, \
     i.created_at FROM idempotency i JOIN UNNEST($1::text[], $2::text[]) AS u(user_id, key) \
     ON i.user_id = u.user_id AND i.key = u.key";

/// What this transaction knows of an idempotency key.
#[derive(Debug, Clone)]
pub(super) enum KeyState {
    /// Held by this transaction, with what was kept under it when it was
    /// got (`None`: nothing).
    Held(Option<Kept>),
    /// Held by another transaction: a request with it is running on
    /// another server (or, briefly, on this one: a retry after its client
    /// went away).
    Elsewhere,
    /// A job of this transaction kept its response under it.
    Written,
}

impl PgTx {
    /// Notes which keys this transaction holds, and what is kept under them.
    pub(super) fn record_keys(&mut self, locks: Vec<Row>, kept: Vec<Row>) {
        let mut found: HashMap<Key, Kept> = kept
            .into_iter()
            .map(|r| {
                let status: i32 = r.get(3);
                let kept = Kept {
                    request_hash: r.get(2),
                    status: i64::from(status),
                    body: r.get(4),
                    at: r.get(5),
                };
                ((r.get(0), r.get(1)), kept)
            })
            .collect();
        for r in locks {
            let key: Key = (r.get(0), r.get(1));
            let state = if r.get::<_, bool>(2) {
                KeyState::Held(found.remove(&key))
            } else {
                KeyState::Elsewhere
            };
            self.keys.entry(key).or_insert(state);
        }
    }

    /// Holds one key and reads what is kept under it (two statements, in
    /// this order: see [`PgTx::prefetch`]).
    pub(super) async fn hold_key(&mut self, user_id: &str, key: &str) -> StoreResult<()> {
        let (users, keys) = ([user_id], [key]);
        let locks = rows(
            self.c(),
            LOCK_KEYS,
            &[&&users[..], &&keys[..], &KEY_LOCK_SEED],
        )
        .await?;
        let kept = rows(self.c(), KEPT_UNDER_KEYS, &[&&users[..], &&keys[..]]).await?;
        self.record_keys(locks, kept);
        Ok(())
    }

    /// Whether the key answers instead of the request: held by another
    /// server's transaction (in flight), kept by an earlier job of this
    /// one (in flight until it commits), or a fresh response kept under
    /// it (replay or mismatch). A key the prefetch was not told of is held
    /// and read here.
    pub(super) async fn key_taken(
        &mut self,
        user_id: &str,
        key: &str,
        request_hash: &str,
    ) -> StoreResult<Option<IdemTaken>> {
        let k = (user_id.to_string(), key.to_string());
        if !self.keys.contains_key(&k) {
            let held = self.hold_key(user_id, key).await;
            self.sql(held)?;
        }
        match self.keys.get(&k) {
            Some(KeyState::Held(kept)) => judge_kept(kept.clone(), request_hash, secs(self.now)),
            Some(KeyState::Elsewhere | KeyState::Written) => Ok(Some(IdemTaken::InFlight)),
            None => Err(backend(format!("idempotency key {key:?} was not read"))),
        }
    }

    /// Keeps a response under a key held by this transaction (replacing a
    /// claim row of an older server or an expired response); an error when
    /// the key is not this transaction's to keep (checked here for the
    /// keys it knows, and by the write itself for the others: then the
    /// group fails).
    pub(super) fn keep_response(
        &mut self,
        user_id: &str,
        key: &str,
        request_hash: &str,
        response: &StoredResponse,
    ) -> StoreResult<()> {
        let now = secs(self.now);
        let stale = now - IDEM_RETENTION_SECS;
        let k = (user_id.to_string(), key.to_string());
        let taken = match self.keys.get(&k) {
            Some(KeyState::Held(Some(kept))) => kept.status != 0 && kept.at > stale,
            Some(KeyState::Elsewhere | KeyState::Written) => true,
            Some(KeyState::Held(None)) | None => false,
        };
        if taken {
            return Err(backend(format!(
                "idempotency key {key:?} is not this transaction's to keep"
            )));
        }
        self.writes.push(Write::Response {
            user_id: k.0.clone(),
            key: k.1.clone(),
            hash: request_hash.to_string(),
            status: i32::from(response.status),
            body: response.body.clone(),
            at: now,
            stale,
        });
        let was = self.keys.insert(k.clone(), KeyState::Written);
        self.job.keys.push((k, was));
        Ok(())
    }
}
