//! Idempotency keys across servers: claimed in each server's memory,
//! held by the write's own transaction against the others.

use std::time::{Duration, Instant};

use super::*;

/// Whether some session holds the transaction lock of this user's key.
pub(super) async fn key_held(admin: &tokio_postgres::Client, user: &str, key: &str) -> bool {
    admin
        .query_one(
            "SELECT count(*) FROM pg_locks, \
             (SELECT hashtextextended($1 || E'\\n' || $2, $3) AS h) AS k \
             WHERE locktype = 'advisory' AND granted AND objsubid = 1 \
             AND classid = ((k.h >> 32) & 4294967295)::oid \
             AND objid = (k.h & 4294967295)::oid",
            &[&user, &key, &write::KEY_LOCK_SEED],
        )
        .await
        .unwrap()
        .get::<_, i64>(0)
        > 0
}

fn response(status: u16, body: &str) -> StoredResponse {
    StoredResponse {
        status,
        body: body.as_bytes().to_vec(),
    }
}

fn taken(result: StoreResult<Vec<ItemResult>>) -> IdemTaken {
    match result {
        Err(StoreError::Taken(t)) => t,
        other => panic!("expected the key taken, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_claimed_on_one_server_is_in_flight_there_until_released() {
    let w = world_or_skip!();
    let user = w.actor("acme").user_id.clone();
    assert_eq!(
        w.a.idem_claim(&user, "k", "h").await.unwrap(),
        IdemClaim::Claimed
    );
    assert_eq!(
        w.a.idem_claim(&user, "k", "h").await.unwrap(),
        IdemClaim::Taken(IdemTaken::InFlight)
    );
    w.a.idem_release(&user, "k").await.unwrap();
    assert_eq!(
        w.a.idem_claim(&user, "k", "h").await.unwrap(),
        IdemClaim::Claimed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_running_on_one_server_is_in_flight_on_another_then_replays() {
    let w = world_or_skip!();
    let acme = w.actor("acme").clone();
    let user = acme.user_id.clone();
    let (r1, r2) = (
        w.send(&w.a, "north", None).await,
        w.send(&w.a, "north", None).await,
    );
    let (r1, r2) = (r1.referral.id, r2.referral.id);
    // Another session holds r1's row: A's write gets the key, then waits
    // for the row inside its transaction.
    let mut blocker = admin(&w.db.url).await;
    let hold = blocker.transaction().await.unwrap();
    hold.execute("SELECT 1 FROM referrals WHERE id = $1 FOR UPDATE", &[&r1])
        .await
        .unwrap();
    let watcher = admin(&w.db.url).await;
    let first =
        w.a.apply(&acme, accept(&r1, 1), Some(idem(&user, "k1", "h1")));
    let meanwhile = async {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !key_held(&watcher, &user, "k1").await {
            assert!(Instant::now() < deadline, "A's write never held the key");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // On B, the same key (even for another referral) is in flight, and
        // nothing is written.
        assert_eq!(
            taken(
                w.b.apply(&acme, accept(&r2, 1), Some(idem(&user, "k1", "h1")))
                    .await
            ),
            IdemTaken::InFlight
        );
        assert!(matches!(
            w.b.save_response(&user, "k1", "h1", response(400, "no"))
                .await,
            Err(StoreError::Taken(IdemTaken::InFlight))
        ));
        hold.rollback().await.unwrap();
    };
    let (first, ()) = tokio::join!(first, meanwhile);
    assert!(first.unwrap()[0].is_ok());
    // Once committed, B replays A's answer, or refuses another request.
    assert_eq!(
        taken(
            w.b.apply(&acme, accept(&r2, 1), Some(idem(&user, "k1", "h1")))
                .await
        ),
        IdemTaken::Replay(StoredResponse {
            status: 201,
            body: b"1".to_vec()
        })
    );
    assert_eq!(
        taken(
            w.b.apply(&acme, accept(&r2, 1), Some(idem(&user, "k1", "other")))
                .await
        ),
        IdemTaken::Mismatch
    );
    assert!(matches!(
        w.b.save_response(&user, "k1", "h1", response(400, "no"))
            .await,
        Err(StoreError::Taken(IdemTaken::Replay(_)))
    ));
    // Nothing ran twice: two sends and one accept; r2 is untouched.
    assert_eq!(w.b.last_seq().await.unwrap(), 3);
    assert_eq!(w.b.get(&r2).await.unwrap().unwrap().referral.version, 1);
    // A kept answer of a request that reached no write replays too.
    w.b.save_response(&user, "k2", "h", response(400, "bad"))
        .await
        .unwrap();
    assert!(matches!(
        w.a.save_response(&user, "k2", "h", response(400, "bad"))
            .await,
        Err(StoreError::Taken(IdemTaken::Replay(s))) if s.body == b"bad"
    ));
    // Past retention the key is free again.
    w.clock.advance(chrono::Duration::seconds(
        write_ops::IDEM_RETENTION_SECS + 1,
    ));
    let again =
        w.a.apply(&acme, accept(&r2, 1), Some(idem(&user, "k1", "h1")))
            .await;
    assert!(again.unwrap()[0].is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_key_sent_to_two_servers_at_once_runs_once() {
    let w = world_or_skip!();
    let north = w.actor("north").clone();
    let user = north.user_id.clone();
    for round in 0..20 {
        let key = format!("same-{round}");
        let (x, y) = tokio::join!(
            w.a.create(
                &north,
                request("acme-web", None),
                Some(idem(&user, &key, "h"))
            ),
            w.b.create(
                &north,
                request("acme-web", None),
                Some(idem(&user, &key, "h"))
            )
        );
        let (ran, refused): (Vec<_>, Vec<_>) = [x, y].into_iter().partition(|r| r.is_ok());
        assert_eq!(ran.len(), 1, "round {round}: {ran:?} {refused:?}");
        // The other met the key held (in flight) or, after the commit,
        // kept (a replay): never a failed group, never a second lead.
        assert!(
            matches!(
                &refused[0],
                Err(StoreError::Taken(
                    IdemTaken::InFlight | IdemTaken::Replay(_)
                ))
            ),
            "round {round}: {:?}",
            refused[0]
        );
    }
    assert_eq!(w.a.last_seq().await.unwrap(), 20);
}
