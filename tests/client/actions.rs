//! One action at a time: accept, reject, withdraw, close and forward, and
//! the conflict each answers with the referral as it is now.

use super::*;

#[tokio::test]
async fn accept_and_its_conflict_with_current() {
    let w = World::start().await;
    let r = w
        .send_from_northwind("acme-web", "Main Street Bakery", Some("bakery.example"))
        .await;
    assert_eq!((r.version, r.status), (1, Status::Pending));
    let acme = w.client(&w.acme);
    assert_eq!(acme.get(&r.id).await.unwrap().id, r.id);

    let a = acme
        .accept(&r.id, &accept(1), &new_idempotency_key())
        .await
        .unwrap();
    assert_eq!((a.version, a.status), (2, Status::Accepted));
    assert_eq!(a.decided_by.as_ref().unwrap().name, "Dana Reyes");
    assert!(!a.contact_masked, "the accepting partner sees the contact");

    // A second accept at the version the person saw: 409 with current.
    let e = acme
        .accept(&r.id, &accept(1), &new_idempotency_key())
        .await
        .unwrap_err();
    expect_api(&e, 409, ErrorCode::Conflict);
    assert!(e.is_definite() && !e.is_retryable());
    let current = e.current().expect("current on a conflict");
    assert_eq!((current.version, current.status), (2, Status::Accepted));
    let shown = e.to_string();
    assert!(
        shown.starts_with("conflict: accepted by Dana Reyes (acme-web) at "),
        "{shown}"
    );

    // Not the recipient: 403; not visible: 404; a viewer: 403.
    let e = w
        .client(&w.northwind)
        .accept(&r.id, &accept(2), &new_idempotency_key())
        .await
        .unwrap_err();
    expect_api(&e, 403, ErrorCode::Forbidden);
    let e = w.client(&w.harbor).get(&r.id).await.unwrap_err();
    expect_api(&e, 404, ErrorCode::NotFound);
    let e = w
        .client(&w.acme_viewer)
        .accept(&r.id, &accept(2), &new_idempotency_key())
        .await
        .unwrap_err();
    expect_api(&e, 403, ErrorCode::Forbidden);

    // A duplicate domain while the lead is open.
    let e = w
        .client(&w.northwind)
        .send(
            &lead("harbor-host", "Bakery again", Some("www.Bakery.example")),
            &new_idempotency_key(),
        )
        .await
        .unwrap_err();
    expect_api(&e, 409, ErrorCode::Duplicate);
    let ClientError::Api { error, .. } = &e else {
        unreachable!()
    };
    assert_eq!(error.existing_id.as_deref(), Some(r.id.as_str()));
}

#[tokio::test]
async fn reject_withdraw_close_and_forward_with_their_conflicts() {
    let w = World::start().await;
    let acme = w.client(&w.acme);
    let north = w.client(&w.northwind);

    // reject
    let r = w.send_from_northwind("acme-web", "Rejected Co", None).await;
    let reject = RejectRequest {
        version: 1,
        reason: ReasonInput {
            code: ReasonCode::WrongPartner,
            note: Some("we do design".into()),
        },
    };
    let got = acme
        .reject(&r.id, &reject, &new_idempotency_key())
        .await
        .unwrap();
    assert_eq!((got.status, got.version), (Status::Rejected, 2));
    assert_eq!(got.reason.unwrap().code, ReasonCode::WrongPartner);
    let e = acme
        .reject(&r.id, &reject, &new_idempotency_key())
        .await
        .unwrap_err();
    expect_api(&e, 409, ErrorCode::Conflict);
    assert_eq!(e.current().unwrap().status, Status::Rejected);
    // `other` without a note breaks a rule: 422 naming the field.
    let r2 = w.send_from_northwind("acme-web", "Other Co", None).await;
    let bad = RejectRequest {
        version: 1,
        reason: ReasonInput {
            code: ReasonCode::Other,
            note: None,
        },
    };
    let e = acme
        .reject(&r2.id, &bad, &new_idempotency_key())
        .await
        .unwrap_err();
    expect_api(&e, 422, ErrorCode::Invalid);
    assert!(e.to_string().starts_with("invalid: "), "{e}");

    // withdraw (by the sender)
    let got = north
        .withdraw(
            &r2.id,
            &WithdrawRequest { version: 1 },
            &new_idempotency_key(),
        )
        .await
        .unwrap();
    assert_eq!((got.status, got.version), (Status::Withdrawn, 2));
    let e = north
        .withdraw(
            &r2.id,
            &WithdrawRequest { version: 1 },
            &new_idempotency_key(),
        )
        .await
        .unwrap_err();
    expect_api(&e, 409, ErrorCode::Conflict);
    assert_eq!(e.current().unwrap().status, Status::Withdrawn);

    // close (accepted → won)
    let r3 = w.send_from_northwind("acme-web", "Won Co", None).await;
    acme.accept(&r3.id, &accept(1), &new_idempotency_key())
        .await
        .unwrap();
    let close = CloseRequest {
        version: 2,
        status: CloseStatus::Won,
        outcome: Some(OutcomeInput {
            value_cents: Some(990_000),
            note: Some("signed".into()),
        }),
    };
    let got = acme
        .close(&r3.id, &close, &new_idempotency_key())
        .await
        .unwrap();
    assert_eq!((got.status, got.version), (Status::Won, 3));
    assert_eq!(got.outcome.unwrap().value_cents, Some(990_000));
    let e = acme
        .close(&r3.id, &close, &new_idempotency_key())
        .await
        .unwrap_err();
    expect_api(&e, 409, ErrorCode::Conflict);
    assert_eq!(e.current().unwrap().status, Status::Won);

    // forward: the closed hop and the new one
    let r4 = w
        .send_from_northwind("acme-web", "Forwarded Co", None)
        .await;
    let fwd = ForwardRequest {
        version: 1,
        to_partner: "harbor-host".into(),
        note: Some("they host".into()),
        commission_pct: Some(10),
        expires_in_hours: Some(48),
    };
    let got = acme
        .forward(&r4.id, &fwd, &new_idempotency_key())
        .await
        .unwrap();
    assert_eq!(
        (got.referral.status, got.referral.version),
        (Status::Forwarded, 2)
    );
    assert_eq!(
        got.referral.forwarded_to.as_deref(),
        Some(got.forwarded.id.as_str())
    );
    assert_eq!(got.forwarded.parent_id.as_deref(), Some(r4.id.as_str()));
    assert_eq!(
        *got.forwarded.chain,
        ["northwind-net", "acme-web", "harbor-host"]
    );
    assert_eq!(got.forwarded.commission_pct, 10);
    assert!(
        got.forwarded.contact_masked,
        "a forwarder does not see the contact"
    );
    let e = acme
        .forward(&r4.id, &fwd, &new_idempotency_key())
        .await
        .unwrap_err();
    expect_api(&e, 409, ErrorCode::Conflict);
    assert_eq!(e.current().unwrap().status, Status::Forwarded);
    // The new hop is harbor's to act on.
    let h = w.client(&w.harbor).get(&got.forwarded.id).await.unwrap();
    assert_eq!(h.status, Status::Pending);
}
