//! One write transaction ([`PgTx`]): the per-store primitives the shared
//! write orchestration runs over, and the commit that numbers the
//! transaction's events.
//!
//! Events appended during the transaction are buffered and written by
//! [`PgTx::commit`] at its very end, in one statement that bumps the
//! one-row counter `event_seq` by their number (taking its row lock),
//! inserts them with the numbers it got, and calls `pg_notify` with the
//! last one; then the transaction commits. Numbers are handed out under
//! that lock and the lock is released only once the commit is visible, so
//! numbering order is commit order.

use std::sync::Arc;

use deadpool_postgres::Transaction;

use super::read::{self, exec, limit, pg, row, rows};
use crate::domain::OpenHop;
use crate::domain::StoredReferral;
use crate::domain::validate::normalize_domain;
use crate::store::common::{secs, status_code};
use crate::store::write::{IDEM_RETENTION_SECS, WriteTx};
use crate::store::{StoreError, StoreResult, StoredEvent, StoredResponse};
use crate::wire::Timestamp;

/// First key of the `pg_advisory_xact_lock(int, int)` that serialises
/// creations of leads with one domain (the second is the domain's hash):
/// two servers creating the same domain at once cannot both miss the other.
const DOMAIN_LOCK: i32 = 0x6c78_646d;

/// One write transaction on a pooled connection. Dropped without
/// [`PgTx::commit`], it rolls back.
pub struct PgTx<'c> {
    tx: Transaction<'c>,
    now: Timestamp,
    ids: ulid::Generator,
    /// Events appended so far: the referral as stored and its JSON body.
    events: Vec<(StoredReferral, String)>,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl<'c> PgTx<'c> {
    /// Begins a transaction (READ COMMITTED: rows it changes are locked,
    /// rows it reads under [`PgTx::referral_for_update`] too).
    pub async fn begin(
        conn: &'c mut deadpool_postgres::Client,
        now: Timestamp,
    ) -> StoreResult<PgTx<'c>> {
        let tx = conn.transaction().await.map_err(pg)?;
        Ok(PgTx {
            tx,
            // Whole seconds, as the wire carries them.
            now: chrono::SubsecRound::trunc_subsecs(now, 0),
            ids: ulid::Generator::new(),
            events: Vec::new(),
        })
    }

    /// The transaction, for statements of the store's own.
    pub fn client(&self) -> &Transaction<'c> {
        &self.tx
    }

    /// Opens the savepoint the first job of a group runs in; returns the
    /// mark to roll its events back to.
    pub async fn savepoint(&mut self) -> StoreResult<usize> {
        self.tx.batch_execute("SAVEPOINT job").await.map_err(pg)?;
        Ok(self.events.len())
    }

    /// Ends a job's savepoint, keeping (`ok`) or undoing what it did since
    /// `mark`, and opens the next job's when `next`, all in one round trip
    /// (a savepoint rolled back to stays open for the next job; a kept one
    /// still open at the end is committed with the transaction). Returns
    /// the next job's mark.
    pub async fn end_job(&mut self, ok: bool, mark: usize, next: bool) -> StoreResult<usize> {
        let sql = match (ok, next) {
            (true, true) => "RELEASE SAVEPOINT job; SAVEPOINT job",
            (true, false) => return Ok(self.events.len()),
            (false, _) => "ROLLBACK TO SAVEPOINT job",
        };
        if !ok {
            self.events.truncate(mark);
        }
        self.tx.batch_execute(sql).await.map_err(pg)?;
        Ok(self.events.len())
    }

    /// Numbers and writes the buffered events, notifies the listeners and
    /// commits; returns the events as committed, in order.
    pub async fn commit(self) -> StoreResult<Vec<Arc<StoredEvent>>> {
        let n = self.events.len();
        let mut committed = Vec::with_capacity(n);
        if n > 0 {
            let (mut ids, mut accepted, mut bodies) = (
                Vec::with_capacity(n),
                Vec::with_capacity(n),
                Vec::with_capacity(n),
            );
            for (stored, body) in &self.events {
                ids.push(stored.referral.id.as_str());
                accepted.push(stored.accepted_partner.as_deref());
                bodies.push(body.as_str());
            }
            let count = n as i64;
            let numbered = row(
                &self.tx,
                "WITH s AS (UPDATE event_seq SET last = last + $1 WHERE id = 1 RETURNING last), \
                 ins AS (INSERT INTO events (seq, at, referral_id, accepted_partner, body) \
                   SELECT s.last - $1 + u.n, $2, u.rid, u.ap, u.body FROM s, \
                   UNNEST($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(rid, ap, body, n)) \
                 SELECT s.last, pg_notify('leadx_events', s.last::text) FROM s",
                &[&count, &secs(self.now), &ids, &accepted, &bodies],
            )
            .await?
            .ok_or_else(|| backend("the event counter row is missing"))?;
            let last: i64 = numbered.get(0);
            let first = (last - count + 1) as u64;
            for (i, (stored, _)) in self.events.iter().enumerate() {
                committed.push(Arc::new(StoredEvent {
                    seq: first + i as u64,
                    referral: stored.clone(),
                }));
            }
        }
        self.tx
            .commit()
            .await
            .map_err(|e| backend(format!("commit failed: {}", super::conn::error_text(&e))))?;
        Ok(committed)
    }
}

impl WriteTx for PgTx<'_> {
    /// The transaction's time, whole seconds.
    fn now(&self) -> Timestamp {
        self.now
    }

    /// A fresh increasing id with this prefix (`r_`, `u_`).
    fn new_id(&mut self, prefix: &str) -> String {
        let id = self.ids.generate().unwrap_or_else(|_| ulid::Ulid::new());
        format!("{prefix}{id}")
    }

    async fn partner_exists(&mut self, id: &str) -> StoreResult<bool> {
        read::partner_exists(&self.tx, id).await
    }

    /// Open hops of leads with this domain. Takes a transaction-long lock
    /// on the domain first, so that a concurrent creation with the same
    /// domain (on any server) waits for this transaction and then sees
    /// its hop.
    async fn open_hops(&mut self, domain_norm: &str) -> StoreResult<Vec<OpenHop>> {
        exec(
            &self.tx,
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&DOMAIN_LOCK, &domain_norm],
        )
        .await?;
        read::open_hops(&self.tx, domain_norm).await
    }

    /// The referral and its lead id, its row locked until the transaction ends.
    async fn referral_for_update(
        &mut self,
        id: &str,
    ) -> StoreResult<Option<(StoredReferral, String)>> {
        read::referral_with_lead(&self.tx, id, true).await
    }

    /// Inserts a new hop (and its lead when it is the first hop) and
    /// appends its event.
    async fn insert(&mut self, stored: &StoredReferral, lead_id: &str) -> StoreResult<()> {
        let r = &stored.referral;
        let body = serde_json::to_string(r).map_err(backend)?;
        if r.parent_id.is_none() {
            exec(
                &self.tx,
                "INSERT INTO leads (id, accepted_partner) VALUES ($1, $2)",
                &[&lead_id, &stored.accepted_partner],
            )
            .await?;
        }
        let domain = r.lead.domain.as_deref().and_then(normalize_domain);
        exec(
            &self.tx,
            "INSERT INTO referrals (id, lead_id, status, from_partner, to_partner, \
             domain_norm, expires_at, version, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &r.id,
                &lead_id,
                &(status_code(r.status) as i16),
                &r.from_partner.as_str(),
                &r.to_partner.as_str(),
                &domain,
                &secs(r.expires_at),
                &(r.version as i64),
                &body,
            ],
        )
        .await?;
        self.events.push((stored.clone(), body));
        Ok(())
    }

    /// Writes a changed hop guarded by the version it was read at, the
    /// lead's accepted partner when it changed, and appends its event.
    async fn update(
        &mut self,
        before: &StoredReferral,
        after: &StoredReferral,
        lead_id: &str,
    ) -> StoreResult<()> {
        let r = &after.referral;
        let body = serde_json::to_string(r).map_err(backend)?;
        let n = exec(
            &self.tx,
            "UPDATE referrals SET status = $1, version = $2, body = $3 \
             WHERE id = $4 AND version = $5",
            &[
                &(status_code(r.status) as i16),
                &(r.version as i64),
                &body,
                &r.id,
                &(before.referral.version as i64),
            ],
        )
        .await?;
        if n != 1 {
            return Err(backend(format!(
                "referral {} changed under the writer",
                r.id
            )));
        }
        if after.accepted_partner != before.accepted_partner {
            exec(
                &self.tx,
                "UPDATE leads SET accepted_partner = $1 WHERE id = $2",
                &[&after.accepted_partner, &lead_id],
            )
            .await?;
        }
        self.events.push((after.clone(), body));
        Ok(())
    }

    /// created_at (unix seconds) of a finished response kept under this
    /// key (not an in-flight claim), if any.
    async fn idem_response_at(&mut self, user_id: &str, key: &str) -> StoreResult<Option<i64>> {
        let found = row(
            &self.tx,
            "SELECT created_at FROM idempotency WHERE user_id = $1 AND key = $2 AND status <> 0",
            &[&user_id, &key],
        )
        .await?;
        Ok(found.map(|r| r.get(0)))
    }

    /// Keeps a response under a key, replacing an in-flight claim or an
    /// expired response; an error when a fresh response is already kept.
    async fn save_response(
        &mut self,
        user_id: &str,
        key: &str,
        request_hash: &str,
        response: &StoredResponse,
    ) -> StoreResult<()> {
        let now = secs(self.now);
        let n = exec(
            &self.tx,
            "INSERT INTO idempotency (user_id, key, request_hash, status, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (user_id, key) DO UPDATE SET request_hash = excluded.request_hash, \
             status = excluded.status, body = excluded.body, created_at = excluded.created_at \
             WHERE idempotency.status = 0 OR idempotency.created_at <= $7",
            &[
                &user_id,
                &key,
                &request_hash,
                &i32::from(response.status),
                &response.body,
                &now,
                &(now - IDEM_RETENTION_SECS),
            ],
        )
        .await?;
        if n == 0 {
            return Err(backend(format!(
                "idempotency key {key:?} already holds a response"
            )));
        }
        Ok(())
    }

    /// Ids of pending referrals due now, oldest first, at most `max`.
    async fn due_ids(&mut self, max: usize) -> StoreResult<Vec<String>> {
        let found = rows(
            &self.tx,
            "SELECT id FROM referrals WHERE status = 0 AND expires_at <= $1 \
             ORDER BY expires_at, id LIMIT $2",
            &[&secs(self.now), &limit(max)],
        )
        .await?;
        Ok(found.iter().map(|r| r.get(0)).collect())
    }
}
