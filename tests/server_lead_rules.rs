//! A lead's own rules over real HTTP (PROTOCOL.md "Rules"): one accepted
//! hop per lead, and a domain taken while one of its hops is open.

mod common;

use common::{World, id, lead_body, version};
use serde_json::{Value, json};

#[tokio::test]
async fn duplicate_domains() {
    let w = World::start().await;
    let first = w
        .send(&w.t.northwind, "acme-web", "Dup Co", Some("dupco.example"))
        .await;
    // Same domain, different case and www.: 409, with the id for a party.
    let e = w
        .post(
            &w.t.northwind,
            "/v1/referrals",
            &lead_body("harbor-host", "Dup Co", Some("WWW.DupCo.example")),
        )
        .await
        .expect(409, "duplicate");
    assert_eq!(e["error"]["existing_id"], first["id"]);
    // An outsider learns only that the domain is being worked on.
    let e = w
        .post(
            &w.t.harbor,
            "/v1/referrals",
            &lead_body("pixel-forge", "Dup Co", Some("dupco.example")),
        )
        .await
        .expect(409, "duplicate");
    assert!(
        e["error"].get("existing_id").is_none_or(|v| v.is_null()),
        "{e}"
    );
    // Once the hop is closed, the domain is free again.
    w.act(
        &w.t.acme,
        &id(&first),
        "reject",
        json!({"version": 1, "reason": {"code": "wrong_partner"}}),
    )
    .await
    .ok();
    w.send(&w.t.harbor, "pixel-forge", "Dup Co", Some("dupco.example"))
        .await;
}

/// A lead has at most one accepted hop. Its hops form one line (a forward
/// closes the hop it leaves), so a second accepted hop could come only from
/// the open hop ending both ways, or from a closed hop being accepted. In
/// both orders of accept and forward on the open hop the second is 409,
/// and afterwards no hop of the lead can be accepted, closed or not.
#[tokio::test]
async fn at_most_one_accepted_hop() {
    let w = World::start().await;
    let token = |partner: &str| match partner {
        "acme-web" => w.t.acme.clone(),
        "pixel-forge" => w.t.pixel.clone(),
        "harbor-host" => w.t.harbor.clone(),
        other => panic!("no token for {other}"),
    };
    for accept_first in [true, false] {
        let company = format!("Line Co {accept_first}");
        // northwind-net → acme-web → pixel-forge, which decides.
        let h1 = id(&w.send(&w.t.northwind, "acme-web", &company, None).await);
        let h2 = w
            .act(
                &w.t.acme,
                &h1,
                "forward",
                json!({"version": 1, "to_partner": "pixel-forge"}),
            )
            .await
            .ok();
        let h2 = id(&h2["forwarded"]);
        let accept = || w.act(&w.t.pixel, &h2, "accept", json!({"version": 1}));
        let forward = || {
            let body = json!({"version": 1, "to_partner": "harbor-host"});
            w.act(&w.t.pixel, &h2, "forward", body)
        };
        let expected = if accept_first {
            accept().await.ok();
            let e = forward().await.expect(409, "conflict");
            assert_eq!(e["error"]["current"]["status"], "accepted");
            vec!["forwarded", "accepted"]
        } else {
            let f = forward().await.ok();
            let e = accept().await.expect(409, "conflict");
            assert_eq!(e["error"]["current"]["status"], "forwarded");
            // The new hop is the lead's only open one: harbor-host accepts.
            w.act(
                &w.t.harbor,
                &id(&f["forwarded"]),
                "accept",
                json!({"version": 1}),
            )
            .await
            .ok();
            vec!["forwarded", "forwarded", "accepted"]
        };
        let hops = || async {
            let all = w.boxed(&w.t.operator, "all").await;
            all.into_iter()
                .filter(|r| r["lead"]["company"] == company.as_str())
                .collect::<Vec<Value>>()
        };
        let statuses = |hops: &[Value]| -> Vec<String> {
            hops.iter()
                .map(|r| r["status"].as_str().unwrap().to_owned())
                .collect()
        };
        let line = hops().await;
        assert_eq!(statuses(&line), expected, "oldest hop first");
        // No hop can be accepted now: each recipient tries, at its version.
        for r in &line {
            let to = token(r["to_partner"].as_str().unwrap());
            let e = w
                .act(&to, &id(r), "accept", json!({"version": version(r)}))
                .await
                .expect(409, "conflict");
            assert_eq!(e["error"]["current"]["status"], r["status"]);
        }
        // Closing the accepted hop does not free the lead for another.
        let won = line.last().unwrap();
        let to = token(won["to_partner"].as_str().unwrap());
        let body = json!({"version": version(won), "status": "won"});
        w.act(&to, &id(won), "close", body).await.ok();
        let line = hops().await;
        for r in &line {
            let to = token(r["to_partner"].as_str().unwrap());
            w.act(&to, &id(r), "accept", json!({"version": version(r)}))
                .await
                .expect(409, "conflict");
        }
        let mut expected = expected;
        *expected.last_mut().unwrap() = "won";
        assert_eq!(statuses(&hops().await), expected);
    }
}

/// While a lead has an accepted hop, its domain stays taken: a send of the
/// same domain, by anyone, is 409 `duplicate`.
#[tokio::test]
async fn an_accepted_hop_keeps_its_domain_taken() {
    let w = World::start().await;
    let r = w
        .send(&w.t.northwind, "acme-web", "One Co", Some("one.example"))
        .await;
    w.act(&w.t.acme, &id(&r), "accept", json!({"version": 1}))
        .await
        .ok();
    w.post(
        &w.t.pixel,
        "/v1/referrals",
        &lead_body("harbor-host", "One Co", Some("one.example")),
    )
    .await
    .expect(409, "duplicate");
}
