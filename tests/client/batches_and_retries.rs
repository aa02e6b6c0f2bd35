//! Batches (each item applied on its own) and retries: the same
//! idempotency key after a lost answer does not act twice.

use super::*;

#[tokio::test]
async fn batch_applies_items_independently() {
    let w = World::start().await;
    let a = w.send_from_northwind("acme-web", "Batch A", None).await;
    let b = w.send_from_northwind("acme-web", "Batch B", None).await;
    let acme = w.client(&w.acme);
    acme.accept(&b.id, &accept(1), &new_idempotency_key())
        .await
        .unwrap();
    let request = BatchRequest {
        items: vec![
            BatchItem {
                id: a.id.clone(),
                action: BatchAction::Accept(accept(1)),
            },
            BatchItem {
                id: b.id.clone(),
                action: BatchAction::Accept(accept(1)),
            },
            BatchItem {
                id: "r_nonexistent".into(),
                action: BatchAction::Withdraw(WithdrawRequest { version: 1 }),
            },
        ],
    };
    let got = acme.batch(&request, &new_idempotency_key()).await.unwrap();
    let outcomes: Vec<BatchOutcome> = got.results.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        [
            BatchOutcome::Applied,
            BatchOutcome::Conflict,
            BatchOutcome::NotFound
        ]
    );
    assert_eq!(
        got.results[0].referral.as_ref().unwrap().status,
        Status::Accepted
    );
    let conflict = got.results[1].error.as_ref().unwrap();
    assert_eq!(conflict.current.as_ref().unwrap().version, 2);
    assert_eq!(
        (
            got.summary.applied,
            got.summary.conflict,
            got.summary.not_found
        ),
        (1, 1, 1)
    );

    let e = acme
        .batch(&BatchRequest { items: vec![] }, &new_idempotency_key())
        .await
        .unwrap_err();
    expect_api(&e, 422, ErrorCode::Invalid);
}

#[tokio::test]
async fn a_retry_with_the_same_key_after_a_lost_answer_does_not_act_twice() {
    let w = World::start().await;
    let r = w.send_from_northwind("acme-web", "Once Only", None).await;
    let acme = w.client(&w.acme);
    let key = new_idempotency_key();

    // The first attempt reaches the server, which accepts; its answer is
    // "lost" on the way back. The retry sends the same key.
    let attempts = AtomicU32::new(0);
    let mut retries = Vec::new();
    let got = retry_until_definite(
        Backoff::new(Duration::from_millis(10), Duration::from_millis(50)),
        || {
            let n = attempts.fetch_add(1, Ordering::SeqCst);
            let (acme, id, key) = (acme.clone(), r.id.clone(), key.clone());
            async move {
                let answer = acme
                    .post_answer::<_, Referral>(
                        &["v1", "referrals", &id, "accept"],
                        &accept(1),
                        &key,
                    )
                    .await?;
                if n == 0 {
                    return Err(ClientError::Network(
                        "connection lost: connection reset".into(),
                    ));
                }
                Ok(answer)
            }
        },
        |n, e, _| retries.push((n, e.to_string())),
    )
    .await
    .unwrap();
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    assert_eq!(
        retries,
        [(1, "connection lost: connection reset".to_string())]
    );
    assert!(got.replayed, "the second answer is the stored one");
    assert_eq!((got.value.status, got.value.version), (Status::Accepted, 2));

    // Once more with the typed method: replayed again, nothing changes.
    let again = acme.accept(&r.id, &accept(1), &key).await.unwrap();
    assert_eq!(again, got.value);
    assert_eq!(
        acme.get(&r.id).await.unwrap().version,
        2,
        "accepted exactly once"
    );

    // A fresh key with the same stale version is a real conflict.
    let e = acme
        .accept(&r.id, &accept(1), &new_idempotency_key())
        .await
        .unwrap_err();
    expect_api(&e, 409, ErrorCode::Conflict);
    // The same key with a different request: 422 idempotency_mismatch.
    let e = acme.accept(&r.id, &accept(2), &key).await.unwrap_err();
    expect_api(&e, 422, ErrorCode::IdempotencyMismatch);
    assert!(e.is_definite());

    // A first answer that was an error is replayed as that error.
    let first = acme
        .post_answer::<_, Referral>(
            &["v1", "referrals", &r.id, "withdraw"],
            &WithdrawRequest { version: 2 },
            "k-403",
        )
        .await
        .unwrap_err();
    expect_api(&first, 403, ErrorCode::Forbidden);
    let second = acme
        .withdraw(&r.id, &WithdrawRequest { version: 2 }, "k-403")
        .await
        .unwrap_err();
    expect_api(&second, 403, ErrorCode::Forbidden);

    // A send retried with its key creates one referral, not two.
    let north = w.client(&w.northwind);
    let send_key = new_idempotency_key();
    let one = north
        .send(&lead("acme-web", "Sent Once", None), &send_key)
        .await
        .unwrap();
    let two = north
        .send(&lead("acme-web", "Sent Once", None), &send_key)
        .await
        .unwrap();
    assert_eq!(one.id, two.id);
    let (mine, _) = north.list_all(ReferralBox::Outgoing).await.unwrap();
    assert_eq!(
        mine.iter()
            .filter(|r| r.lead.company == "Sent Once")
            .count(),
        1
    );
}
