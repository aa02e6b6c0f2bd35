//! What a live-feed subscriber may take (issue 10 items 2 and 7): a cap on
//! open streams per user, and a replay of the log charged to the caller's
//! rate limit.

mod common;

use common::World;
use leadx::server::ServerConfig;
use leadx::server::routes::feed_limits::{EVENTS_PER_CHARGE, MAX_STREAMS_PER_USER};

async fn open(w: &World, token: &str, after: Option<u64>) -> reqwest::Response {
    let mut req = w
        .http
        .get(format!("{}/v1/events", w.url))
        .bearer_auth(token);
    if let Some(a) = after {
        req = req.header("Last-Event-ID", a.to_string());
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_user_holds_at_most_so_many_streams() {
    let w = World::start().await;
    let mut streams = Vec::new();
    for _ in 0..MAX_STREAMS_PER_USER {
        let r = open(&w, &w.t.acme, None).await;
        assert_eq!(r.status(), 200);
        streams.push(r);
    }
    let refused = common::reply(open(&w, &w.t.acme, None).await).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.code(), "rate_limited");
    assert!(refused.headers.get("retry-after").is_some());
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("live feeds open"), "{message}");
    // Another user of the same partner is not this user's limit.
    assert_eq!(open(&w, &w.t.acme_viewer, None).await.status(), 200);
    // A stream closed gives its place back.
    drop(streams.pop());
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let r = open(&w, &w.t.acme, None).await;
        if r.status() == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed stream kept its place"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_is_charged_to_the_callers_rate_limit() {
    // 1 request a second, bursts of 2: a replay of 3 x EVENTS_PER_CHARGE
    // events costs 3 charges and empties the bucket.
    let config = ServerConfig {
        rate_limit: 1,
        ..ServerConfig::for_tests()
    };
    let w = World::start_with(config, |s| s).await;
    let sender = w.store.authenticate(&w.t.northwind).await.unwrap().unwrap();
    for i in 0..3 * EVENTS_PER_CHARGE {
        let lead =
            serde_json::from_value(common::lead_body("acme-web", &format!("R{i}"), None)).unwrap();
        w.store
            .create(&sender, lead, None)
            .await
            .unwrap()
            .expect("created");
    }
    // The replay: every event after 0, read to its end.
    let mut feed = open(&w, &w.t.acme, Some(0)).await;
    assert_eq!(feed.status(), 200);
    let mut seen = 0;
    let mut buf = String::new();
    while seen < 3 * EVENTS_PER_CHARGE {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(30), feed.chunk())
            .await
            .expect("the replay goes on")
            .unwrap()
            .expect("stream open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
        seen = buf.matches("\nevent: referral\n").count() + usize::from(buf.starts_with("event"));
    }
    // The subscription took one request and the replay three more: the
    // bucket (2) is empty, so the next request waits.
    let next = w.get(&w.t.acme, "/v1/me").await;
    assert_eq!(next.status, 429, "{}", next.body);
}
