//! Sending a lead and reading referrals back: masking, paged lists by box
//! and status, the validation of a new referral and the body size limit.

use super::*;

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
