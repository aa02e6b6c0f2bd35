//! Three `leadx serve`s on one PostgreSQL database act as one exchange
//! (issue 8): a live feed across servers, one winner of a contested
//! action, one action for one Idempotency-Key sent to two servers, nothing
//! lost or doubled when a server is killed mid-batch, and nothing missed
//! when a server's LISTEN connection is killed.
//!
//! Each test makes and drops its own database; without a reachable
//! PostgreSQL they pass vacuously and say so once (`LEADX_REQUIRE_PG=1`, as
//! CI sets, makes that a failure).

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Reply, Tokens, id, lead_body, populate, reply, serve_process};
use futures::StreamExt;
use leadx::clock;
use leadx::server::{RunningServer, ServerConfig, start};
use leadx::store::SharedStore;
use leadx::store::postgres::PgStore;
use leadx::store::postgres::test_db::TestDb;
use serde_json::{Value, json};

/// Three servers, each with its own store (pool, listener, writers) on
/// one database: what three processes behind a load balancer are.
struct Cluster {
    servers: Vec<RunningServer>,
    urls: Vec<String>,
    t: Tokens,
    http: reqwest::Client,
    _stores: Vec<SharedStore>,
    db: TestDb,
}

impl Cluster {
    async fn start(n: usize) -> Option<Cluster> {
        let db = TestDb::create().await?;
        let mut stores: Vec<SharedStore> = Vec::new();
        for _ in 0..n {
            let store = PgStore::connect(&db.url, clock::system())
                .await
                .expect("connect");
            stores.push(Arc::new(store));
        }
        let t = populate(stores[0].as_ref()).await;
        let mut servers = Vec::new();
        for store in &stores {
            servers.push(
                start(store.clone(), clock::system(), ServerConfig::for_tests())
                    .await
                    .expect("server starts"),
            );
        }
        let urls = servers.iter().map(|s| s.url.clone()).collect();
        Some(Cluster {
            servers,
            urls,
            t,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
            _stores: stores,
            db,
        })
    }

    async fn post(&self, server: usize, token: &str, path: &str, body: &Value) -> Reply {
        let r = self
            .http
            .post(format!("{}{path}", self.urls[server]))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request");
        reply(r).await
    }

    async fn post_key(
        &self,
        server: usize,
        token: &str,
        path: &str,
        body: &Value,
        key: &str,
    ) -> Reply {
        let r = self
            .http
            .post(format!("{}{path}", self.urls[server]))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .expect("request");
        reply(r).await
    }

    async fn send(&self, server: usize, company: &str) -> String {
        let r = self
            .post(
                server,
                &self.t.northwind,
                "/v1/referrals",
                &lead_body("acme-web", company, None),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        id(&r.body)
    }

    async fn shutdown(self) {
        for s in self.servers {
            s.shutdown().await;
        }
    }
}

/// Reads `(seq, referral id)` pairs from an event stream as they come.
fn events(response: reqwest::Response) -> tokio::sync::mpsc::UnboundedReceiver<(u64, String)> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut body = response.bytes_stream();
        let mut buf = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                let seq = block
                    .lines()
                    .find_map(|l| l.strip_prefix("id: "))
                    .and_then(|s| s.parse().ok());
                let data = block.lines().find_map(|l| l.strip_prefix("data: "));
                if let (Some(seq), Some(data)) = (seq, data) {
                    let v: Value = serde_json::from_str(data).expect("event JSON");
                    if tx.send((seq, id(&v))).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

async fn subscribe(
    c: &Cluster,
    server: usize,
    token: &str,
    after: Option<u64>,
) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .get(format!("{}/v1/events", c.urls[server]))
        .bearer_auth(token);
    if let Some(a) = after {
        req = req.header("Last-Event-ID", a.to_string());
    }
    let r = req.send().await.expect("subscribe");
    assert_eq!(r.status(), 200);
    r
}

async fn next_for(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<(u64, String)>,
    wanted: &str,
    within: Duration,
) -> u64 {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some((seq, rid))) if rid == wanted => return seq,
            Ok(Some(_)) => continue,
            _ => panic!("no event for {wanted} within {within:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_accept_on_a_reaches_a_subscriber_on_c() {
    let Some(c) = Cluster::start(3).await else {
        return;
    };
    let rid = c.send(0, "Across Co").await;
    let mut feed = events(subscribe(&c, 2, &c.t.northwind, None).await);
    // The stream is open once its first event (or none) can arrive: make
    // sure the subscriber is attached before the accept by waiting for a
    // send made after subscribing.
    let probe = c.send(1, "Probe Co").await;
    next_for(&mut feed, &probe, Duration::from_secs(10)).await;
    let sent = Instant::now();
    let r = c
        .post(
            0,
            &c.t.acme,
            &format!("/v1/referrals/{rid}/accept"),
            &json!({"version": 1}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    next_for(&mut feed, &rid, Duration::from_secs(10)).await;
    // The issue asks for 1 s; a loaded debug build is no place to time it
    // (examples/scale_bench.rs measures it), so this says how long it took.
    eprintln!("accept on A seen on C after {:?}", sent.elapsed());
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_contested_accept_on_three_servers_has_one_winner() {
    let Some(c) = Cluster::start(3).await else {
        return;
    };
    let c = Arc::new(c);
    for round in 0..5 {
        let rid = c.send(round % 3, &format!("Contest {round}")).await;
        let tries = (0..3).map(|server| {
            let (c, rid) = (c.clone(), rid.clone());
            tokio::spawn(async move {
                c.post(
                    server,
                    &c.t.acme,
                    &format!("/v1/referrals/{rid}/accept"),
                    &json!({"version": 1}),
                )
                .await
            })
        });
        let mut statuses = Vec::new();
        for t in tries {
            let r = t.await.unwrap();
            if r.status == 409 {
                assert_eq!(r.code(), "conflict");
                assert_eq!(r.body["error"]["current"]["status"], "accepted");
            }
            statuses.push(r.status.as_u16());
        }
        statuses.sort();
        assert_eq!(statuses, [200, 409, 409], "round {round}");
    }
    Arc::into_inner(c).expect("one owner").shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_idempotency_key_sent_to_two_servers_at_once_applies_once() {
    let Some(c) = Cluster::start(2).await else {
        return;
    };
    let c = Arc::new(c);
    for round in 0..5 {
        let key = format!("same-key-{round}");
        let body = lead_body("acme-web", &format!("Once {round}"), None);
        let tries = (0..2).map(|server| {
            let (c, key, body) = (c.clone(), key.clone(), body.clone());
            tokio::spawn(async move {
                c.post_key(server, &c.t.northwind, "/v1/referrals", &body, &key)
                    .await
            })
        });
        let mut replies = Vec::new();
        for t in tries {
            replies.push(t.await.unwrap());
        }
        // One ran; the other met the key held (409 in flight) or, if it came
        // after, replayed the same answer.
        let created: Vec<&Reply> = replies.iter().filter(|r| r.status == 201).collect();
        assert!(!created.is_empty(), "round {round}: none created");
        for r in &replies {
            assert!(
                r.status == 201 || (r.status == 409 && r.code() == "idempotency_in_flight"),
                "round {round}: {} {}",
                r.status,
                r.body
            );
        }
        let ids: HashSet<String> = created.iter().map(|r| id(&r.body)).collect();
        assert_eq!(ids.len(), 1, "round {round}: two referrals for one key");
        // Once finished, both servers replay the one answer.
        for server in 0..2 {
            let again = c
                .post_key(server, &c.t.northwind, "/v1/referrals", &body, &key)
                .await;
            assert_eq!(again.status, 201);
            assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
            assert_eq!(id(&again.body), *ids.iter().next().unwrap());
        }
    }
    let page = c
        .http
        .get(format!("{}/v1/referrals?box=outgoing&limit=100", c.urls[0]))
        .bearer_auth(&c.t.northwind)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        5,
        "one referral per key"
    );
    Arc::into_inner(c).expect("one owner").shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_listen_connection_loses_no_event_for_any_subscriber() {
    let Some(c) = Cluster::start(2).await else {
        return;
    };
    let mut feed = events(subscribe(&c, 1, &c.t.acme, None).await);
    let probe = c.send(0, "Probe").await;
    next_for(&mut feed, &probe, Duration::from_secs(10)).await;
    let mut sent = Vec::new();
    for i in 0..40 {
        if i % 10 == 5 {
            // Every LISTEN connection on the database (both servers').
            let admin = tokio_postgres::connect(&c.db.url, tokio_postgres::NoTls)
                .await
                .expect("admin connection");
            tokio::spawn(admin.1);
            admin
                .0
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid() \
                     AND query ILIKE 'LISTEN%'",
                    &[],
                )
                .await
                .expect("terminate listeners");
        }
        sent.push(c.send(i % 2, &format!("Through {i}")).await);
    }
    let mut seen = HashSet::new();
    let mut last = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.len() < sent.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        let (seq, rid) = tokio::time::timeout(left, feed.recv())
            .await
            .unwrap_or_else(|_| panic!("saw {} of {} events", seen.len(), sent.len()))
            .expect("stream open");
        assert!(seq > last, "event {seq} after {last}");
        last = seq;
        seen.insert(rid);
    }
    assert_eq!(seen, sent.into_iter().collect::<HashSet<_>>());
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_mid_batch_loses_and_doubles_nothing() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let t = {
        let store = PgStore::connect(&db.url, clock::system()).await.unwrap();
        populate(&store).await
    };
    let (mut a, url_a) = serve_process(&db.url, &[]);
    let (mut b, url_b) = serve_process(&db.url, &[]);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    // 500 pending referrals to acme-web, then one batch accepting them all.
    let mut ids = Vec::new();
    for chunk in 0..5 {
        let sends = (0..100).map(|i| {
            let (http, url, token) = (http.clone(), url_b.clone(), t.northwind.clone());
            async move {
                let r = http
                    .post(format!("{url}/v1/referrals"))
                    .bearer_auth(token)
                    .json(&lead_body("acme-web", &format!("Batch {chunk}-{i}"), None))
                    .send()
                    .await
                    .unwrap();
                id(&reply(r).await.body)
            }
        });
        ids.extend(futures::future::join_all(sends).await);
    }
    let items: Vec<Value> = ids
        .iter()
        .map(|rid| json!({"id": rid, "action": "accept", "version": 1}))
        .collect();
    let batch = json!({ "items": items });
    let send_batch = |url: String| {
        http.post(format!("{url}/v1/referrals/batch"))
            .bearer_auth(&t.acme)
            .header("Idempotency-Key", "the-batch")
            .json(&batch)
            .send()
    };
    // Send to A and kill it (SIGKILL) once the batch's write holds its key
    // (the transaction-long lock on the user and key: the request is in
    // flight inside A's transaction) or, if the poll missed that window,
    // once its answer is kept (a kill after the commit is a run too).
    let (admin, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .expect("admin connection");
    tokio::spawn(connection);
    let first = tokio::spawn(send_batch(url_a.clone()));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let held: i64 = admin
            .query_one(
                "SELECT (SELECT count(*) FROM pg_locks l, users u, \
                 LATERAL (SELECT hashtextextended(u.id || E'\\n' || 'the-batch', $1) AS h) k \
                 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
                 AND l.classid = ((k.h >> 32) & 4294967295)::oid \
                 AND l.objid = (k.h & 4294967295)::oid) \
                 + (SELECT count(*) FROM idempotency WHERE key = 'the-batch')",
                &[&leadx::store::postgres::write::KEY_LOCK_SEED],
            )
            .await
            .unwrap()
            .get(0);
        if held > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the batch never reached A's store"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    a.kill().expect("kill -9");
    a.wait().unwrap();
    let killed_at = Instant::now();
    let answered_by_a = first.await.unwrap().ok();
    // The client retries on B with the same key until it has an answer: a
    // key held by a dead server's transaction is free once its database
    // session is gone (the transaction rolled back with it).
    let mut in_flight = 0;
    let result = loop {
        if let Some(r) = &answered_by_a
            && r.status() == 200
        {
            break None;
        }
        let r = reply(send_batch(url_b.clone()).await.unwrap()).await;
        if r.status == 200 {
            break Some(r);
        }
        assert!(
            r.status == 409 && r.code() == "idempotency_in_flight",
            "{} {}",
            r.status,
            r.body
        );
        in_flight += 1;
        assert!(
            killed_at.elapsed() < Duration::from_secs(30),
            "the dead server's key was not freed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!(
        "A answered: {:?}; B said in flight {in_flight} times, then {:?}",
        answered_by_a.as_ref().map(|r| r.status()),
        result
            .as_ref()
            .map(|r| (r.status, r.headers.get("idempotent-replayed").cloned())),
    );
    if let Some(r) = &result {
        let outcomes: HashMap<String, usize> =
            r.body["results"]
                .as_array()
                .unwrap()
                .iter()
                .fold(HashMap::new(), |mut m, item| {
                    *m.entry(item["outcome"].as_str().unwrap().to_string())
                        .or_default() += 1;
                    m
                });
        assert_eq!(outcomes.get("applied"), Some(&500), "{outcomes:?}");
    }
    // Every referral accepted exactly once: version 2, one accept event each.
    let page = http
        .get(format!("{url_b}/v1/referrals?box=incoming&limit=1000"))
        .bearer_auth(&t.acme)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 500);
    for item in items {
        assert_eq!(item["status"], "accepted");
        assert_eq!(item["version"], 2, "accepted more than once: {item}");
    }
    b.kill().unwrap();
    b.wait().unwrap();
    drop(db);
}
