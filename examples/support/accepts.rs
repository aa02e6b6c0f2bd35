//! The single-accept load of `server_bench` and `scale_bench`: pending
//! referrals seeded straight through a store (not timed), then HTTP
//! clients each accepting their own share, spread round-robin over one or
//! more servers, with the store's accepted count checked afterwards.

use std::sync::Arc;
use std::time::{Duration, Instant};

use leadx::domain::Actor;
use leadx::store::SharedStore;
use leadx::wire::{CreateReferral, LeadInput, Status};
use serde_json::json;

use super::check;

/// The `p` quantile (0..=1) of sorted durations (nearest rank).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Sends one request built by `req`, again (the same request) after
/// `Retry-After` while the server answers 429, as `leadx::client` does.
/// Returns the answer and how many 429s came first.
pub async fn send_retrying(
    req: impl Fn() -> reqwest::RequestBuilder,
) -> (reqwest::Response, usize) {
    let mut refused = 0;
    loop {
        let r = req().send().await.expect("request");
        if r.status() != 429 {
            return (r, refused);
        }
        refused += 1;
        let wait = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            .unwrap_or(1);
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
}

/// Creates `n` pending referrals from `sender` to `to` straight in the
/// store, 16 at a time (so the store's group commit batches them); their
/// ids.
pub async fn seed_pending(store: &SharedStore, sender: &Actor, to: &str, n: usize) -> Vec<String> {
    let writers = (0..16).map(|t| async move {
        let mut ids = Vec::new();
        for i in (t..n).step_by(16) {
            let request = CreateReferral {
                to_partner: to.into(),
                lead: LeadInput {
                    company: Some(format!("Bench {i}")),
                    category: Some("hosting".into()),
                    ..LeadInput::default()
                },
                commission_pct: None,
                note: None,
                expires_in_hours: None,
            };
            let created = store
                .create(sender, request, None)
                .await
                .expect("store")
                .expect("created");
            ids.push(created.referral.referral.id);
        }
        ids
    });
    futures::future::join_all(writers)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// How many referrals the store holds as accepted.
pub async fn accepted(store: &SharedStore) -> u64 {
    store
        .count_by_status()
        .await
        .expect("counts")
        .iter()
        .find(|(s, _)| *s == Status::Accepted)
        .map_or(0, |(_, k)| *k)
}

/// Where a run reads how many referrals are accepted: a store of this
/// process, or a PostgreSQL database's URL (for a server in another
/// process: no store of this one then listens to the database's events
/// beside it, which would cost PostgreSQL a reader more).
pub enum Counter<'a> {
    Store(&'a SharedStore),
    Database(&'a str),
}

impl Counter<'_> {
    pub async fn accepted(&self) -> u64 {
        match self {
            Counter::Store(store) => accepted(store).await,
            Counter::Database(url) => super::postgres::accepted_in(url).await,
        }
    }
}

/// What one run of [`run`] measured.
pub struct AcceptFigures {
    pub accepts: usize,
    pub elapsed: Duration,
    /// Every request's latency, sorted.
    pub latencies: Vec<Duration>,
    /// 429 answers that were waited out and sent again.
    pub refused: usize,
}

impl AcceptFigures {
    pub fn per_sec(&self) -> f64 {
        self.accepts as f64 / self.elapsed.as_secs_f64()
    }
    pub fn p50(&self) -> Duration {
        percentile(&self.latencies, 0.50)
    }
    pub fn p99(&self) -> Duration {
        percentile(&self.latencies, 0.99)
    }
}

/// `clients` concurrent HTTP clients, client `c` on `urls[c % len]` with
/// `tokens[c % len]`, each accepting its own `per_client` referrals of
/// `ids` (seeded beforehand) one after another. Checks that every answer
/// was 200 and that `count` then finds exactly that many more accepted.
pub async fn run(
    http: &reqwest::Client,
    count: Counter<'_>,
    urls: &[String],
    tokens: &[String],
    ids: Vec<String>,
    clients: usize,
    per_client: usize,
) -> AcceptFigures {
    let accepted_before = begin_run(&count, &ids, clients * per_client).await;
    let ids = Arc::new(ids);
    let keyed = keyed();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let ids = ids.clone();
        let http = http.clone();
        let url = urls[c % urls.len()].clone();
        let token = tokens[c % tokens.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_client);
            let mut refused = 0;
            for i in 0..per_client {
                let id = &ids[c * per_client + i];
                let t = Instant::now();
                let (r, n) = send_retrying(|| {
                    let r = http
                        .post(format!("{url}/v1/referrals/{id}/accept"))
                        .bearer_auth(&token);
                    let r = if keyed {
                        r.header("Idempotency-Key", format!("bench-{id}"))
                    } else {
                        r
                    };
                    r.json(&json!({"version": 1}))
                })
                .await;
                refused += n;
                check(
                    r.status() == 200,
                    &format!("accept answered {}", r.status()),
                );
                let _ = r.bytes().await.expect("answer body");
                lat.push(t.elapsed());
            }
            (lat, refused)
        }));
    }
    let mut latencies = Vec::new();
    let mut refused = 0;
    for t in tasks {
        let (lat, n) = t.await.expect("client task");
        latencies.extend(lat);
        refused += n;
    }
    end_run(&count, accepted_before, started, latencies, refused).await
}

/// Whether accepts carry an idempotency key: not with
/// `LEADX_BENCH_NO_KEY=1` (what the key costs).
fn keyed() -> bool {
    std::env::var("LEADX_BENCH_NO_KEY").is_err()
}

/// Checks that `ids` hold `n` referrals to accept; how many `count` finds
/// as accepted before the run.
async fn begin_run(count: &Counter<'_>, ids: &[String], n: usize) -> u64 {
    check(ids.len() >= n, "fewer referrals seeded than accepts");
    count.accepted().await
}

/// The figures of a run that started at `started`, once `count` is checked
/// to hold exactly one more accepted per latency measured.
async fn end_run(
    count: &Counter<'_>,
    accepted_before: u64,
    started: Instant,
    mut latencies: Vec<Duration>,
    refused: usize,
) -> AcceptFigures {
    let elapsed = started.elapsed();
    latencies.sort();
    let accepted = count.accepted().await - accepted_before;
    check(
        accepted == latencies.len() as u64,
        &format!(
            "the store has {accepted} more accepted, not {}",
            latencies.len()
        ),
    );
    AcceptFigures {
        accepts: latencies.len(),
        elapsed,
        latencies,
        refused,
    }
}

/// The same accepts straight through the store, no HTTP: `clients`
/// concurrent callers as `actor`, each accepting its own `per_client` of
/// `ids` one after another with an idempotency key (the response kept is
/// the referral's JSON, about what the server keeps; none with
/// `LEADX_BENCH_NO_KEY=1`, as in [`run`]). What the store's
/// path costs, apart from the HTTP server and clients.
pub async fn run_store(
    store: &SharedStore,
    actor: &Actor,
    ids: Vec<String>,
    clients: usize,
    per_client: usize,
) -> AcceptFigures {
    use leadx::domain::{Action, ActionItem};
    use leadx::store::{IdemSave, StoredResponse};
    let accepted_before = begin_run(&Counter::Store(store), &ids, clients * per_client).await;
    let ids = Arc::new(ids);
    let keyed = keyed();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (store, ids, actor) = (store.clone(), ids.clone(), actor.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_client);
            for i in 0..per_client {
                let id = ids[c * per_client + i].clone();
                let t = Instant::now();
                let idem = IdemSave {
                    user_id: actor.user_id.clone(),
                    key: format!("bench-{id}"),
                    request_hash: format!("accept {id}"),
                    render: Box::new(|results| StoredResponse {
                        status: 200,
                        body: match &results[0] {
                            Ok(applied) => {
                                serde_json::to_vec(&applied.referral.referral).expect("response")
                            }
                            Err(_) => Vec::new(),
                        },
                    }),
                };
                let item = ActionItem {
                    id,
                    version: 1,
                    action: Action::Accept { note: None },
                };
                let results = store
                    .apply(&actor, vec![item], keyed.then_some(idem))
                    .await
                    .expect("store");
                check(results[0].is_ok(), "an accept was refused");
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("caller task"));
    }
    end_run(
        &Counter::Store(store),
        accepted_before,
        started,
        latencies,
        0,
    )
    .await
}
