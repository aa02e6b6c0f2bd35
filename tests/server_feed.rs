//! The live feed: replay then live, resume without gaps or repeats, 410,
//! masking and visibility per subscriber, pings; expiry at `expires_at`.

mod common;

use std::time::Duration;

use common::{World, id};
use leadx::server::ServerConfig;
use serde_json::{Value, json};

/// An open event stream and what has been read of it.
struct Feed {
    resp: reqwest::Response,
    buf: String,
}

#[derive(Debug)]
struct Ev {
    seq: u64,
    data: Value,
}

impl Feed {
    async fn open(w: &World, token: &str, last_event_id: Option<u64>) -> Feed {
        let mut req = w
            .http
            .get(format!("{}/v1/events", w.url))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        Feed {
            resp,
            buf: String::new(),
        }
    }

    /// The next raw block (event, comment or retry).
    async fn block(&mut self, wait: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                return Some(self.buf.drain(..end + 2).collect());
            }
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buf.push_str(std::str::from_utf8(&chunk).unwrap()),
                _ => return None,
            }
        }
    }

    async fn next(&mut self, wait: Duration) -> Option<Ev> {
        loop {
            let block = self.block(wait).await?;
            let mut seq = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    seq = Some(v.parse().unwrap());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str(v).unwrap());
                } else if let Some(v) = line.strip_prefix("event: ") {
                    assert_eq!(v, "referral");
                }
            }
            if let (Some(seq), Some(data)) = (seq, data) {
                return Some(Ev { seq, data });
            }
        }
    }

    async fn take(&mut self, n: usize) -> Vec<Ev> {
        let mut out = Vec::new();
        while out.len() < n {
            out.push(
                self.next(Duration::from_secs(10))
                    .await
                    .expect("an event in time"),
            );
        }
        out
    }
}

#[tokio::test]
async fn live_events_are_masked_per_subscriber() {
    let w = World::start().await;
    let mut acme = Feed::open(&w, &w.t.acme, None).await;
    let first = acme.block(Duration::from_secs(5)).await.unwrap();
    assert_eq!(first, "retry: 2000\n\n");
    let mut north = Feed::open(&w, &w.t.northwind, None).await;
    let mut op = Feed::open(&w, &w.t.operator, None).await;
    let mut harbor = Feed::open(&w, &w.t.harbor, None).await;
    let r = w.send(&w.t.northwind, "acme-web", "Live Co", None).await;
    let ev = acme.take(1).await.remove(0);
    assert_eq!(ev.data["id"], r["id"]);
    assert_eq!(ev.data["contact_masked"], true);
    assert_eq!(ev.data["lead"]["contact_email"], Value::Null);
    let ev = north.take(1).await.remove(0);
    assert_eq!(ev.data["contact_masked"], false);
    let ev = op.take(1).await.remove(0);
    assert_eq!(ev.data["contact_masked"], true);
    assert!(
        harbor.next(Duration::from_millis(500)).await.is_none(),
        "not a party"
    );

    // A forward is two events, in order.
    w.act(
        &w.t.acme,
        &id(&r),
        "forward",
        json!({"version": 1, "to_partner": "pixel-forge"}),
    )
    .await
    .ok();
    let evs = acme.take(2).await;
    assert!(evs[0].seq < evs[1].seq);
    assert_eq!(evs[0].data["status"], "forwarded");
    assert_eq!(evs[1].data["status"], "pending");
    assert_eq!(evs[1].data["to_partner"], "pixel-forge");
}

#[tokio::test]
async fn resume_after_a_drop_misses_nothing_and_repeats_nothing() {
    let w = World::start().await;
    let mut feed = Feed::open(&w, &w.t.acme, None).await;
    let mut sent = Vec::new();
    for i in 0..5 {
        sent.push(id(&w
            .send(&w.t.northwind, "acme-web", &format!("R{i}"), None)
            .await));
    }
    let got = feed.take(3).await;
    let last = got[2].seq;
    drop(feed);
    // While disconnected, more happens.
    for i in 5..10 {
        sent.push(id(&w
            .send(&w.t.northwind, "acme-web", &format!("R{i}"), None)
            .await));
    }
    w.send(&w.t.harbor, "pixel-forge", "Not ours", None).await;
    let mut feed = Feed::open(&w, &w.t.acme, Some(last)).await;
    let rest = feed.take(7).await;
    let mut ids: Vec<String> = got
        .iter()
        .chain(rest.iter())
        .map(|e| e.data["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, sent, "every event once, in order");
    let seqs: Vec<u64> = got.iter().chain(rest.iter()).map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|p| p[0] < p[1]));
    // And it goes on live after the replay.
    sent.push(id(&w
        .send(&w.t.northwind, "acme-web", "Live after", None)
        .await));
    ids.push(
        feed.take(1).await[0].data["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    assert_eq!(ids, sent);
    assert!(
        feed.next(Duration::from_millis(300)).await.is_none(),
        "nothing repeated"
    );

    // ?after= works like Last-Event-ID.
    let resp = w
        .http
        .get(format!("{}/v1/events?after={}", w.url, seqs[8]))
        .bearer_auth(&w.t.acme)
        .send()
        .await
        .unwrap();
    let mut by_query = Feed {
        resp,
        buf: String::new(),
    };
    assert_eq!(by_query.take(1).await[0].seq, seqs[9]);
}

#[tokio::test]
async fn list_then_watch_from_as_of() {
    let w = World::start().await;
    w.send(&w.t.northwind, "acme-web", "Before", None).await;
    let page = w.get(&w.t.acme, "/v1/referrals").await.ok();
    let as_of = page["as_of"].as_u64().unwrap();
    let after = w.send(&w.t.northwind, "acme-web", "After", None).await;
    let mut feed = Feed::open(&w, &w.t.acme, Some(as_of)).await;
    let ev = feed.take(1).await.remove(0);
    assert_eq!(
        ev.data["id"], after["id"],
        "the change after the list, and only it"
    );
    assert!(feed.next(Duration::from_millis(300)).await.is_none());
}

#[tokio::test]
async fn resume_point_out_of_range_is_gone() {
    let w = World::start().await;
    w.send(&w.t.northwind, "acme-web", "One", None).await;
    let r = w
        .http
        .get(format!("{}/v1/events", w.url))
        .bearer_auth(&w.t.acme)
        .header("Last-Event-ID", "999999")
        .send()
        .await
        .unwrap();
    let r = common::reply(r).await;
    r.expect(410, "gone");
    let r = w.get(&w.t.acme, "/v1/events?after=abc").await;
    r.expect(400, "bad_request");
}

#[tokio::test]
async fn pings_keep_the_stream_alive() {
    let config = ServerConfig {
        ping_interval: Duration::from_millis(200),
        ..ServerConfig::for_tests()
    };
    let w = World::start_with(config, |s| s).await;
    let mut feed = Feed::open(&w, &w.t.acme, None).await;
    assert_eq!(
        feed.block(Duration::from_secs(2)).await.unwrap(),
        "retry: 2000\n\n"
    );
    assert_eq!(
        feed.block(Duration::from_secs(2)).await.unwrap(),
        ": ping\n\n"
    );
}

#[tokio::test]
async fn pending_referrals_expire_at_expires_at() {
    let w = World::start().await;
    let mut feed = Feed::open(&w, &w.t.acme, None).await;
    let soon = w
        .post(&w.t.northwind, "/v1/referrals", &{
            let mut b = common::lead_body("acme-web", "Soon", None);
            b["expires_in_hours"] = json!(2);
            b
        })
        .await
        .ok();
    let later = w.send(&w.t.northwind, "acme-web", "Later", None).await;
    let accepted = w.send(&w.t.northwind, "acme-web", "Taken", None).await;
    w.act(&w.t.acme, &id(&accepted), "accept", json!({"version": 1}))
        .await
        .ok();
    feed.take(4).await;
    // Two hours and a second later, only the first has expired.
    w.clock.advance(chrono::Duration::seconds(2 * 3600 + 1));
    let ev = feed.take(1).await.remove(0);
    assert_eq!(ev.data["id"], soon["id"]);
    assert_eq!(ev.data["status"], "expired");
    assert_eq!(ev.data["version"], 2);
    assert_eq!(ev.data["decided_by"], Value::Null);
    assert!(ev.data["decided_at"].is_string());
    assert!(feed.next(Duration::from_millis(300)).await.is_none());
    // Past 72 hours the other pending one goes; the accepted one stays.
    w.clock.advance(chrono::Duration::hours(71));
    let ev = feed.take(1).await.remove(0);
    assert_eq!(ev.data["id"], later["id"]);
    assert_eq!(ev.data["status"], "expired");
    let acc = w
        .get(&w.t.acme, &format!("/v1/referrals/{}", id(&accepted)))
        .await
        .ok();
    assert_eq!(acc["status"], "accepted");
    // An expired referral can no longer be accepted.
    w.act(&w.t.acme, &id(&later), "accept", json!({"version": 1}))
        .await
        .expect(409, "conflict");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_loses_its_open_feed_within_seconds() {
    let w = World::start().await;
    let mut feed = Feed::open(&w, &w.t.acme, None).await;
    let mut other = Feed::open(&w, &w.t.acme_viewer, None).await;
    let first = id(&w.send(&w.t.northwind, "acme-web", "Before Co", None).await);
    assert_eq!(id(&feed.take(1).await[0].data), first);
    assert_eq!(id(&other.take(1).await[0].data), first);
    // Revoked (as the admin CLI does, through the store).
    let me: Value = w.get(&w.t.acme, "/v1/me").await.ok();
    let user = me["user"]["id"].as_str().unwrap().to_owned();
    assert!(w.store.revoke_user(&user).await.unwrap());
    // Its REST calls are refused at once, and its stream ends by itself
    // (the server watches revocations every second) before seeing more.
    w.get(&w.t.acme, "/v1/me")
        .await
        .expect(401, "unauthenticated");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let ended = loop {
        match tokio::time::timeout_at(deadline, feed.resp.chunk()).await {
            Ok(Ok(None)) | Ok(Err(_)) => break true,
            Ok(Ok(Some(chunk))) => {
                let text = String::from_utf8_lossy(&chunk);
                assert!(!text.contains("data:"), "an event after revocation: {text}");
            }
            Err(_) => break false,
        }
    };
    assert!(ended, "the revoked token's feed stayed open");
    // Another user's feed goes on.
    let after = id(&w.send(&w.t.northwind, "acme-web", "After Co", None).await);
    assert_eq!(id(&other.take(1).await[0].data), after);
}
