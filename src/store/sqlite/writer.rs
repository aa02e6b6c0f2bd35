//! The one writer: a thread that owns the write connection and commits in
//! groups. It drains every queued job, runs them all in one `BEGIN
//! IMMEDIATE` transaction, each inside its own SAVEPOINT (a job that fails
//! rolls back only itself), commits once (one fsync for the group), then
//! publishes the group's events in sequence order and answers each caller.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};

use rusqlite::{Connection, params};
use tokio::sync::broadcast;

use super::read::{self, secs, status_code};
use crate::clock::SharedClock;
use crate::domain::validate::normalize_domain;
use crate::domain::{OpenHop, StoredReferral};
use crate::store::write::{Kept, WriteTx, judge_kept};
use crate::store::{IdemTaken, StoreError, StoreResult, StoredEvent, StoredResponse};
use crate::wire::Timestamp;

/// A group stops taking jobs once their weights (items) reach this, so
/// that a burst of large batches cannot make one huge transaction that
/// every small write queued behind it waits for.
const MAX_GROUP_WEIGHT: usize = 2048;

pub use crate::store::write::IDEM_RETENTION_SECS;

/// What a job tells the writer: whether it succeeded (else its savepoint is
/// rolled back), and how to answer its caller once the group's commit is
/// known (`Some(error)` when the commit failed).
pub type Finish = Box<dyn FnOnce(Option<&str>) + Send>;

/// A unit of work run inside the group's transaction.
pub type Job = Box<dyn FnOnce(&mut Ctx<'_>) -> (bool, Finish) + Send>;

/// A job as queued, with its weight (how many items it writes, about).
pub struct Queued {
    /// About how many rows the job changes (1 for a single action).
    pub weight: usize,
    /// The work.
    pub job: Job,
}

/// What a job sees: the connection inside the transaction, the group's
/// time, and the events it appends.
pub struct Ctx<'c> {
    /// The writer's connection, inside the group's transaction.
    pub conn: &'c Connection,
    /// The group's time (whole seconds).
    pub now: Timestamp,
    /// Events appended so far in this group, in seq order.
    pub events: Vec<Arc<StoredEvent>>,
    ids: &'c mut ulid::Generator,
}

pub(crate) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl Ctx<'_> {
    /// A fresh, increasing id with this prefix (`r_`, `u_`).
    pub fn new_id(&mut self, prefix: &str) -> String {
        let id = self.ids.generate().unwrap_or_else(|_| ulid::Ulid::new());
        format!("{prefix}{id}")
    }

    /// Appends an event holding the referral as stored now.
    fn event(&mut self, stored: &StoredReferral, body: &str) -> rusqlite::Result<()> {
        let mut st = self.conn.prepare_cached(
            "INSERT INTO events (at, referral_id, accepted_partner, body) VALUES (?1, ?2, ?3, ?4)",
        )?;
        st.execute(params![
            secs(self.now),
            stored.referral.id,
            stored.accepted_partner,
            body
        ])?;
        let seq = self.conn.last_insert_rowid() as u64;
        self.events.push(Arc::new(StoredEvent {
            seq,
            referral: stored.clone(),
        }));
        Ok(())
    }

    /// Inserts a new hop (and its lead when it is the first hop).
    fn insert(&mut self, stored: &StoredReferral, lead_id: &str) -> Result<(), StoreError> {
        let r = &stored.referral;
        let body = serde_json::to_string(r).map_err(backend)?;
        if r.parent_id.is_none() {
            let mut st = self
                .conn
                .prepare_cached("INSERT INTO leads (id, accepted_partner) VALUES (?1, ?2)")
                .map_err(backend)?;
            st.execute(params![lead_id, stored.accepted_partner])
                .map_err(backend)?;
        }
        let domain = r.lead.domain.as_deref().and_then(normalize_domain);
        let mut st = self
            .conn
            .prepare_cached(
                "INSERT INTO referrals (id, lead_id, status, from_partner, to_partner, \
                 domain_norm, expires_at, version, body) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(backend)?;
        st.execute(params![
            r.id,
            lead_id,
            status_code(r.status),
            r.from_partner.as_str(),
            r.to_partner.as_str(),
            domain,
            secs(r.expires_at),
            r.version as i64,
            body
        ])
        .map_err(backend)?;
        self.event(stored, &body).map_err(backend)
    }

    /// Writes a changed hop, guarded by the version it was read at.
    fn update(
        &mut self,
        before: &StoredReferral,
        after: &StoredReferral,
        lead_id: &str,
    ) -> Result<(), StoreError> {
        let r = &after.referral;
        let body = serde_json::to_string(r).map_err(backend)?;
        let mut st = self
            .conn
            .prepare_cached(
                "UPDATE referrals SET status = ?1, version = ?2, body = ?3 \
                 WHERE id = ?4 AND version = ?5",
            )
            .map_err(backend)?;
        let n = st
            .execute(params![
                status_code(r.status),
                r.version as i64,
                body,
                r.id,
                before.referral.version as i64
            ])
            .map_err(backend)?;
        if n != 1 {
            return Err(backend(format!(
                "referral {} changed under the writer",
                r.id
            )));
        }
        if after.accepted_partner != before.accepted_partner {
            let mut st = self
                .conn
                .prepare_cached("UPDATE leads SET accepted_partner = ?1 WHERE id = ?2")
                .map_err(backend)?;
            st.execute(params![after.accepted_partner, lead_id])
                .map_err(backend)?;
        }
        self.event(after, &body).map_err(backend)
    }

    /// Keeps a response under an idempotency key (replacing an expired one).
    pub fn save_response(
        &self,
        user_id: &str,
        key: &str,
        request_hash: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "INSERT INTO idempotency (user_id, key, request_hash, status, body, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (user_id, key) DO UPDATE SET request_hash = excluded.request_hash, \
                 status = excluded.status, body = excluded.body, created_at = excluded.created_at \
                 WHERE idempotency.created_at <= ?7",
            )
            .map_err(backend)?;
        let now = secs(self.now);
        let n = st
            .execute(params![
                user_id,
                key,
                request_hash,
                i64::from(response.status),
                response.body,
                now,
                now - IDEM_RETENTION_SECS
            ])
            .map_err(backend)?;
        if n == 0 {
            return Err(backend(format!(
                "idempotency key {key:?} already holds a response"
            )));
        }
        Ok(())
    }
}

impl WriteTx for Ctx<'_> {
    fn now(&self) -> Timestamp {
        self.now
    }

    fn new_id(&mut self, prefix: &str) -> String {
        Ctx::new_id(self, prefix)
    }

    async fn partner_exists(&mut self, id: &str) -> StoreResult<bool> {
        read::partner_exists(self.conn, id).map_err(backend)
    }

    async fn open_hops(&mut self, domain_norm: &str) -> StoreResult<Vec<OpenHop>> {
        read::open_hops(self.conn, domain_norm).map_err(backend)
    }

    async fn referral_for_update(
        &mut self,
        id: &str,
    ) -> StoreResult<Option<(StoredReferral, String)>> {
        // The writer holds the only write transaction: nothing else changes
        // the row before the commit.
        read::referral_with_lead(self.conn, id).map_err(backend)
    }

    async fn insert(&mut self, stored: &StoredReferral, lead_id: &str) -> StoreResult<()> {
        Ctx::insert(self, stored, lead_id)
    }

    async fn update(
        &mut self,
        before: &StoredReferral,
        after: &StoredReferral,
        lead_id: &str,
    ) -> StoreResult<()> {
        Ctx::update(self, before, after, lead_id)
    }

    async fn idem_taken(
        &mut self,
        user_id: &str,
        key: &str,
        request_hash: &str,
    ) -> StoreResult<Option<IdemTaken>> {
        // The writer holds the only write transaction, and the server's
        // claims are in its memory: only a kept answer can take the key.
        let kept = kept_row(self.conn, user_id, key).map_err(backend)?;
        judge_kept(kept, request_hash, secs(self.now))
    }

    async fn save_response(
        &mut self,
        user_id: &str,
        key: &str,
        request_hash: &str,
        response: &StoredResponse,
    ) -> StoreResult<()> {
        Ctx::save_response(self, user_id, key, request_hash, response)
    }

    async fn due_ids(&mut self, limit: usize) -> StoreResult<Vec<String>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT id FROM referrals WHERE status = 0 AND expires_at <= ?1 \
                 ORDER BY expires_at, id LIMIT ?2",
            )
            .map_err(backend)?;
        st.query_map(params![secs(self.now), limit as i64], |r| r.get(0))
            .map_err(backend)?
            .collect::<rusqlite::Result<_>>()
            .map_err(backend)
    }
}

/// Runs one of [`crate::store::write`]'s orchestrations over the writer's
/// transaction. Every primitive of [`Ctx`] is a plain call, so the future
/// is ready at once.
pub fn drive<F: std::future::Future>(orchestration: F) -> F::Output {
    futures::executor::block_on(orchestration)
}

/// The writer thread's loop: runs until every sender is gone.
/// `commits` counts the group transactions it has committed.
pub fn run(
    mut conn: Connection,
    jobs: Receiver<Queued>,
    clock: SharedClock,
    events: broadcast::Sender<Arc<StoredEvent>>,
    commits: Arc<AtomicU64>,
) {
    let mut ids = ulid::Generator::new();
    while let Ok(first) = jobs.recv() {
        let mut weight = first.weight.max(1);
        let mut group = vec![first.job];
        while weight < MAX_GROUP_WEIGHT {
            match jobs.try_recv() {
                Ok(q) => {
                    weight += q.weight.max(1);
                    group.push(q.job);
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        run_group(&mut conn, &mut ids, group, &clock, &events, &commits);
    }
}

fn run_group(
    conn: &mut Connection,
    ids: &mut ulid::Generator,
    group: Vec<Job>,
    clock: &SharedClock,
    events: &broadcast::Sender<Arc<StoredEvent>>,
    commits: &AtomicU64,
) {
    let started = std::time::Instant::now();
    let mut finishes: Vec<Finish> = Vec::with_capacity(group.len());
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        // The jobs never run; dropping them drops their reply channels, so
        // each caller gets a backend error.
        tracing::warn!(error = %e, "store: cannot begin a write transaction");
        drop(group);
        return;
    }
    // Whole seconds, as the wire carries them, whatever the clock gives.
    let now = chrono::SubsecRound::trunc_subsecs(clock.now(), 0);
    let mut ctx = Ctx {
        conn,
        now,
        events: Vec::new(),
        ids,
    };
    for job in group {
        let mark = ctx.events.len();
        if let Err(e) = ctx
            .conn
            .prepare_cached("SAVEPOINT job")
            .and_then(|mut s| s.execute([]))
        {
            tracing::warn!(error = %e, "store: savepoint");
            drop(job);
            continue;
        }
        // A job that panics (a caller's render, say) is rolled back alone;
        // its caller's reply channel is dropped, which answers it with an
        // error, and the writer lives on.
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut ctx)));
        let (ok, finish) = match ran {
            Ok((ok, finish)) => (ok, Some(finish)),
            Err(_) => {
                tracing::warn!("store: a write job panicked; rolled back");
                (false, None)
            }
        };
        if ok {
            let _ = ctx
                .conn
                .prepare_cached("RELEASE job")
                .and_then(|mut s| s.execute([]));
        } else {
            ctx.events.truncate(mark);
            let _ = ctx.conn.execute_batch("ROLLBACK TO job; RELEASE job");
        }
        finishes.extend(finish);
    }
    let group_events = std::mem::take(&mut ctx.events);
    drop(ctx);
    let ran = started.elapsed();
    let committed = conn.execute_batch("COMMIT");
    tracing::debug!(
        jobs = finishes.len(),
        events = group_events.len(),
        run_us = ran.as_micros() as u64,
        commit_us = (started.elapsed() - ran).as_micros() as u64,
        "store: group commit"
    );
    match committed {
        Ok(()) => {
            // Counted before anyone is answered, so a caller reads it current.
            commits.fetch_add(1, Ordering::Release);
            for ev in group_events {
                let _ = events.send(ev);
            }
            for f in finishes {
                f(None);
            }
        }
        Err(e) => {
            let msg = e.to_string();
            tracing::warn!(error = %msg, "store: group commit failed");
            let _ = conn.execute_batch("ROLLBACK");
            for f in finishes {
                f(Some(&msg));
            }
        }
    }
}

/// Reads the row kept under a user's key, if any.
pub fn kept_row(c: &Connection, user_id: &str, key: &str) -> rusqlite::Result<Option<Kept>> {
    let mut st = c.prepare_cached(
        "SELECT request_hash, status, body, created_at FROM idempotency \
         WHERE user_id = ?1 AND key = ?2",
    )?;
    rusqlite::OptionalExtension::optional(st.query_row(params![user_id, key], |r| {
        Ok(Kept {
            request_hash: r.get(0)?,
            status: r.get(1)?,
            body: r.get(2)?,
            at: r.get(3)?,
        })
    }))
}
