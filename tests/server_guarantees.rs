//! Authorization, one winner among concurrent decisions, idempotency and
//! the batch: the guarantees a partner trusts its pipeline to.

#[macro_use]
mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{World, id, lead_body, version};
use leadx::domain::{ActionItem, Actor, ItemResult};
use leadx::server::ServerConfig;
use leadx::store::{IdemSave, SharedStore};
use serde_json::{Value, json};

/// For every endpoint, a user of a partner that is not a party gets 404,
/// sees no event, and nothing changes.
#[tokio::test]
async fn authorization_matrix() {
    let w = World::start().await;
    let r = w
        .send(
            &w.t.northwind,
            "acme-web",
            "Private Co",
            Some("private.example"),
        )
        .await;
    let rid = id(&r);
    // harbor-host is no party; watch its feed from now.
    let before = w.get(&w.t.harbor, "/v1/referrals").await.ok();
    let as_of = before["as_of"].as_u64().unwrap();
    assert!(before["items"].as_array().unwrap().is_empty());

    w.get(&w.t.harbor, &format!("/v1/referrals/{rid}"))
        .await
        .expect(404, "not_found");
    let bodies = [
        ("accept", json!({"version": 1})),
        (
            "reject",
            json!({"version": 1, "reason": {"code": "duplicate"}}),
        ),
        (
            "forward",
            json!({"version": 1, "to_partner": "pixel-forge"}),
        ),
        ("withdraw", json!({"version": 1})),
        ("close", json!({"version": 1, "status": "won"})),
    ];
    for (action, body) in &bodies {
        w.act(&w.t.harbor, &rid, action, body.clone())
            .await
            .expect(404, "not_found");
    }
    let mut items = Vec::new();
    for (action, body) in &bodies {
        let mut item = body.clone();
        item["id"] = json!(rid);
        item["action"] = json!(action);
        items.push(item);
    }
    let batch = w
        .post(&w.t.harbor, "/v1/referrals/batch", &json!({"items": items}))
        .await
        .ok();
    for result in batch["results"].as_array().unwrap() {
        assert_eq!(result["outcome"], "not_found", "{result}");
        assert!(result.get("referral").is_none());
    }
    assert_eq!(batch["summary"]["not_found"], 5);

    // Nothing changed.
    let now = w
        .get(&w.t.northwind, &format!("/v1/referrals/{rid}"))
        .await
        .ok();
    assert_eq!(version(&now), 1);
    assert_eq!(now["status"], "pending");

    // Changes by the parties never reach harbor-host's feed; its own do.
    w.act(&w.t.acme, &rid, "accept", json!({"version": 1}))
        .await
        .ok();
    let own = w
        .send(&w.t.harbor, "pixel-forge", "Harbor's own", None)
        .await;
    let events = read_events(&w, &w.t.harbor, as_of, 1).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["id"], own["id"]);
    // The party's feed has both of its events.
    let events = read_events(&w, &w.t.acme, as_of, 1).await;
    assert_eq!(events[0]["id"], json!(rid));
    assert_eq!(events[0]["status"], "accepted");
    // A duplicate by an outsider does not leak the id.
    let e = w
        .post(
            &w.t.harbor,
            "/v1/referrals",
            &lead_body("pixel-forge", "P", Some("private.example")),
        )
        .await
        .expect(409, "duplicate");
    assert!(!e.to_string().contains(&rid));
}

/// Reads `n` events after `after` from the feed.
pub async fn read_events(w: &World, token: &str, after: u64, n: usize) -> Vec<Value> {
    let mut resp = w
        .http
        .get(format!("{}/v1/events?after={after}", w.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut buf = String::new();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while out.len() < n {
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .expect("events in time")
            .unwrap()
            .unwrap();
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) {
                out.push(serde_json::from_str(data).unwrap());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_accepts_have_one_winner() {
    let w = Arc::new(World::start().await);
    for round in 0..3 {
        let r = id(&w
            .send(&w.t.northwind, "acme-web", &format!("Race {round}"), None)
            .await);
        let mut tasks = Vec::new();
        for i in 0..24 {
            let w = w.clone();
            let r = r.clone();
            tasks.push(tokio::spawn(async move {
                let token = if i % 2 == 0 {
                    &w.t.acme
                } else {
                    &w.t.acme_admin
                };
                let action = if i % 3 == 0 { "reject" } else { "accept" };
                let body = if action == "reject" {
                    json!({"version": 1, "reason": {"code": "duplicate"}})
                } else {
                    json!({"version": 1})
                };
                w.act(token, &r, action, body).await
            }));
        }
        let mut wins = 0;
        let mut conflicts = 0;
        for t in tasks {
            let reply = t.await.unwrap();
            match reply.status.as_u16() {
                200 => wins += 1,
                409 => {
                    assert_eq!(reply.code(), "conflict");
                    conflicts += 1;
                }
                other => panic!("unexpected {other} {}", reply.body),
            }
        }
        assert_eq!((wins, conflicts), (1, 23));
        let now = w.get(&w.t.acme, &format!("/v1/referrals/{r}")).await.ok();
        assert_eq!(version(&now), 2);
    }
}

#[tokio::test]
async fn idempotent_replay_and_mismatch() {
    let w = World::start().await;
    let r = id(&w.send(&w.t.northwind, "acme-web", "Idem Co", None).await);
    let path = format!("/v1/referrals/{r}/accept");
    let first = w
        .post_key(
            &w.t.acme,
            &path,
            &json!({"version": 1, "note": "hi"}),
            "key-1",
        )
        .await;
    assert_eq!(first.status, 200);
    assert!(first.headers.get("idempotent-replayed").is_none());
    // Same key, same request (keys reordered): the stored answer again.
    let again = w
        .post_raw(
            &w.t.acme,
            &path,
            br#"{ "note": "hi", "version": 1 }"#.to_vec(),
            Some("key-1"),
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(again.body, first.body);
    // Nothing acted twice.
    let now = w.get(&w.t.acme, &format!("/v1/referrals/{r}")).await.ok();
    assert_eq!(version(&now), 2);
    // Same key, different request: 422.
    w.post_key(&w.t.acme, &path, &json!({"version": 2}), "key-1")
        .await
        .expect(422, "idempotency_mismatch");
    // Keys are per user: another user's same key is a fresh request.
    w.post_key(
        &w.t.acme_admin,
        &path,
        &json!({"version": 1, "note": "hi"}),
        "key-1",
    )
    .await
    .expect(409, "conflict");
    // Errors are kept too: a 409 replays as the same 409.
    let c1 = w
        .post_key(&w.t.acme, &path, &json!({"version": 1}), "key-2")
        .await;
    assert_eq!(c1.status, 409);
    let c2 = w
        .post_key(&w.t.acme, &path, &json!({"version": 1}), "key-2")
        .await;
    assert_eq!(c2.status, 409);
    assert_eq!(c2.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(c1.body, c2.body);
    // A 400 is kept as well.
    let b1 = w
        .post_raw(&w.t.acme, &path, b"{bad".to_vec(), Some("key-3"))
        .await;
    assert_eq!(b1.status, 400);
    let b2 = w
        .post_raw(&w.t.acme, &path, b"{bad".to_vec(), Some("key-3"))
        .await;
    assert_eq!(b2.headers.get("idempotent-replayed").unwrap(), "true");
    // Sends are idempotent as well.
    let s1 = w
        .post_key(
            &w.t.northwind,
            "/v1/referrals",
            &lead_body("acme-web", "Once Co", None),
            "send-1",
        )
        .await;
    let s2 = w
        .post_key(
            &w.t.northwind,
            "/v1/referrals",
            &lead_body("acme-web", "Once Co", None),
            "send-1",
        )
        .await;
    assert_eq!((s1.status.as_u16(), s2.status.as_u16()), (201, 201));
    assert_eq!(s1.body["id"], s2.body["id"]);
    let outgoing = w
        .get(&w.t.northwind, "/v1/referrals?box=outgoing")
        .await
        .ok();
    let once = outgoing["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["lead"]["company"] == "Once Co")
        .count();
    assert_eq!(once, 1);
    // A bad key is 400.
    w.post_raw(&w.t.acme, &path, b"{}".to_vec(), Some(""))
        .await
        .expect(400, "bad_request");
}

/// The real store, with its writes held at a gate the test opens: the
/// first request with a key is certainly still running when the second
/// one arrives.
struct GatedStore {
    inner: SharedStore,
    /// Told when a write reaches the gate.
    arrived: tokio::sync::Notify,
    /// Writes wait here for a permit.
    gate: tokio::sync::Semaphore,
}

impl GatedStore {
    fn inner_store(&self) -> &SharedStore {
        &self.inner
    }
}

delegate_store_but_apply! {
    GatedStore;
    async fn resume_floor(&self) -> leadx::store::StoreResult<u64> {
        self.inner.resume_floor().await
    }

    async fn apply(
        &self,
        actor: &Actor,
        items: Vec<ActionItem>,
        idem: Option<IdemSave>,
    ) -> leadx::store::StoreResult<Vec<ItemResult>> {
        self.arrived.notify_one();
        self.gate.acquire().await.expect("gate open").forget();
        self.inner.apply(actor, items, idem).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idempotency_in_flight() {
    let gated = Arc::new(std::sync::OnceLock::<Arc<GatedStore>>::new());
    let keep = gated.clone();
    let w = Arc::new(
        World::start_with(ServerConfig::for_tests(), move |s| {
            let store = Arc::new(GatedStore {
                inner: s,
                arrived: tokio::sync::Notify::new(),
                gate: tokio::sync::Semaphore::new(0),
            });
            keep.set(store.clone()).ok();
            store as SharedStore
        })
        .await,
    );
    let gated = gated.get().expect("store wrapped").clone();
    let r = id(&w.send(&w.t.northwind, "acme-web", "Slow Co", None).await);
    let path = format!("/v1/referrals/{r}/accept");
    let first = {
        let w = w.clone();
        let path = path.clone();
        tokio::spawn(async move {
            w.post_key(&w.t.acme, &path, &json!({"version": 1}), "slow-key")
                .await
        })
    };
    // The first request is inside the store's write, held at the gate.
    gated.arrived.notified().await;
    w.post_key(&w.t.acme, &path, &json!({"version": 1}), "slow-key")
        .await
        .expect(409, "idempotency_in_flight");
    // Two permits: the first request's, and the replay's where the store
    // finds the kept answer inside the write's transaction (PostgreSQL;
    // SQLite answers it before the write).
    gated.gate.add_permits(2);
    let first = first.await.unwrap();
    assert_eq!(first.status, 200);
    // Once finished, the same key replays, and changes nothing.
    let again = w
        .post_key(&w.t.acme, &path, &json!({"version": 1}), "slow-key")
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(again.body, first.body);
    let now = w.get(&w.t.acme, &format!("/v1/referrals/{r}")).await;
    assert_eq!(now.body["version"], 2, "accepted once: {}", now.body);
}

#[tokio::test]
async fn batch_outcomes_in_request_order() {
    let w = World::start().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(id(&w
            .send(&w.t.northwind, "acme-web", &format!("Batch {i}"), None)
            .await));
    }
    let theirs = id(&w.send(&w.t.harbor, "pixel-forge", "Not yours", None).await);
    let outgoing = id(&w.send(&w.t.acme, "harbor-host", "Mine out", None).await);
    // Someone else decides ids[1] first.
    w.act(&w.t.acme_admin, &ids[1], "accept", json!({"version": 1}))
        .await
        .ok();
    let body = json!({"items": [
        {"id": ids[0], "action": "accept", "version": 1, "note": "ok"},
        {"id": ids[1], "action": "accept", "version": 1},
        {"id": theirs, "action": "accept", "version": 1},
        {"id": ids[2], "action": "reject", "version": 1, "reason": {"code": "unclear_need"}},
        {"id": ids[3], "action": "teleport", "version": 1},
        {"id": ids[3], "action": "accept"},
        {"id": outgoing, "action": "accept", "version": 1},
        {"id": ids[4], "action": "forward", "version": 1, "to_partner": "pixel-forge"},
        {"id": ids[3], "action": "reject", "version": 1, "reason": {"code": "other"}},
    ]});
    let resp = w.post(&w.t.acme, "/v1/referrals/batch", &body).await.ok();
    let results = resp["results"].as_array().unwrap();
    let outcomes: Vec<&str> = results
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "applied",
            "conflict",
            "not_found",
            "applied",
            "invalid",
            "invalid",
            "forbidden",
            "applied",
            "invalid"
        ]
    );
    let result_ids: Vec<&str> = results.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(result_ids[0], ids[0]);
    assert_eq!(result_ids[2], theirs);
    assert_eq!(results[0]["referral"]["status"], "accepted");
    assert_eq!(results[0]["referral"]["decision_note"], "ok");
    assert!(
        results[1]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Ada Admin")
    );
    assert_eq!(results[1]["error"]["current"]["status"], "accepted");
    assert_eq!(results[7]["referral"]["status"], "forwarded");
    assert_eq!(results[7]["forwarded"]["to_partner"], "pixel-forge");
    assert_eq!(results[8]["error"]["field"], "reason.note");
    assert_eq!(
        resp["summary"],
        json!({"applied": 3, "conflict": 1, "not_found": 1, "invalid": 3, "forbidden": 1})
    );
    // The invalid items changed nothing; the applied ones stuck.
    let r3 = w
        .get(&w.t.acme, &format!("/v1/referrals/{}", ids[3]))
        .await
        .ok();
    assert_eq!(r3["status"], "pending");
    let r2 = w
        .get(&w.t.acme, &format!("/v1/referrals/{}", ids[2]))
        .await
        .ok();
    assert_eq!(r2["status"], "rejected");

    // The request itself.
    w.post(&w.t.acme, "/v1/referrals/batch", &json!({"items": []}))
        .await
        .expect(422, "invalid");
    w.post(&w.t.acme, "/v1/referrals/batch", &json!([1, 2]))
        .await
        .expect(400, "bad_request");
    w.post(
        &w.t.acme,
        "/v1/referrals/batch",
        &json!({"items": [], "extra": 1}),
    )
    .await
    .expect(400, "bad_request");
    let many: Vec<Value> = (0..501)
        .map(|_| json!({"id": ids[0], "action": "accept", "version": 1}))
        .collect();
    w.post(&w.t.acme, "/v1/referrals/batch", &json!({"items": many}))
        .await
        .expect(413, "too_large");
}

#[tokio::test]
async fn batch_is_idempotent() {
    let w = World::start().await;
    let mut items = Vec::new();
    for i in 0..20 {
        let r = id(&w
            .send(&w.t.northwind, "acme-web", &format!("B{i}"), None)
            .await);
        items.push(json!({"id": r, "action": "accept", "version": 1}));
    }
    let body = json!({"items": items});
    let first = w
        .post_key(&w.t.acme, "/v1/referrals/batch", &body, "batch-1")
        .await;
    assert_eq!(first.body["summary"]["applied"], 20);
    let second = w
        .post_key(&w.t.acme, "/v1/referrals/batch", &body, "batch-1")
        .await;
    assert_eq!(second.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(second.body, first.body);
    // All-invalid batches are kept too.
    let bad = json!({"items": [{"id": "x", "action": "nope", "version": 1}]});
    let b1 = w
        .post_key(&w.t.acme, "/v1/referrals/batch", &bad, "batch-2")
        .await;
    assert_eq!(b1.body["summary"]["invalid"], 1);
    let b2 = w
        .post_key(&w.t.acme, "/v1/referrals/batch", &bad, "batch-2")
        .await;
    assert_eq!(b2.headers.get("idempotent-replayed").unwrap(), "true");
}

#[tokio::test]
async fn rate_limit_answers_429() {
    let config = ServerConfig {
        rate_limit: 1,
        ..ServerConfig::for_tests()
    };
    let w = World::start_with(config, |s| s).await;
    w.get(&w.t.acme, "/v1/me").await.ok();
    w.get(&w.t.acme, "/v1/me").await.ok();
    let limited = w.get(&w.t.acme, "/v1/me").await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.code(), "rate_limited");
    assert_eq!(limited.headers.get("retry-after").unwrap(), "1");
    // Per token: another user is not limited.
    w.get(&w.t.northwind, "/v1/me").await.ok();
}
