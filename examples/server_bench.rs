//! Load generator for `leadx serve`: run with
//! `cargo run --release --example server_bench`.
//!
//! Starts a real server in-process on a loopback port over a real SQLite
//! file (WAL, synchronous=FULL), then measures over real HTTP:
//! single accepts/s and p50/p99 latency with 1 and 64 concurrent clients,
//! the latency of 500-item batches, and event fan-out latency (action
//! POST sent → event received, slowest subscriber too) with 1,000 live subscribers.
//! It does so twice, and says which is which:
//!
//! * **unlimited, one token**: `rate_limit: 0` and every client using the
//!   same receiver's token (the configuration of the first recorded figures);
//! * **stock `leadx serve`**: `ServerConfig::default()` (as `leadx serve`
//!   starts it: 100 requests a second per token, bursts of 200), every
//!   client a user of its own with its own token. A client refused with 429
//!   waits out `Retry-After` and sends the same request again, as
//!   `leadx::client` does; the 429s are counted.
//!
//! The referrals to accept are created straight in the store (not timed;
//! the stock rate limit would make seeding over HTTP take minutes).
//! `LEADX_BENCH_QUICK=1`: a few requests of each kind, checks only.
//! Figures go to stdout; docs/PERFORMANCE.md records them.

mod support;

use support::accepts::{self, percentile, send_retrying};
use support::{banner, check, quick, scaled};

use std::sync::Arc;
use std::time::{Duration, Instant};

use leadx::clock;
use leadx::domain::Actor;
use leadx::server::{ServerConfig, start};
use leadx::store::SharedStore;
use leadx::store::sqlite::SqliteStore;
use leadx::wire::{Partner, PartnerKind, Role};
use serde_json::{Value, json};

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

struct Bench {
    url: String,
    http: reqwest::Client,
    store: SharedStore,
    /// northwind-net's agent: creates the referrals.
    sender: (Actor, String),
    /// acme-web's agents' tokens: client `c` uses `receivers[c % len]`.
    receivers: Vec<String>,
}

impl Bench {
    /// Creates `n` pending referrals to acme-web straight in the store.
    async fn seed(&self, n: usize) -> Vec<String> {
        accepts::seed_pending(&self.store, &self.sender.0, "acme-web", n).await
    }

    async fn accepts(&self, clients: usize, per_client: usize) {
        let ids = self.seed(clients * per_client).await;
        let f = accepts::run(
            &self.http,
            accepts::Counter::Store(&self.store),
            std::slice::from_ref(&self.url),
            &self.receivers,
            ids,
            clients,
            per_client,
        )
        .await;
        println!(
            "single accepts, {clients:>2} client(s), {} token(s): {:>7.0} accepts/s  p50 {}  p99 {}  \
             ({} accepts in {:.2} s; {} answered 429 first and were sent again after Retry-After)",
            clients.min(self.receivers.len()),
            f.per_sec(),
            ms(f.p50()),
            ms(f.p99()),
            f.accepts,
            f.elapsed.as_secs_f64(),
            f.refused
        );
    }

    async fn batches(&self, rounds: usize, size: usize) {
        let mut lat = Vec::new();
        for _ in 0..rounds {
            let ids = self.seed(size).await;
            let items: Vec<Value> = ids
                .iter()
                .map(|id| json!({"id": id, "action": "accept", "version": 1}))
                .collect();
            let t = Instant::now();
            let r: Value = self
                .http
                .post(format!("{}/v1/referrals/batch", self.url))
                .bearer_auth(&self.receivers[0])
                .json(&json!({"items": items}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            lat.push(t.elapsed());
            check(
                r["summary"]["applied"] == size,
                &format!("batch answered {}", r["summary"]),
            );
        }
        lat.sort();
        println!(
            "{size}-item batch accept ({rounds} rounds): p50 {}  max {}",
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
            let token = self.receivers[s % self.receivers.len()].clone();
            let tx = tx.clone();
            let ready = ready.clone();
            handles.push(tokio::spawn(async move {
                let (mut resp, _) = send_retrying(|| http.get(&url).bearer_auth(&token)).await;
                check(
                    resp.status() == 200,
                    &format!("/v1/events answered {}", resp.status()),
                );
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
                .bearer_auth(&self.sender.1)
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
            "event fan-out to {subscribers} subscribers, {} token(s) ({} events after a warm-up, {} deliveries), \
             POST sent -> event received: p50 {}  p99 {}  slowest subscriber per event: p50 {} max {}",
            subscribers.min(self.receivers.len()),
            events - 1,
            lat.len(),
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99)),
            ms(percentile(&slowest, 0.5)),
            ms(*slowest.last().unwrap())
        );
    }
}

/// One full run against a fresh store and server: `config`, and `tokens`
/// users of acme-web (clients and subscribers take them in turn).
async fn run(label: &str, config: ServerConfig, tokens: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("bench.db"), clock::system()).unwrap();
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
    let receivers: Vec<String> = (0..tokens)
        .map(|k| {
            store
                .add_user("acme-web", &format!("Receiver {k}"), Role::Agent)
                .unwrap()
                .1
        })
        .collect();
    let actor = store.authenticate(&sender).unwrap().expect("sender");
    let store: SharedStore = Arc::new(store);
    println!(
        "\n== {label}: rate limit {}, {tokens} receiver token(s)",
        if config.rate_limit == 0 {
            "off (0)".to_string()
        } else {
            format!(
                "{}/s per token, bursts of {}",
                config.rate_limit,
                2 * config.rate_limit
            )
        }
    );
    let server = start(store.clone(), clock::system(), config).await.unwrap();
    let bench = Bench {
        url: server.url.clone(),
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(1100)
            .build()
            .unwrap(),
        store,
        sender: (actor, sender),
        receivers,
    };
    bench.accepts(1, scaled(500, 20)).await;
    bench.accepts(64, scaled(100, 5)).await;
    if tokens > 1 && !quick() {
        // 400 each: every token's bucket (bursts of 200) runs dry, so the
        // limit of 100/s per token can show.
        bench.accepts(64, 400).await;
    }
    bench.batches(scaled(10, 2), scaled(500, 50)).await;
    bench.fanout(scaled(1000, 50), scaled(51, 4)).await;
    server.shutdown().await;
}

#[tokio::main]
async fn main() {
    banner("leadx server benchmark: SQLite WAL synchronous=FULL, loopback HTTP/1.1");
    // The first recorded figures' configuration, kept to compare.
    run(
        "unlimited, one token (rate_limit 0, every client on the same receiver's token)",
        ServerConfig {
            rate_limit: 0,
            // One token for every subscriber: no cap on streams either.
            max_streams_per_user: 0,
            max_streams_per_partner: 0,
            ..ServerConfig::for_tests()
        },
        1,
    )
    .await;
    // As `leadx serve` starts: its default limits; a user and token per client.
    // Its fan-out puts 1,000 subscribers on one partner: twice the default
    // cap of streams per partner, so that cap is lifted here (and said).
    let stock = ServerConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        max_streams_per_partner: 0,
        ..ServerConfig::default()
    };
    run(
        "stock `leadx serve` (ServerConfig::default(): its limits; a token per client)",
        stock,
        scaled(1000, 64),
    )
    .await;
    if quick() {
        println!("quick mode: every check passed");
    }
}
