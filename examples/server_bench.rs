//! Load generator for `leadx serve`: run with
//! `cargo run --release --example server_bench`.
//!
//! Starts a real server in-process on a loopback port over a real SQLite
//! file (WAL, synchronous=FULL), then measures over real HTTP:
//! single accepts/s and p50/p99 latency with 1 and 64 concurrent clients,
//! the latency of 500-item batches, and event fan-out latency (action
//! POST sent → event received, slowest subscriber too) with 1,000 live subscribers.
//! Figures go to stdout; docs/PERFORMANCE.md records them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use leadx::clock;
use leadx::server::{ServerConfig, start};
use leadx::store::SharedStore;
use leadx::store::sqlite::SqliteStore;
use leadx::wire::{Partner, PartnerKind, Role};
use serde_json::{Value, json};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

struct Bench {
    url: String,
    http: reqwest::Client,
    sender: String,
    receiver: String,
}

impl Bench {
    /// Sends `n` leads (in batches of parallel requests) and returns their ids.
    async fn seed(&self, n: usize) -> Vec<String> {
        let mut ids = Vec::with_capacity(n);
        let mut pending = Vec::new();
        for i in 0..n {
            let http = self.http.clone();
            let url = format!("{}/v1/referrals", self.url);
            let token = self.sender.clone();
            pending.push(tokio::spawn(async move {
                let body = json!({"to_partner": "acme-web", "lead": {"company": format!("Bench {i}"), "category": "hosting"}});
                let r: Value = http.post(url).bearer_auth(token).json(&body).send().await.unwrap().json().await.unwrap();
                r["id"].as_str().unwrap().to_owned()
            }));
            if pending.len() == 64 {
                for p in pending.drain(..) {
                    ids.push(p.await.unwrap());
                }
            }
        }
        for p in pending {
            ids.push(p.await.unwrap());
        }
        ids
    }

    async fn accepts(&self, clients: usize, per_client: usize) {
        let ids = self.seed(clients * per_client).await;
        let ids = Arc::new(ids);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..clients {
            let ids = ids.clone();
            let http = self.http.clone();
            let url = self.url.clone();
            let token = self.receiver.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::with_capacity(per_client);
                for i in 0..per_client {
                    let id = &ids[c * per_client + i];
                    let t = Instant::now();
                    let r = http
                        .post(format!("{url}/v1/referrals/{id}/accept"))
                        .bearer_auth(&token)
                        .header("Idempotency-Key", format!("bench-{id}"))
                        .json(&json!({"version": 1}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    let _ = r.bytes().await.unwrap();
                    lat.push(t.elapsed());
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        let elapsed = started.elapsed();
        all.sort();
        println!(
            "single accepts, {clients:>2} client(s): {:>7.0} accepts/s  p50 {}  p99 {}  ({} accepts in {:.2} s)",
            all.len() as f64 / elapsed.as_secs_f64(),
            ms(percentile(&all, 0.50)),
            ms(percentile(&all, 0.99)),
            all.len(),
            elapsed.as_secs_f64()
        );
    }

    async fn batches(&self, rounds: usize) {
        let mut lat = Vec::new();
        for _ in 0..rounds {
            let ids = self.seed(500).await;
            let items: Vec<Value> = ids
                .iter()
                .map(|id| json!({"id": id, "action": "accept", "version": 1}))
                .collect();
            let t = Instant::now();
            let r: Value = self
                .http
                .post(format!("{}/v1/referrals/batch", self.url))
                .bearer_auth(&self.receiver)
                .json(&json!({"items": items}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            lat.push(t.elapsed());
            assert_eq!(r["summary"]["applied"], 500);
        }
        lat.sort();
        println!(
            "500-item batch accept ({rounds} rounds): p50 {}  max {}",
            ms(percentile(&lat, 0.5)),
            ms(*lat.last().unwrap())
        );
    }

    async fn fanout(&self, subscribers: usize, events: usize) {
        // Every subscriber is a user of acme-web: each sees every event.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, String, Instant)>();
        let mut handles = Vec::new();
        let ready = Arc::new(tokio::sync::Semaphore::new(0));
        for s in 0..subscribers {
            let http = self.http.clone();
            let url = format!("{}/v1/events", self.url);
            let token = self.receiver.clone();
            let tx = tx.clone();
            let ready = ready.clone();
            handles.push(tokio::spawn(async move {
                let mut resp = http.get(url).bearer_auth(token).send().await.unwrap();
                ready.add_permits(1);
                let mut buf = String::new();
                while let Ok(Some(chunk)) = resp.chunk().await {
                    buf.push_str(std::str::from_utf8(&chunk).unwrap());
                    while let Some(end) = buf.find("\n\n") {
                        let block: String = buf.drain(..end + 2).collect();
                        // The id is the object's first field: read it without
                        // parsing the whole referral, so the 1,000 readers in
                        // this process take little from the server's two cores.
                        if let Some(id) = block
                            .lines()
                            .find_map(|l| l.strip_prefix("data: {\"id\":\""))
                            .and_then(|rest| rest.split('"').next())
                        {
                            let _ = tx.send((s, id.to_owned(), Instant::now()));
                        }
                    }
                }
            }));
        }
        let _ = ready.acquire_many(subscribers as u32).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        // Latency is measured from the moment the POST is sent (the event is
        // broadcast at commit, before the answer goes back, so timing from
        // the answer would round to zero) to each subscriber's receipt; the
        // slowest subscriber of each event is reported too.
        let mut lat = Vec::new();
        let mut slowest = Vec::new();
        for i in 0..events {
            let body = json!({"to_partner": "acme-web", "lead": {"company": format!("Fan {i}"), "category": "hosting"}});
            let sent = Instant::now();
            let r: Value = self
                .http
                .post(format!("{}/v1/referrals", self.url))
                .bearer_auth(&self.sender)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let id = r["id"].as_str().unwrap().to_owned();
            let mut got = 0;
            let mut worst = Duration::ZERO;
            while got < subscribers {
                let (_, eid, at) = rx.recv().await.unwrap();
                if eid == id {
                    let d = at.saturating_duration_since(sent);
                    worst = worst.max(d);
                    lat.push(d);
                    got += 1;
                }
            }
            // The first event after 1,000 connections open is a warm-up
            // (every stream's first write): not counted.
            if i == 0 {
                lat.clear();
            } else {
                slowest.push(worst);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for h in handles {
            h.abort();
        }
        lat.sort();
        slowest.sort();
        println!(
            "event fan-out to {subscribers} subscribers ({} events after a warm-up, {} deliveries), POST sent -> event received: p50 {}  p99 {}  slowest subscriber per event: p50 {} max {}",
            events - 1,
            lat.len(),
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99)),
            ms(percentile(&slowest, 0.5)),
            ms(*slowest.last().unwrap())
        );
    }
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("leadx-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::open(&dir.join("bench.db"), clock::system()).unwrap();
    for (id, kind) in [
        ("northwind-net", PartnerKind::Provider),
        ("acme-web", PartnerKind::Integrator),
    ] {
        store
            .add_partner(&Partner {
                id: id.into(),
                name: id.into(),
                kind,
                categories: vec![],
                regions: vec![],
            })
            .unwrap();
    }
    let sender = store
        .add_user("northwind-net", "Sender", Role::Agent)
        .unwrap()
        .1;
    let receiver = store
        .add_user("acme-web", "Receiver", Role::Agent)
        .unwrap()
        .1;
    let store: SharedStore = Arc::new(store);
    let server = start(
        store,
        clock::system(),
        ServerConfig {
            rate_limit: 0,
            ..ServerConfig::for_tests()
        },
    )
    .await
    .unwrap();
    let bench = Bench {
        url: server.url.clone(),
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(1100)
            .build()
            .unwrap(),
        sender,
        receiver,
    };
    println!(
        "leadx server benchmark: {} cores, SQLite WAL synchronous=FULL, loopback HTTP/1.1",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    bench.accepts(1, 500).await;
    bench.accepts(64, 100).await;
    bench.batches(10).await;
    bench.fanout(1000, 51).await;
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
