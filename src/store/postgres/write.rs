//! One write transaction ([`PgTx`]): the per-store primitives the shared
//! write orchestration runs over, and the commit that numbers the
//! transaction's events.
//!
//! **Few round trips.** A group's transaction reads what its jobs will
//! need up front (with `BEGIN`, [`PgTx::begin`]: the referrals they name, locked
//! `FOR UPDATE` in id order, and their idempotency keys, each held by this
//! transaction (`pg_try_advisory_xact_lock`) before the response kept under
//! it is read, in one pipelined round trip). Its writes are buffered (`super::pending`)
//! and sent together, pipelined, set-based, just before the events at
//! commit, or earlier when a job is about to run a query that must see
//! them (the open hops of a domain, the due referrals). What the
//! transaction wrote is also what its later reads return: referrals it
//! read or wrote are kept (`seen`), and so are the leads' accepted partners
//! and the responses it kept. A group of accepts then costs three round
//! trips however many jobs it holds: `BEGIN` with the prefetch, the
//! writes, and the events with `COMMIT`.
//!
//! **A job that fails is undone in memory**: everything it buffered or
//! changed in `seen` since [`PgTx::begin_job`] is dropped
//! ([`PgTx::end_job`]), so jobs need no savepoints. A statement that
//! fails in the database fails the whole group (its callers get an error
//! and may retry; nothing of the group commits).
//!
//! Events appended during the transaction are buffered and written by
//! [`PgTx::commit`] at its very end, in one statement that bumps the
//! one-row counter `event_seq` by their number (taking its row lock),
//! inserts them with the numbers it got, and calls `pg_notify` with the
//! last one; `COMMIT` goes out in the same round trip, right behind it,
//! so the lock is held while PostgreSQL runs those two and flushes, not
//! across a round trip to this process. Numbers are handed out under that
//! lock and the lock is released only once the commit is visible, so
//! numbering order is commit order. If the numbering fails in the
//! database, the transaction is aborted and the `COMMIT` behind it rolls
//! back: nothing of the group stays. If it fails before it goes out, its
//! first poll says so and `COMMIT` is not sent.
//!
//! **The transaction is this type's own** (`BEGIN`, `COMMIT` and
//! `ROLLBACK` as statements, not tokio-postgres's `Transaction`, which
//! waits for each before the next can go out). Dropped while it may still
//! be open, it closes its connection rather than pool it.

pub(in crate::store::postgres) mod begin;
pub(in crate::store::postgres) mod idem;

use std::collections::HashMap;
use std::sync::Arc;
use std::task::Poll;

use tokio_postgres::types::ToSql;

pub use self::begin::Hint;
pub use self::idem::KEY_LOCK_SEED;
use self::idem::KeyState;
use super::pending::{self, HopRow, Write};
use super::read::{self, exec, limit, pg, row, rows};
use crate::domain::OpenHop;
use crate::domain::StoredReferral;
use crate::domain::validate::normalize_domain;
use crate::store::common::secs;
use crate::store::write::WriteTx;
use crate::store::{IdemTaken, StoreError, StoreResult, StoredEvent, StoredResponse};
use crate::wire::Timestamp;

/// First key of the `pg_advisory_xact_lock(int, int)` that serialises
/// creations of leads with one domain (the second is the domain's hash):
/// two servers creating the same domain at once cannot both miss the other.
const DOMAIN_LOCK: i32 = 0x6c78_646d;

/// Numbers a group's events (`$1` of them) from the one-row counter,
/// taking its row lock until the transaction ends, inserts them, and
/// notifies the listeners with the last number. Without the counter's row
/// the events' numbers would be null: the statement fails.
const NUMBER_EVENTS: &str = "WITH s AS (UPDATE event_seq SET last = last + $1 WHERE id = 1 \
     RETURNING last), \
     ins AS (INSERT INTO events (seq, at, referral_id, accepted_partner, body) \
       SELECT (SELECT last FROM s) - $1 + u.n, $2, u.rid, u.ap, u.body FROM \
       UNNEST($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(rid, ap, body, n)) \
     SELECT s.last, pg_notify('leadx_events', s.last::text) FROM s";

type Seen = HashMap<String, (StoredReferral, String)>;
/// The answers to a group's numbering (none when it had no events; then
/// its row, which only a missing counter row leaves out) and to the
/// `COMMIT` sent behind it.
type Sent = (
    Result<Option<Option<tokio_postgres::Row>>, tokio_postgres::Error>,
    Result<(), tokio_postgres::Error>,
);
type Key = (String, String);

/// What the running job changed, to undo it if it fails.
#[derive(Default)]
struct Journal {
    events: usize,
    writes: usize,
    seen: Vec<(String, Option<(StoredReferral, String)>)>,
    leads: Vec<(String, Option<Option<String>>)>,
    keys: Vec<(Key, Option<KeyState>)>,
}

/// One write transaction on a pooled connection. Dropped while it may
/// still be open (a task cancelled mid-group, a failed `COMMIT` or
/// `ROLLBACK`), its connection is closed instead of going back to the
/// pool, so that no later group can find itself inside the transaction:
/// the server rolls back what it had not been told to commit (a `COMMIT`
/// already on its way may still commit).
pub struct PgTx {
    conn: Option<deadpool_postgres::Client>,
    /// `BEGIN` was sent and neither `COMMIT` nor `ROLLBACK` is known done.
    open: bool,
    now: Timestamp,
    ids: ulid::Generator,
    /// Events appended so far: the referral as stored and its JSON body.
    events: Vec<(StoredReferral, String)>,
    /// Writes not yet sent.
    writes: Vec<Write>,
    /// Referrals this transaction locked or wrote, as they are now, with
    /// their lead id.
    seen: Seen,
    /// Leads whose accepted partner this transaction set.
    leads: HashMap<String, Option<String>>,
    /// The idempotency keys this transaction tried to hold, and what it
    /// found or wrote under them.
    keys: HashMap<Key, KeyState>,
    job: Journal,
    /// A statement failed: the transaction is aborted and must not be
    /// committed (PostgreSQL would answer `COMMIT` with a rollback).
    broken: bool,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl PgTx {
    /// The connection the transaction runs on.
    fn c(&self) -> &deadpool_postgres::Client {
        // Taken only by `drop`.
        self.conn.as_ref().expect("a transaction's connection")
    }

    /// Rolls the transaction back and waits until the database has done so
    /// (its locks, the idempotency keys among them, are free once this
    /// returns); a failure (the connection lost, which ends the
    /// transaction with it) is only logged, and the connection is then
    /// dropped rather than pooled.
    pub async fn rollback(mut self) {
        match self.c().batch_execute("ROLLBACK").await {
            Ok(()) => self.open = false,
            Err(e) => tracing::warn!(error = %e, "store: rollback failed"),
        }
    }

    /// Notes a statement's failure: the transaction is then aborted.
    fn sql<T>(&mut self, result: StoreResult<T>) -> StoreResult<T> {
        self.broken |= result.is_err();
        result
    }

    /// Takes the transaction-long advisory lock `key` if no other session
    /// holds it (`pg_try_advisory_xact_lock`).
    pub async fn try_lock(&mut self, key: i64) -> StoreResult<bool> {
        let found = row(self.c(), "SELECT pg_try_advisory_xact_lock($1)", &[&key]).await;
        Ok(self.sql(found)?.is_some_and(|r| r.get::<_, bool>(0)))
    }

    /// Starts a job: what it changes from here on can be undone.
    pub fn begin_job(&mut self) {
        self.job = Journal {
            events: self.events.len(),
            writes: self.writes.len(),
            ..Journal::default()
        };
    }

    /// Ends a job, keeping (`ok`) or undoing what it did.
    pub fn end_job(&mut self, ok: bool) {
        let job = std::mem::take(&mut self.job);
        if ok {
            return;
        }
        self.events.truncate(job.events);
        self.writes.truncate(job.writes);
        for (id, before) in job.seen.into_iter().rev() {
            match before {
                Some(v) => self.seen.insert(id, v),
                None => self.seen.remove(&id),
            };
        }
        for (id, before) in job.leads.into_iter().rev() {
            match before {
                Some(v) => self.leads.insert(id, v),
                None => self.leads.remove(&id),
            };
        }
        for (key, before) in job.keys.into_iter().rev() {
            match before {
                Some(v) => self.keys.insert(key, v),
                None => self.keys.remove(&key),
            };
        }
    }

    /// Sends the writes of the jobs that finished (not the running job's:
    /// it may still fail), before a query that must see them.
    async fn flush_finished(&mut self) -> StoreResult<()> {
        let finished: Vec<Write> = self.writes.drain(..self.job.writes).collect();
        self.job.writes = 0;
        let flushed = pending::flush(self.c(), finished).await;
        self.sql(flushed)
    }

    /// Records a referral as this transaction now has it.
    fn keep(&mut self, stored: &StoredReferral, lead_id: &str) {
        let id = stored.referral.id.clone();
        let before = self
            .seen
            .insert(id.clone(), (stored.clone(), lead_id.to_string()));
        self.job.seen.push((id, before));
    }

    /// Sends the buffered writes, then numbers and writes the buffered
    /// events and commits in one more round trip (the numbering statement
    /// and `COMMIT` pipelined: the counter's row lock, which every group
    /// of every server takes, is held only while PostgreSQL runs those two,
    /// not across a round trip to this process); notifies the listeners
    /// (delivered on commit); returns the events as committed, in order.
    /// On an error nothing of the group is committed.
    pub async fn commit(mut self) -> StoreResult<Vec<Arc<StoredEvent>>> {
        let (numbered, committed) = match self.send_commit().await {
            Ok(sent) => sent,
            Err(e) => {
                // `COMMIT` did not go out: rolled back before the callers
                // hear of it, so the keys it held are free when a retry
                // comes.
                self.rollback().await;
                return Err(e);
            }
        };
        if let Err(e) = committed {
            // The transaction's end is unknown: the connection is closed
            // when `self` drops (see the type's docs).
            return Err(backend(format!(
                "commit failed: {}",
                super::conn::error_text(&e)
            )));
        }
        self.open = false;
        let numbered = numbered.map_err(|e| match e.as_db_error() {
            // Refused by the database: the `COMMIT` rolled back.
            Some(_) => pg(e),
            // Lost on the way back: whether the group committed is unknown
            // (as when a `COMMIT`'s answer is lost); a retry with its
            // idempotency key finds out.
            None => backend(format!(
                "the group's commit is unknown: {}",
                super::conn::error_text(&e)
            )),
        })?;
        let (n, count) = (self.events.len(), self.events.len() as i64);
        let mut out = Vec::with_capacity(n);
        if let Some(numbered) = numbered {
            // Without the counter's row the events' numbers are null and
            // the statement fails (so the group rolled back): never here.
            let numbered = numbered.ok_or_else(|| backend("the event counter row is missing"))?;
            let last: i64 = numbered.get(0);
            let first = (last - count + 1) as u64;
            for (i, (stored, _)) in self.events.iter().enumerate() {
                out.push(Arc::new(StoredEvent {
                    seq: first + i as u64,
                    referral: stored.clone(),
                }));
            }
        }
        Ok(out)
    }

    /// Sends the buffered writes, then the events' numbering with `COMMIT`
    /// right behind it, and returns both answers. An error means `COMMIT`
    /// did not go out: the transaction is still open.
    async fn send_commit(&mut self) -> StoreResult<Sent> {
        self.write_out().await?;
        let n = self.events.len();
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
        let at = secs(self.now);
        // Prepared first, so that it goes out before the `COMMIT` behind it
        // (a request goes out on its first poll).
        let numbering = match n {
            0 => None,
            _ => Some(self.c().prepare_cached(NUMBER_EVENTS).await.map_err(pg)?),
        };
        let params: [&(dyn ToSql + Sync); 5] = [&count, &at, &ids, &accepted, &bodies];
        let numbering = async {
            match &numbering {
                Some(st) => self.c().query_opt(st, &params).await.map(Some),
                None => Ok(None),
            }
        };
        let mut numbering = std::pin::pin!(numbering);
        // The first poll queues the numbering request; it is ready only if
        // it failed before going out (a parameter that would not encode,
        // say): then `COMMIT` must not go out at all.
        match futures::poll!(numbering.as_mut()) {
            Poll::Ready(Err(e)) => Err(pg(e)),
            Poll::Ready(Ok(numbered)) => Ok((Ok(numbered), self.c().batch_execute("COMMIT").await)),
            // If the numbering fails in the database, the transaction is
            // aborted and PostgreSQL answers the `COMMIT` behind it by
            // rolling back.
            Poll::Pending => Ok(futures::join!(numbering, self.c().batch_execute("COMMIT"))),
        }
    }

    /// Sends the buffered writes (everything but the events and `COMMIT`).
    async fn write_out(&mut self) -> StoreResult<()> {
        if self.broken {
            return Err(backend(
                "a statement of the group failed; nothing of it is committed",
            ));
        }
        let writes = std::mem::take(&mut self.writes);
        let flushed = pending::flush(self.c(), writes).await;
        self.sql(flushed)
    }
}

impl WriteTx for PgTx {
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
        let found = read::partner_exists(self.c(), id).await;
        self.sql(found)
    }

    /// Open hops of leads with this domain. Takes a transaction-long lock
    /// on the domain first, so that a concurrent creation with the same
    /// domain (on any server) waits for this transaction and then sees
    /// its hop; sends the finished jobs' writes first, so that it sees
    /// theirs.
    async fn open_hops(&mut self, domain_norm: &str) -> StoreResult<Vec<OpenHop>> {
        self.flush_finished().await?;
        let locked = exec(
            self.c(),
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&DOMAIN_LOCK, &domain_norm],
        )
        .await;
        self.sql(locked)?;
        let found = read::open_hops(self.c(), domain_norm).await;
        self.sql(found)
    }

    /// The referral and its lead id, its row locked until the transaction
    /// ends: as this transaction has it when it read or wrote it before.
    async fn referral_for_update(
        &mut self,
        id: &str,
    ) -> StoreResult<Option<(StoredReferral, String)>> {
        let found = match self.seen.get(id) {
            Some(known) => Some(known.clone()),
            None => {
                let found = read::referral_with_lead(self.c(), id, true).await;
                let found = self.sql(found)?;
                if let Some((stored, lead_id)) = &found {
                    self.seen
                        .insert(id.to_string(), (stored.clone(), lead_id.clone()));
                }
                found
            }
        };
        // A lead's accepted partner as this transaction set it (through
        // another of its hops).
        Ok(found.map(|(mut stored, lead_id)| {
            if let Some(accepted) = self.leads.get(&lead_id) {
                stored.accepted_partner = accepted.clone();
            }
            (stored, lead_id)
        }))
    }

    /// Inserts a new hop (and its lead when it is the first hop) and
    /// appends its event.
    async fn insert(&mut self, stored: &StoredReferral, lead_id: &str) -> StoreResult<()> {
        let r = &stored.referral;
        let body = serde_json::to_string(r).map_err(backend)?;
        if r.parent_id.is_none() {
            self.writes.push(Write::Lead {
                id: lead_id.to_string(),
                accepted: stored.accepted_partner.clone(),
            });
        }
        self.writes.push(Write::Insert {
            row: HopRow::of(stored, body.clone()),
            lead_id: lead_id.to_string(),
            from: r.from_partner.to_string(),
            to: r.to_partner.to_string(),
            domain: r.lead.domain.as_deref().and_then(normalize_domain),
            expires_at: secs(r.expires_at),
        });
        self.keep(stored, lead_id);
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
        let current = self.seen.get(&r.id).map(|(s, _)| s.referral.version);
        if current != Some(before.referral.version) {
            return Err(backend(format!(
                "referral {} changed under the writer",
                r.id
            )));
        }
        let body = serde_json::to_string(r).map_err(backend)?;
        self.writes.push(Write::Update {
            row: HopRow::of(after, body.clone()),
            before: before.referral.version as i64,
        });
        if after.accepted_partner != before.accepted_partner {
            self.writes.push(Write::Accepted {
                lead_id: lead_id.to_string(),
                accepted: after.accepted_partner.clone(),
            });
            let was = self
                .leads
                .insert(lead_id.to_string(), after.accepted_partner.clone());
            self.job.leads.push((lead_id.to_string(), was));
        }
        self.keep(after, lead_id);
        self.events.push((after.clone(), body));
        Ok(())
    }

    async fn idem_taken(
        &mut self,
        user_id: &str,
        key: &str,
        request_hash: &str,
    ) -> StoreResult<Option<IdemTaken>> {
        self.key_taken(user_id, key, request_hash).await
    }

    async fn save_response(
        &mut self,
        user_id: &str,
        key: &str,
        request_hash: &str,
        response: &StoredResponse,
    ) -> StoreResult<()> {
        self.keep_response(user_id, key, request_hash, response)
    }

    /// Ids of pending referrals due now, oldest first, at most `max`
    /// (after sending the finished jobs' writes, so that it sees them).
    async fn due_ids(&mut self, max: usize) -> StoreResult<Vec<String>> {
        self.flush_finished().await?;
        let found = rows(
            self.c(),
            "SELECT id FROM referrals WHERE status = 0 AND expires_at <= $1 \
             ORDER BY expires_at, id LIMIT $2",
            &[&secs(self.now), &limit(max)],
        )
        .await;
        Ok(self.sql(found)?.iter().map(|r| r.get(0)).collect())
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        if self.open
            && let Some(conn) = self.conn.take()
        {
            // Closed, not pooled: see the type's docs.
            drop(deadpool_postgres::Object::take(conn));
        }
    }
}
