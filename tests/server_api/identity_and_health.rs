//! Who is asking and is the server up: `/v1/me`, the partner directory,
//! 401 on every endpoint without a valid token, `/healthz` and `/metrics`.

use super::*;

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
