//! Group commit: a few writer tasks per server, each taking every queued
//! write job, running them in one transaction (a job that fails is undone
//! alone, in memory: see [`PgTx::end_job`]), and committing once: one
//! prefetch of what the jobs named, one round of set-based writes, one
//! round of event numbering and one flush for the whole group.
//! Callers are answered once the commit is known; the group's events are
//! published after it.
//!
//! A job runs on the writer's task, not its caller's: a caller that goes
//! away (a client disconnecting) cannot leave a transaction half done.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::listen::Feed;
use super::write::{Hint, PgTx};
use crate::clock::SharedClock;
use crate::store::write::answer_after_commit;
use crate::store::{StoreError, StoreResult};

/// Writer tasks per server (each holds one pooled connection while it
/// runs a group). Two: one group can run its statements while the other
/// waits for its commit's flush. Measured at 64 clients on two cores
/// (docs/PERFORMANCE.md, "Session 10"): against four, PostgreSQL's CPU
/// per accept fell by a sixth (fuller groups) and accepts/s rose in every
/// case; one writer spent less still but gave no more accepts/s.
pub const WRITERS: usize = 2;
/// How many times a writer that finds the queue empty lets the runtime's
/// other ready tasks run before it closes its group (microseconds each):
/// requests about to queue a job then join this group instead of waiting
/// for the next. Measured at 64 clients (docs/PERFORMANCE.md): 2 cut
/// PostgreSQL's CPU per accept by about a sixth; 8 made it slower.
const GATHER_YIELDS: usize = 2;
/// A group stops taking jobs once their weights (items) reach this, so
/// that a burst of large batches cannot make one huge transaction.
const MAX_GROUP_WEIGHT: usize = 2048;

/// How a job's caller is answered once the commit is known
/// (`Some(error)` when the commit failed).
type Finish = Box<dyn FnOnce(Option<&str>) + Send>;

/// A unit of work run inside a group's transaction: whether it succeeded
/// (else what it did is undone in memory: [`PgTx::end_job`]) and how to
/// answer its caller.
type Job = Box<dyn for<'a> FnOnce(&'a mut PgTx) -> BoxFuture<'a, (bool, Finish)> + Send>;

struct Queued {
    weight: usize,
    hint: Hint,
    job: Job,
}

/// The queue in front of the writer tasks. Dropping it closes the queue:
/// the tasks run what is queued and end (nothing is cut off mid-transaction).
pub struct Writer {
    jobs: mpsc::UnboundedSender<Queued>,
    tasks: Vec<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer tasks.
    pub fn start(pool: deadpool_postgres::Pool, clock: SharedClock, feed: Arc<Feed>) -> Writer {
        let (jobs, queue) = mpsc::unbounded_channel();
        let queue = Arc::new(Mutex::new(queue));
        let tasks = (0..WRITERS)
            .map(|_| {
                tokio::spawn(run(
                    queue.clone(),
                    pool.clone(),
                    clock.clone(),
                    feed.clone(),
                ))
            })
            .collect();
        Writer { jobs, tasks }
    }

    /// Whether every writer task has stopped.
    pub fn stopped(&self) -> bool {
        self.tasks.iter().all(|t| t.is_finished())
    }

    /// Runs `f` in a group's transaction and waits until the group has
    /// committed. `weight`: about how many rows it changes; `hint`: what
    /// it will read (read for the whole group at once, beforehand).
    pub async fn submit<T: Send + 'static>(
        &self,
        weight: usize,
        hint: Hint,
        f: impl for<'a> FnOnce(&'a mut PgTx) -> BoxFuture<'a, StoreResult<T>> + Send + 'static,
    ) -> StoreResult<T> {
        let (answer, answered) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |tx| {
            Box::pin(async move {
                let result = f(tx).await;
                let ok = result.is_ok();
                let finish: Finish = Box::new(move |commit_error| {
                    let _ = answer.send(answer_after_commit(result, commit_error));
                });
                (ok, finish)
            })
        });
        self.jobs
            .send(Queued { weight, hint, job })
            .map_err(|_| StoreError::Backend("the store's writers have stopped".into()))?;
        answered.await.map_err(|_| {
            StoreError::Backend("PostgreSQL unavailable: the write did not run".into())
        })?
    }
}

async fn run(
    queue: Arc<Mutex<mpsc::UnboundedReceiver<Queued>>>,
    pool: deadpool_postgres::Pool,
    clock: SharedClock,
    feed: Arc<Feed>,
) {
    loop {
        let group = {
            let mut queue = queue.lock().await;
            let Some(first) = queue.recv().await else {
                return;
            };
            let mut weight = first.weight.max(1);
            let mut hint = first.hint;
            let mut group = vec![first.job];
            let mut yields = GATHER_YIELDS;
            while weight < MAX_GROUP_WEIGHT {
                match queue.try_recv() {
                    Ok(q) => {
                        weight += q.weight.max(1);
                        hint.referrals.extend(q.hint.referrals);
                        hint.keys.extend(q.hint.keys);
                        group.push(q.job);
                    }
                    Err(_) if yields > 0 => {
                        // Requests that are ready to run (on this runtime)
                        // may be about to queue a job: let them, once or
                        // twice, before the group closes.
                        yields -= 1;
                        tokio::task::yield_now().await;
                    }
                    Err(_) => break,
                }
            }
            (hint, group)
        };
        run_group(&pool, &clock, &feed, group.0, group.1).await;
    }
}

async fn run_group(
    pool: &deadpool_postgres::Pool,
    clock: &SharedClock,
    feed: &Feed,
    hint: Hint,
    group: Vec<Job>,
) {
    let started = std::time::Instant::now();
    let conn = match super::conn::get(pool).await {
        Ok(c) => c,
        Err(e) => {
            // The jobs never run; dropping them answers each caller.
            tracing::warn!(error = %e, jobs = group.len(), "store: cannot write");
            return;
        }
    };
    let mut tx = match PgTx::begin(conn, clock.now(), &hint).await {
        Ok(tx) => tx,
        Err(e) => {
            tracing::warn!(error = %e, jobs = group.len(), "store: cannot begin a write");
            return;
        }
    };
    let mut finishes: Vec<Finish> = Vec::with_capacity(group.len());
    let mut any_ok = false;
    for job in group {
        // A job that panics (a caller's render, say) is undone alone; its
        // caller's answer channel is dropped, which answers it with an
        // error, and the writer lives on.
        tx.begin_job();
        let (ok, finish) = match AssertUnwindSafe(job(&mut tx)).catch_unwind().await {
            Ok((ok, finish)) => (ok, Some(finish)),
            Err(_) => {
                tracing::warn!("store: a write job panicked; undone");
                (false, None)
            }
        };
        tx.end_job(ok);
        any_ok |= ok;
        finishes.extend(finish);
    }
    if !any_ok {
        // Nothing to commit: roll back, and only then answer each caller
        // with its own error (the idempotency keys the transaction held
        // are free by then: a retry does not find its own key in flight).
        tx.rollback().await;
        for f in finishes {
            f(None);
        }
        return;
    }
    let ran = started.elapsed();
    let committed = tx.commit().await;
    tracing::debug!(
        jobs = finishes.len(),
        run_us = ran.as_micros() as u64,
        commit_us = (started.elapsed() - ran).as_micros() as u64,
        "store: PostgreSQL group commit"
    );
    match committed {
        Ok(events) => {
            feed.publish_committed(&events);
            for f in finishes {
                f(None);
            }
        }
        Err(e) => {
            let msg = e.to_string();
            tracing::warn!(error = %msg, "store: group commit failed");
            for f in finishes {
                f(Some(&msg));
            }
        }
    }
}
