//! Acting on a referral: reject with reasons, forward (the chain and its
//! limits), withdraw and close, conflicts that say who and when, what each
//! role and side may do, and the order in which a request is judged.

use super::*;

#[tokio::test]
async fn reject_with_reasons() {
    let w = World::start().await;
    let r = id(&w.send(&w.t.northwind, "acme-web", "Reject Me", None).await);
    w.act(
        &w.t.acme,
        &r,
        "reject",
        json!({"version": 1, "reason": {"code": "other"}}),
    )
    .await
    .expect(422, "invalid");
    let body = w
        .act(
            &w.t.acme,
            &r,
            "reject",
            json!({"version": 1, "reason": {"code": "other", "note": "  "}}),
        )
        .await
        .expect(422, "invalid");
    assert_eq!(body["error"]["field"], "reason.note");
    let body = w
        .act(
            &w.t.acme,
            &r,
            "reject",
            json!({"version": 1, "reason": {"code": "bogus"}}),
        )
        .await
        .expect(422, "invalid");
    assert_eq!(body["error"]["field"], "reason.code");
    let rejected = w
        .act(
            &w.t.acme,
            &r,
            "reject",
            json!({"version": 1, "reason": {"code": "unable_to_support", "note": "No EU region"}}),
        )
        .await
        .ok();
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(
        rejected["reason"],
        json!({"code": "unable_to_support", "note": "No EU region"})
    );
    assert_eq!(version(&rejected), 2);
    // Final: nothing more applies.
    let conflict = w
        .act(&w.t.acme, &r, "accept", json!({"version": 2}))
        .await
        .expect(409, "conflict");
    assert_eq!(conflict["error"]["current"]["status"], "rejected");
}

#[tokio::test]
async fn forward_chain_and_limits() {
    let w = World::start().await;
    let r1 = w.send(&w.t.northwind, "acme-web", "Chain Co", None).await;
    let fwd = w
        .act(&w.t.acme, &id(&r1), "forward", json!({"version": 1, "to_partner": "pixel-forge", "note": "Better fit", "commission_pct": 10, "expires_in_hours": 24}))
        .await
        .ok();
    let closed = &fwd["referral"];
    let child = &fwd["forwarded"];
    assert_eq!(closed["status"], "forwarded");
    assert_eq!(closed["forwarded_to"], child["id"]);
    assert_eq!(closed["decision_note"], "Better fit");
    assert_eq!(version(closed), 2);
    assert_eq!(child["status"], "pending");
    assert_eq!(version(child), 1);
    assert_eq!(child["parent_id"], r1["id"]);
    assert_eq!(child["from_partner"], "acme-web");
    assert_eq!(child["to_partner"], "pixel-forge");
    assert_eq!(
        child["chain"],
        json!(["northwind-net", "acme-web", "pixel-forge"])
    );
    assert_eq!(child["commission_pct"], 10);
    // The forwarder is not the originator and did not accept: masked.
    assert_eq!(child["contact_masked"], true);
    let c = chrono::DateTime::parse_from_rfc3339(child["created_at"].as_str().unwrap()).unwrap();
    let e = chrono::DateTime::parse_from_rfc3339(child["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((e - c).num_hours(), 24);

    // A partner already in the chain: 422.
    let body = w
        .act(
            &w.t.pixel,
            &id(child),
            "forward",
            json!({"version": 1, "to_partner": "northwind-net"}),
        )
        .await
        .expect(422, "invalid");
    assert_eq!(body["error"]["field"], "to_partner");
    // An unknown partner: 422.
    w.act(
        &w.t.pixel,
        &id(child),
        "forward",
        json!({"version": 1, "to_partner": "nobody-here"}),
    )
    .await
    .expect(422, "invalid");
    // Hop 3 and 4 are fine; a fifth hop is 422.
    let f2 = w
        .act(
            &w.t.pixel,
            &id(child),
            "forward",
            json!({"version": 1, "to_partner": "harbor-host"}),
        )
        .await
        .ok();
    let c2 = &f2["forwarded"];
    assert_eq!(
        c2["commission_pct"], 10,
        "the child keeps the parent's commission"
    );
    let f3 = w
        .act(
            &w.t.harbor,
            &id(c2),
            "forward",
            json!({"version": 1, "to_partner": "blue-design"}),
        )
        .await
        .ok();
    let c3 = &f3["forwarded"];
    assert_eq!(c3["chain"].as_array().unwrap().len(), 5);
    let body = w
        .act(
            &w.t.blue,
            &id(c3),
            "forward",
            json!({"version": 1, "to_partner": "exchange"}),
        )
        .await
        .expect(422, "invalid");
    assert_eq!(body["error"]["field"], "to_partner");
    // The last hop may still be accepted: the acceptor sees the contact.
    let acc = w
        .act(&w.t.blue, &id(c3), "accept", json!({"version": 1}))
        .await
        .ok();
    assert_eq!(acc["contact_masked"], false);
    // The originator sees the contact on its own hop.
    let first = w
        .get(&w.t.northwind, &format!("/v1/referrals/{}", id(&r1)))
        .await
        .ok();
    assert_eq!(first["contact_masked"], false);
    // A forwarder in the middle does not.
    let mid = w
        .get(&w.t.acme, &format!("/v1/referrals/{}", id(&r1)))
        .await
        .ok();
    assert_eq!(mid["contact_masked"], true);
}

#[tokio::test]
async fn withdraw_and_close() {
    let w = World::start().await;
    let r = id(&w
        .send(&w.t.northwind, "acme-web", "Withdraw Co", None)
        .await);
    w.act(&w.t.acme, &r, "withdraw", json!({"version": 1}))
        .await
        .expect(403, "forbidden");
    let done = w
        .act(&w.t.northwind, &r, "withdraw", json!({"version": 1}))
        .await
        .ok();
    assert_eq!(done["status"], "withdrawn");

    let r = id(&w.send(&w.t.northwind, "acme-web", "Close Co", None).await);
    w.act(&w.t.northwind, &r, "accept", json!({"version": 1}))
        .await
        .expect(403, "forbidden");
    w.act(
        &w.t.acme,
        &r,
        "close",
        json!({"version": 1, "status": "won"}),
    )
    .await
    .expect(409, "conflict");
    w.act(&w.t.acme, &r, "accept", json!({"version": 1}))
        .await
        .ok();
    let body = w
        .act(
            &w.t.acme,
            &r,
            "close",
            json!({"version": 2, "status": "maybe"}),
        )
        .await
        .expect(422, "invalid");
    assert_eq!(body["error"]["field"], "status");
    let won = w
        .act(&w.t.acme, &r, "close", json!({"version": 2, "status": "won", "outcome": {"value_cents": 990000, "note": "Signed"}}))
        .await
        .ok();
    assert_eq!(won["status"], "won");
    assert_eq!(
        won["outcome"],
        json!({"value_cents": 990000, "note": "Signed"})
    );
    assert_eq!(version(&won), 3);
    let r = id(&w.send(&w.t.northwind, "acme-web", "Lost Co", None).await);
    w.act(&w.t.acme, &r, "accept", json!({"version": 1}))
        .await
        .ok();
    let lost = w
        .act(
            &w.t.acme,
            &r,
            "close",
            json!({"version": 2, "status": "lost"}),
        )
        .await
        .ok();
    assert_eq!(lost["status"], "lost");
}

#[tokio::test]
async fn conflicts_say_who_and_when() {
    let w = World::start().await;
    let r = id(&w.send(&w.t.northwind, "acme-web", "Race Co", None).await);
    w.act(&w.t.acme, &r, "accept", json!({"version": 1}))
        .await
        .ok();
    let body = w
        .act(
            &w.t.acme_admin,
            &r,
            "reject",
            json!({"version": 1, "reason": {"code": "duplicate"}}),
        )
        .await
        .expect(409, "conflict");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("Dana Reyes") && msg.contains("acme-web"),
        "{msg}"
    );
    assert_eq!(body["error"]["current"]["status"], "accepted");
    assert_eq!(body["error"]["current"]["version"], 2);
    // A stale version is a conflict even when the status would allow it.
    let r = id(&w.send(&w.t.northwind, "acme-web", "Stale Co", None).await);
    w.act(&w.t.acme, &r, "accept", json!({"version": 7}))
        .await
        .expect(409, "conflict");
}

#[tokio::test]
async fn roles_and_sides() {
    let w = World::start().await;
    let r = id(&w.send(&w.t.northwind, "acme-web", "Role Co", None).await);
    w.act(&w.t.acme_viewer, &r, "accept", json!({"version": 1}))
        .await
        .expect(403, "forbidden");
    w.act(&w.t.operator, &r, "accept", json!({"version": 1}))
        .await
        .expect(403, "forbidden");
    w.post(
        &w.t.acme_viewer,
        "/v1/referrals",
        &lead_body("northwind-net", "X", None),
    )
    .await
    .expect(403, "forbidden");
    w.post(
        &w.t.operator,
        "/v1/referrals",
        &lead_body("northwind-net", "X", None),
    )
    .await
    .expect(403, "forbidden");
    // The viewer reads.
    w.get(&w.t.acme_viewer, &format!("/v1/referrals/{r}"))
        .await
        .ok();
    // Admins act like agents.
    w.act(&w.t.acme_admin, &r, "accept", json!({"version": 1}))
        .await
        .ok();
}

#[tokio::test]
async fn judged_in_order() {
    let w = World::start().await;
    let theirs = id(&w.send(&w.t.harbor, "pixel-forge", "Theirs", None).await);
    let ours = id(&w.send(&w.t.northwind, "acme-web", "Ours", None).await);
    // 400 before 404: a malformed body on a referral that is not ours.
    w.post_raw(
        &w.t.acme,
        &format!("/v1/referrals/{theirs}/accept"),
        b"{oops".to_vec(),
        None,
    )
    .await
    .expect(400, "bad_request");
    w.act(
        &w.t.acme,
        &theirs,
        "accept",
        json!({"version": 1, "surprise": true}),
    )
    .await
    .expect(400, "bad_request");
    w.act(&w.t.acme, &theirs, "accept", json!({"version": "one"}))
        .await
        .expect(400, "bad_request");
    // 404 before 403: a viewer acting on another partner's referral.
    w.act(&w.t.acme_viewer, &theirs, "accept", json!({"version": 1}))
        .await
        .expect(404, "not_found");
    w.act(
        &w.t.acme,
        "r_does_not_exist",
        "accept",
        json!({"version": 1}),
    )
    .await
    .expect(404, "not_found");
    // 403 before 422: a viewer with a rule-breaking reject.
    w.act(
        &w.t.acme_viewer,
        &ours,
        "reject",
        json!({"version": 1, "reason": {"code": "other"}}),
    )
    .await
    .expect(403, "forbidden");
    // 422 before 409: a stale version with a rule-breaking reject.
    w.act(
        &w.t.acme,
        &ours,
        "reject",
        json!({"version": 9, "reason": {"code": "other"}}),
    )
    .await
    .expect(422, "invalid");
    // Unknown action and route.
    w.act(&w.t.acme, &ours, "teleport", json!({"version": 1}))
        .await
        .expect(404, "not_found");
    w.get(&w.t.acme, "/v1/nothing")
        .await
        .expect(404, "not_found");
}
