//! Every endpoint's happy path and every rule and error code of
//! PROTOCOL.md, over real HTTP against a real server and store (a lead's
//! own rules, one accepted hop and duplicate domains, in server_lead_rules.rs).

mod common;

use common::{World, id, lead_body, version};
use serde_json::{Value, json};

#[tokio::test]
async fn me_and_partners() {
    let w = World::start().await;
    let me = w.get(&w.t.acme, "/v1/me").await.ok();
    assert_eq!(me["user"]["name"], "Dana Reyes");
    assert_eq!(me["user"]["role"], "agent");
    assert_eq!(me["partner"]["id"], "acme-web");
    assert_eq!(me["partner"]["name"], "Acme Web Studio");
    assert!(me["user"]["id"].as_str().unwrap().starts_with("u_"));

    let all = w.get(&w.t.acme, "/v1/partners").await.ok();
    assert_eq!(all["items"].as_array().unwrap().len(), 6);
    let hosting = w.get(&w.t.acme, "/v1/partners?q=hosting").await.ok();
    let ids: Vec<&str> = hosting["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["harbor-host"]);
    let by_name = w.get(&w.t.acme, "/v1/partners?q=northwind").await.ok();
    assert_eq!(by_name["items"][0]["kind"], "provider");
    assert_eq!(
        by_name["items"][0]["regions"],
        json!(["US-West", "US-East"])
    );
}

#[tokio::test]
async fn unauthenticated_everywhere() {
    let w = World::start().await;
    for path in [
        "/v1/me",
        "/v1/partners",
        "/v1/referrals",
        "/v1/referrals/r_x",
        "/v1/events",
    ] {
        let r = w.http.get(format!("{}{path}", w.url)).send().await.unwrap();
        let r = common::reply(r).await;
        r.expect(401, "unauthenticated");
        w.get("lx_not_a_token", path)
            .await
            .expect(401, "unauthenticated");
    }
    w.post("nope", "/v1/referrals", &json!({}))
        .await
        .expect(401, "unauthenticated");
    w.post("nope", "/v1/referrals/batch", &json!({"items": []}))
        .await
        .expect(401, "unauthenticated");
    // 401 comes before 400.
    w.post_raw(
        "nope",
        "/v1/referrals/r_x/accept",
        b"{not json".to_vec(),
        None,
    )
    .await
    .expect(401, "unauthenticated");
}

#[tokio::test]
async fn send_then_read_with_masking() {
    let w = World::start().await;
    let sent = w
        .send(
            &w.t.northwind,
            "acme-web",
            "Main Street Bakery",
            Some("www.MainStreetBakery.example"),
        )
        .await;
    assert!(id(&sent).starts_with("r_"));
    assert_eq!(version(&sent), 1);
    assert_eq!(sent["status"], "pending");
    assert_eq!(sent["from_partner"], "northwind-net");
    assert_eq!(sent["to_partner"], "acme-web");
    assert_eq!(sent["chain"], json!(["northwind-net", "acme-web"]));
    assert_eq!(sent["commission_pct"], 15);
    assert_eq!(sent["note"], "Warm intro");
    // The originator sees the contact.
    assert_eq!(sent["contact_masked"], false);
    assert_eq!(sent["lead"]["contact_email"], "jo@example.com");
    // 72 hours of life by default.
    let created =
        chrono::DateTime::parse_from_rfc3339(sent["created_at"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(sent["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_hours(), 72);
    assert!(sent["created_at"].as_str().unwrap().ends_with('Z'));

    // The recipient sees it masked until it accepts.
    let got = w
        .get(&w.t.acme, &format!("/v1/referrals/{}", id(&sent)))
        .await
        .ok();
    assert_eq!(got["contact_masked"], true);
    assert_eq!(got["lead"]["contact_email"], Value::Null);
    assert_eq!(got["lead"]["contact_name"], Value::Null);
    assert_eq!(got["lead"]["contact_phone"], Value::Null);
    assert_eq!(got["lead"]["company"], "Main Street Bakery");

    // Operators read it, masked.
    let op = w
        .get(&w.t.operator, &format!("/v1/referrals/{}", id(&sent)))
        .await
        .ok();
    assert_eq!(op["contact_masked"], true);
    // Another partner does not know it exists.
    w.get(&w.t.harbor, &format!("/v1/referrals/{}", id(&sent)))
        .await
        .expect(404, "not_found");

    let accepted = w
        .act(
            &w.t.acme,
            &id(&sent),
            "accept",
            json!({"version": 1, "note": "Calling Monday"}),
        )
        .await
        .ok();
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(version(&accepted), 2);
    assert_eq!(accepted["decision_note"], "Calling Monday");
    assert_eq!(accepted["decided_by"]["name"], "Dana Reyes");
    assert_eq!(accepted["decided_by"]["partner"], "acme-web");
    assert!(accepted["decided_at"].is_string());
    assert_eq!(accepted["contact_masked"], false);
    assert_eq!(accepted["lead"]["contact_phone"], "+1 555 0100");
}

#[tokio::test]
async fn list_pages_boxes_and_statuses() {
    let w = World::start().await;
    let mut incoming = Vec::new();
    for i in 0..7 {
        incoming.push(id(&w
            .send(&w.t.northwind, "acme-web", &format!("Co {i}"), None)
            .await));
    }
    let out1 = id(&w.send(&w.t.acme, "harbor-host", "Outgoing Co", None).await);
    w.send(&w.t.harbor, "pixel-forge", "Not ours", None).await;
    w.act(&w.t.acme, &incoming[0], "accept", json!({"version": 1}))
        .await
        .ok();

    // Page through everything with limit 3.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut as_of = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/referrals?limit=3&cursor={}", urlencode(c)),
            None => "/v1/referrals?limit=3".to_string(),
        };
        let page = w.get(&w.t.acme, &path).await.ok();
        as_of.get_or_insert(page["as_of"].as_u64().expect("as_of"));
        for item in page["items"].as_array().unwrap() {
            seen.push(id(item));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut expected = incoming.clone();
    expected.push(out1.clone());
    expected.sort();
    assert_eq!(seen, expected, "every match exactly once, ordered by id");
    // Nine sends and one accept: ten events, the last one's seq is as_of
    // (another partner's events count too; as_of is the log's position).
    assert_eq!(as_of, Some(10));

    let inbox = w.get(&w.t.acme, "/v1/referrals?box=incoming").await.ok();
    assert_eq!(inbox["items"].as_array().unwrap().len(), 7);
    let outbox = w.get(&w.t.acme, "/v1/referrals?box=outgoing").await.ok();
    assert_eq!(outbox["items"].as_array().unwrap().len(), 1);
    let accepted = w.get(&w.t.acme, "/v1/referrals?status=accepted").await.ok();
    assert_eq!(accepted["items"].as_array().unwrap().len(), 1);
    let both = w
        .get(&w.t.acme, "/v1/referrals?status=accepted,pending")
        .await
        .ok();
    assert_eq!(both["items"].as_array().unwrap().len(), 8);
    // Operators list every partner's.
    let all = w.get(&w.t.operator, "/v1/referrals").await.ok();
    assert_eq!(all["items"].as_array().unwrap().len(), 9);

    for bad in [
        "box=sideways",
        "status=nope",
        "limit=0",
        "limit=5001",
        "limit=x",
        "cursor=zzz",
        "colour=red",
    ] {
        w.get(&w.t.acme, &format!("/v1/referrals?{bad}"))
            .await
            .expect(400, "bad_request");
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

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

#[tokio::test]
async fn create_validation() {
    let w = World::start().await;
    let t = &w.t.northwind;
    let mut body = lead_body("acme-web", "X", None);
    body["lead"]["company"] = Value::Null;
    let e = w
        .post(t, "/v1/referrals", &body)
        .await
        .expect(422, "invalid");
    assert_eq!(e["error"]["field"], "lead.company");
    let mut body = lead_body("acme-web", "X", None);
    body["lead"].as_object_mut().unwrap().remove("category");
    let e = w
        .post(t, "/v1/referrals", &body)
        .await
        .expect(422, "invalid");
    assert_eq!(e["error"]["field"], "lead.category");
    let long: String = "é".repeat(201);
    let e = w
        .post(t, "/v1/referrals", &lead_body("acme-web", &long, None))
        .await
        .expect(422, "invalid");
    assert_eq!(e["error"]["field"], "lead.company");
    // 200 scalar values is fine, even at 400 bytes.
    w.post(
        t,
        "/v1/referrals",
        &lead_body("acme-web", &"é".repeat(200), None),
    )
    .await
    .ok();
    let mut body = lead_body("acme-web", "X", None);
    body["lead"]["summary"] = json!("s".repeat(4001));
    let e = w
        .post(t, "/v1/referrals", &body)
        .await
        .expect(422, "invalid");
    assert_eq!(e["error"]["field"], "lead.summary");
    let mut body = lead_body("acme-web", "X", None);
    body["note"] = json!("n".repeat(4001));
    let e = w
        .post(t, "/v1/referrals", &body)
        .await
        .expect(422, "invalid");
    assert_eq!(e["error"]["field"], "note");
    for (field, value) in [
        ("commission_pct", json!(101)),
        ("expires_in_hours", json!(0)),
        ("expires_in_hours", json!(721)),
    ] {
        let mut body = lead_body("acme-web", "X", None);
        body[field] = value;
        let e = w
            .post(t, "/v1/referrals", &body)
            .await
            .expect(422, "invalid");
        assert_eq!(e["error"]["field"], field);
    }
    let e = w
        .post(t, "/v1/referrals", &lead_body("no-such-partner", "X", None))
        .await
        .expect(422, "invalid");
    assert_eq!(e["error"]["field"], "to_partner");
    let mut body = lead_body("acme-web", "X", None);
    body["lead"]["colour"] = json!("red");
    w.post(t, "/v1/referrals", &body)
        .await
        .expect(400, "bad_request");
    w.post_raw(t, "/v1/referrals", b"[]".to_vec(), None)
        .await
        .expect(400, "bad_request");
    let mut body = lead_body("acme-web", "X", None);
    body["expires_in_hours"] = json!(1);
    let r = w.post(t, "/v1/referrals", &body).await.ok();
    let c = chrono::DateTime::parse_from_rfc3339(r["created_at"].as_str().unwrap()).unwrap();
    let e = chrono::DateTime::parse_from_rfc3339(r["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((e - c).num_hours(), 1);
}

#[tokio::test]
async fn too_large_body() {
    let w = World::start().await;
    let big = vec![b' '; 1024 * 1024 + 10];
    w.post_raw(&w.t.northwind, "/v1/referrals", big, None)
        .await
        .expect(413, "too_large");
}

#[tokio::test]
async fn healthz_and_metrics() {
    let w = World::start().await;
    let r = w
        .http
        .get(format!("{}/healthz", w.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = w.send(&w.t.northwind, "acme-web", "Metric Co", None).await;
    w.act(&w.t.acme, &id(&r), "accept", json!({"version": 1}))
        .await
        .ok();
    w.get(&w.t.acme, "/v1/referrals").await.ok();
    let text = w
        .http
        .get(format!("{}/metrics", w.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            "leadx_http_requests_total{method=\"GET\",route=\"/v1/referrals\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("leadx_http_request_duration_seconds_count{method=\"POST\",route=\"/v1/referrals/{id}/{action}\"} 1"), "{text}");
    assert!(
        text.contains("leadx_referrals{status=\"accepted\"} 1"),
        "{text}"
    );
    assert!(text.contains("leadx_event_subscribers 0"), "{text}");
    assert!(text.contains("leadx_events_sent_total"), "{text}");
}
