//! How a write transaction ends: committed, rolled back, failed at its
//! last statement, or dropped mid-way; and what its connection is then.

use std::time::{Duration, Instant};

use super::idempotency::key_held;
use super::*;
use crate::clock::Clock;

/// A write transaction that is dropped while open (its task cancelled
/// mid-group) must not go back to the pool inside its transaction: the
/// next group would run in it, holding its keys. Its connection is closed
/// instead, which ends the transaction and frees the keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_dropped_mid_transaction_frees_its_keys_and_pools_nothing_open() {
    let w = world_or_skip!();
    let user = w.actor("acme").user_id.clone();
    let admin = admin(&w.db.url).await;
    let conn = conn::get(&w.a.pool).await.unwrap();
    let pid: i32 = conn
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let hint = write::Hint {
        referrals: Vec::new(),
        keys: vec![(user.clone(), "k".into())],
    };
    let tx = write::PgTx::begin(conn, w.clock.now(), &hint)
        .await
        .unwrap();
    assert!(
        key_held(&admin, &user, "k").await,
        "BEGIN and the key's lock went out together"
    );
    drop(tx);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let alive: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
                &[&pid],
            )
            .await
            .unwrap()
            .get(0);
        if alive == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the dropped write's backend still runs"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!key_held(&admin, &user, "k").await);
    // Every connection the pool hands out now is outside a transaction
    // (SAVEPOINT fails outside one).
    let mut pooled = Vec::new();
    for _ in 0..w.a.pool.status().size.max(1) {
        let conn = conn::get(&w.a.pool).await.unwrap();
        let outside = conn.batch_execute("SAVEPOINT s").await.is_err();
        assert!(outside, "a pooled connection was inside a transaction");
        pooled.push(conn);
    }
}

/// Committed or rolled back, a write's connection goes back to the pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_write_pools_its_connection() {
    let w = world_or_skip!();
    let hint = write::Hint::default();
    for commit in [true, false] {
        let before = w.a.pool.status();
        let tx = write::PgTx::begin(conn::get(&w.a.pool).await.unwrap(), w.clock.now(), &hint)
            .await
            .unwrap();
        if commit {
            tx.commit().await.unwrap();
        } else {
            tx.rollback().await;
        }
        let after = w.a.pool.status();
        assert_eq!(
            (after.size, after.available),
            (before.size.max(1), before.available.max(1)),
            "commit {commit}: {before:?} → {after:?}"
        );
    }
}

/// The events are numbered in the same round trip as `COMMIT`: when that
/// statement fails (here: the counter's row gone), the `COMMIT` behind it
/// rolls back, so nothing the group wrote stays, its key keeps nothing,
/// and the caller hears an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_whose_numbering_fails_commits_nothing() {
    let w = world_or_skip!();
    let r = w.send(&w.a, "north", None).await;
    let admin = admin(&w.db.url).await;
    admin.batch_execute("DELETE FROM event_seq").await.unwrap();
    let user = w.actor("acme").user_id.clone();
    let failed =
        w.a.apply(
            w.actor("acme"),
            accept(&r.referral.id, 1),
            Some(idem(&user, "k", "h")),
        )
        .await;
    assert!(
        matches!(&failed, Err(StoreError::Backend(e)) if e.contains("events")),
        "{failed:?}"
    );
    assert_eq!(w.b.get(&r.referral.id).await.unwrap().unwrap(), r);
    let kept: i64 = admin
        .query_one("SELECT count(*) FROM idempotency", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, 0);
    assert!(!key_held(&admin, &user, "k").await);
    assert_eq!(w.b.events_after(0, 10).await.unwrap().len(), 1);
    // The counter back, the same request runs.
    admin
        .batch_execute("INSERT INTO event_seq (id, last) SELECT 1, max(seq) FROM events")
        .await
        .unwrap();
    w.a.idem_release(&user, "k").await.unwrap();
    let done =
        w.a.apply(
            w.actor("acme"),
            accept(&r.referral.id, 1),
            Some(idem(&user, "k", "h")),
        )
        .await
        .unwrap();
    assert_eq!(done[0].as_ref().unwrap().referral.referral.version, 2);
    let seqs: Vec<u64> =
        w.b.events_after(0, 10)
            .await
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
    assert_eq!(seqs, vec![1, 2]);
}
