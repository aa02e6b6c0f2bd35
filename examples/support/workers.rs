//! The fan-out load generator split over several processes: one process
//! may hold at most its open-files hard limit of sockets (20,000 in this
//! container, not raisable), so `scale_bench` runs itself again as
//! workers (`current_exe()` with [`WORKER_ARG`]), each with at most
//! [`PER_WORKER`] subscribers, its own source addresses and its own tokio
//! runtime. A worker is driven by JSON lines on its stdin and answers one
//! JSON line on its stdout per command: subscribers opened (per server,
//! failures), or an event's receipt times on `CLOCK_MONOTONIC`, which the
//! parent compares with its own send time on the same clock.
//!
//! A worker dies with its parent (`PR_SET_PDEATHSIG`), exits when its
//! stdin closes, and stops by itself after the time it is given.

use std::net::SocketAddr;
use std::ops::Range;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

use super::fanout::{Serve, raise_nofile};
use super::subscribers::Subscribers;
use super::{check, cpu_split, status_kib};

/// The hidden argument that makes `scale_bench` a worker.
pub const WORKER_ARG: &str = "--fanout-worker";
/// Subscribers one worker holds at most (one socket each, under the
/// 20,000 open files a process may have here).
pub const PER_WORKER: usize = 15_000;

/// What a worker is given on its first stdin line.
#[derive(Serialize, Deserialize)]
struct Plan {
    servers: Vec<SocketAddr>,
    tokens: Vec<String>,
    /// Its subscribers (global numbers: server and token by number).
    share: Range<usize>,
    /// Its source addresses, 127.0.0.x.
    hosts: Range<u8>,
    /// It exits by itself after this long.
    limit_secs: u64,
}

/// A command to a worker.
#[derive(Serialize, Deserialize)]
enum Order {
    /// Open subscribers `from..to` (within its share).
    Open {
        from: usize,
        to: usize,
        in_flight: usize,
        within_ms: u64,
    },
    /// Forget the events read so far.
    Drain,
    /// The moments its subscribers read referral `id`.
    Receipts { id: String, within_ms: u64 },
}

/// A worker's answer to one [`Order`].
#[derive(Serialize, Deserialize)]
enum Answer {
    Opened {
        connected: Vec<usize>,
        failed: usize,
        reasons: Vec<String>,
    },
    Drained,
    Receipts {
        ns: Vec<u64>,
    },
    Failed(String),
}

fn say(answer: &Answer) {
    println!("{}", serde_json::to_string(answer).expect("answer"));
}

/// A worker's whole life: never returns.
pub fn worker_main() -> ! {
    let mut line = String::new();
    let read = std::io::stdin().read_line(&mut line);
    check(read.is_ok_and(|n| n > 0), "worker: no plan on stdin");
    let plan: Plan = serde_json::from_str(&line).expect("worker: plan");
    let need = plan.share.len() as u64 + 256;
    let (limits, how) = raise_nofile(need);
    if limits.0 < need {
        say(&Answer::Failed(format!(
            "a worker of {} subscribers needs {need} open files; {how}",
            plan.share.len()
        )));
        std::process::exit(1);
    }
    let limit = Duration::from_secs(plan.limit_secs);
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        eprintln!("scale_bench worker: still running after {limit:?}; stopping");
        std::process::exit(3);
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("worker runtime");
    runtime.block_on(serve_orders(plan));
    std::process::exit(0)
}

async fn serve_orders(plan: Plan) {
    let mut subs = Subscribers::new(&plan.servers, &plan.tokens, plan.hosts.clone());
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let order: Order = serde_json::from_str(&line).expect("worker: order");
        match order {
            Order::Open {
                from,
                to,
                in_flight,
                within_ms,
            } => {
                let (was, failed) = (subs.connected.clone(), subs.failed);
                let within = Duration::from_millis(within_ms);
                subs.open(from..to, in_flight, within).await;
                let connected = subs.connected.iter().zip(&was).map(|(a, b)| a - b);
                say(&Answer::Opened {
                    connected: connected.collect(),
                    failed: subs.failed - failed,
                    reasons: std::mem::take(&mut subs.reasons),
                });
            }
            Order::Drain => {
                subs.drain();
                say(&Answer::Drained);
            }
            Order::Receipts { id, within_ms } => {
                let within = Duration::from_millis(within_ms);
                let ns = subs.receipts(&id, within).await;
                say(&Answer::Receipts { ns });
            }
        }
    }
    subs.close();
}

/// One worker process, seen from the parent.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    share: Range<usize>,
}

impl Worker {
    async fn order(&mut self, order: &Order) {
        let mut line = serde_json::to_string(order).expect("order");
        line.push('\n');
        let sent = self.stdin.write_all(line.as_bytes()).await;
        check(sent.is_ok(), "a fan-out worker stopped taking orders");
    }

    async fn answer(&mut self) -> Answer {
        let line = self.stdout.next_line().await.ok().flatten();
        let Some(line) = line else {
            check(false, "a fan-out worker exited (see its message above)");
            unreachable!();
        };
        let answer: Answer = serde_json::from_str(&line).expect("worker answer");
        if let Answer::Failed(why) = &answer {
            check(false, &format!("fan-out worker: {why}"));
        }
        answer
    }

    fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }
}

/// N subscribers over several worker processes.
pub struct Workers {
    workers: Vec<Worker>,
    /// Connected per server, over all workers.
    pub connected: Vec<usize>,
    /// How many failed, and the first reasons.
    pub failed: usize,
    pub reasons: Vec<String>,
    /// How long connecting them took, in all.
    pub connect_time: Duration,
}

impl Workers {
    /// Starts enough workers for `n` subscribers (at least two, so that
    /// quick mode runs the split too) on `servers`, with `tokens` taken in
    /// turn; each stops by itself after `limit`. Await it on the main
    /// thread (the future `block_on` runs): `PR_SET_PDEATHSIG` follows the
    /// thread that spawned.
    pub async fn spawn(
        servers: &[SocketAddr],
        tokens: &[String],
        n: usize,
        limit: Duration,
    ) -> Self {
        let count = n.div_ceil(PER_WORKER).max(2).min(n.max(1));
        let exe = std::env::current_exe().expect("current_exe");
        let mut workers = Vec::with_capacity(count);
        let mut next_host = 2u8;
        for w in 0..count {
            let share = n * w / count..n * (w + 1) / count;
            // About one source address per 8,000 subscribers, at least two.
            let hosts = (share.len() / 8_000 + 2) as u8;
            check(
                next_host <= 254 - hosts,
                "out of 127.0.0.x source addresses",
            );
            let plan = Plan {
                servers: servers.to_vec(),
                tokens: tokens.to_vec(),
                share: share.clone(),
                hosts: next_host..next_host + hosts,
                limit_secs: limit.as_secs().max(1),
            };
            next_host += hosts;
            let mut cmd = tokio::process::Command::new(&exe);
            cmd.arg(WORKER_ARG)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .kill_on_drop(true);
            // SAFETY: prctl is an async-signal-safe system call; nothing
            // else runs in the child before exec.
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let mut child = cmd.spawn().expect("spawn a fan-out worker");
            let mut stdin = child.stdin.take().expect("worker stdin");
            let stdout = BufReader::new(child.stdout.take().expect("worker stdout")).lines();
            let plan = serde_json::to_string(&plan).expect("plan") + "\n";
            let sent = stdin.write_all(plan.as_bytes()).await;
            check(sent.is_ok(), "a fan-out worker did not take its plan");
            workers.push(Worker {
                child,
                stdin,
                stdout,
                share,
            });
        }
        Workers {
            workers,
            connected: vec![0; servers.len()],
            failed: 0,
            reasons: Vec::new(),
            connect_time: Duration::ZERO,
        }
    }

    /// How many worker processes.
    pub fn count(&self) -> usize {
        self.workers.len()
    }

    /// Sends `order(worker)` to every worker, then reads one answer from
    /// each (they work at once).
    async fn all(&mut self, order: impl Fn(&Worker) -> Order) -> Vec<Answer> {
        for w in &mut self.workers {
            let o = order(w);
            w.order(&o).await;
        }
        futures::future::join_all(self.workers.iter_mut().map(Worker::answer)).await
    }

    /// Opens part `part` of `parts` of every worker's share, at most
    /// `in_flight` connecting at once over all workers; waits until each
    /// is connected or failed, or `within` has passed.
    pub async fn open(&mut self, part: usize, parts: usize, in_flight: usize, within: Duration) {
        let started = Instant::now();
        let per_worker = in_flight.div_ceil(self.workers.len());
        let answers = self
            .all(|w| {
                let (from, len) = (w.share.start, w.share.len());
                Order::Open {
                    from: from + len * part / parts,
                    to: from + len * (part + 1) / parts,
                    in_flight: per_worker,
                    within_ms: within.as_millis() as u64,
                }
            })
            .await;
        for answer in answers {
            let Answer::Opened {
                connected,
                failed,
                reasons,
            } = answer
            else {
                check(false, "a fan-out worker answered out of turn");
                unreachable!();
            };
            for (k, c) in connected.into_iter().enumerate() {
                self.connected[k] += c;
            }
            self.failed += failed;
            let room = 5usize.saturating_sub(self.reasons.len());
            self.reasons.extend(reasons.into_iter().take(room));
        }
        self.connect_time += started.elapsed();
    }

    pub fn total(&self) -> usize {
        self.connected.iter().sum()
    }

    /// Drops events read so far (e.g. before the one to time).
    pub async fn drain(&mut self) {
        self.all(|_| Order::Drain).await;
    }

    /// The moments (`CLOCK_MONOTONIC` ns) the subscribers read referral
    /// `id`, until every connected one has or `within` has passed.
    pub async fn receipts(&mut self, id: &str, within: Duration) -> Vec<u64> {
        let within_ms = within.as_millis() as u64;
        let answers = self
            .all(|_| Order::Receipts {
                id: id.to_owned(),
                within_ms,
            })
            .await;
        let mut all = Vec::new();
        for answer in answers {
            if let Answer::Receipts { ns } = answer {
                all.extend(ns);
            } else {
                check(false, "a fan-out worker answered out of turn");
            }
        }
        all
    }

    /// utime and stime of the workers together, in clock ticks.
    pub fn cpu_split(&self) -> (u64, u64) {
        self.workers.iter().fold((0, 0), |(u, s), w| {
            let (du, ds) = cpu_split(w.pid());
            (u + du, s + ds)
        })
    }

    /// Prints the CPU the servers and the workers spent since `before`
    /// (each server's) and `workers_before` (user and system ticks), per
    /// server and per subscriber (10 ms ticks: read as rough).
    pub fn print_event_cpu(
        &self,
        servers: &[Serve],
        before: &[(u64, u64)],
        workers_before: (u64, u64),
    ) {
        let us = |ticks: u64, per: usize| ticks as f64 * 10_000.0 / per.max(1) as f64;
        for (k, s) in servers.iter().enumerate() {
            let (user, system) = cpu_split(s.pid());
            let (user, system) = (user - before[k].0, system - before[k].1);
            let held = self.connected[k];
            println!(
                "      server {k}: CPU {} ms user + {} ms system for this event: \
                 {:.1} + {:.1} µs per subscriber",
                user * 10,
                system * 10,
                us(user, held),
                us(system, held)
            );
        }
        let (user, system) = self.cpu_split();
        let (user, system) = (user - workers_before.0, system - workers_before.1);
        println!(
            "      workers: CPU {} ms user + {} ms system: {:.1} + {:.1} µs per subscriber",
            user * 10,
            system * 10,
            us(user, self.total()),
            us(system, self.total())
        );
    }

    /// Resident memory of the workers together, KiB.
    pub fn rss_kib(&self) -> u64 {
        self.workers
            .iter()
            .map(|w| status_kib(w.pid(), "VmRSS"))
            .sum()
    }

    /// Closes every connection: each worker's stdin closes, it exits.
    pub async fn close(self) {
        for mut w in self.workers {
            drop(w.stdin);
            let waited = tokio::time::timeout(Duration::from_secs(10), w.child.wait()).await;
            if waited.is_err() {
                let _ = w.child.kill().await;
            }
        }
    }
}
