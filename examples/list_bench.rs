//! `leadx list --format json` of 100,000 referrals (issue 4, item 8:
//! ≤ 3 s): seeds a real SQLite store with `N` referrals to or from one
//! partner (acme-web) through the `Store` trait, starts the real server
//! in this process on loopback, and times the real binary
//! `leadx list --box all --format json > /dev/null` three times (median
//! reported), then runs it once more into a file and checks the output is
//! one JSON array of `N` referral objects.
//!
//! ```text
//! cargo build --release --bin leadx --examples
//! cargo run --release --example list_bench [-- N]   # N defaults to 100000
//! ```
//!
//! The binary is taken from next to this example (`target/release/leadx`)
//! or from `$LEADX_BIN`. It gets the server and token from
//! `LEADX_SERVER__URL` / `LEADX_SERVER__TOKEN` and an empty
//! `XDG_CONFIG_HOME`, as a script would run it.
//! `LEADX_BENCH_QUICK=1` (for CI): 500 referrals, the same output check
//! (exit 1 if it fails); the figures mean nothing.

mod support;

use support::{banner, check, cpu_ticks, leadx_bin, load_average, scaled, seed, verdict};

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use leadx::clock::SharedClock;
use leadx::demo::world::trading_partners;
use leadx::server::{ServerConfig, start};
use leadx::store::SharedStore;

/// utime + stime of a finished child (all its threads), from `wait4`'s rusage.
#[repr(C)]
struct Timeval {
    tv_sec: i64,
    tv_usec: i64,
}

#[repr(C)]
struct Rusage {
    ru_utime: Timeval,
    ru_stime: Timeval,
    ru_maxrss: i64,
    rest: [i64; 13],
}

unsafe extern "C" {
    fn wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut Rusage) -> i32;
}

/// One run of the binary: wall time, its CPU (user, system), peak RSS in KiB.
struct Run {
    wall: Duration,
    user: Duration,
    system: Duration,
    max_rss_kib: i64,
}

/// Runs `leadx list --box all --format json` with stdout to `out`.
// The child is reaped by `wait4` (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn run_list(bin: &Path, url: &str, token: &str, config_home: &Path, out: Stdio) -> Run {
    let t = Instant::now();
    let child = Command::new(bin)
        .args(["list", "--box", "all", "--format", "json"])
        .env_clear()
        .env("LEADX_SERVER__URL", url)
        .env("LEADX_SERVER__TOKEN", token)
        .env("XDG_CONFIG_HOME", config_home)
        .env("HOME", config_home)
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn leadx list");
    let mut status = 0i32;
    let mut ru = Rusage {
        ru_utime: Timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        ru_stime: Timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        ru_maxrss: 0,
        rest: [0; 13],
    };
    // SAFETY: the pid is our child's; `status` and `ru` are valid and writable.
    let rc = unsafe { wait4(child.id() as i32, &mut status, 0, &mut ru) };
    let wall = t.elapsed();
    assert_eq!(rc, child.id() as i32, "wait4");
    assert_eq!(status, 0, "leadx list exited with wait status {status}");
    let tv = |v: &Timeval| Duration::from_micros((v.tv_sec * 1_000_000 + v.tv_usec) as u64);
    Run {
        wall,
        user: tv(&ru.ru_utime),
        system: tv(&ru.ru_stime),
        max_rss_kib: ru.ru_maxrss,
    }
}

/// utime + stime of this process (the in-process server and its
/// runtime: the example does nothing else while a run lasts).
fn own_cpu() -> Duration {
    Duration::from_millis(cpu_ticks(std::process::id()) * 10)
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(scaled(100_000, 500));
    let bin = leadx_bin();
    banner(&format!(
        "leadx list --format json benchmark: {n} referrals, binary {}",
        bin.display()
    ));
    let partners = trading_partners();
    let dir = tempfile::tempdir().expect("tempdir");
    let t = Instant::now();
    let seeded = {
        let (dir, partners) = (dir.path().to_path_buf(), partners.to_vec());
        tokio::task::spawn_blocking(move || seed(&dir, n, &partners))
            .await
            .expect("seed")
    };
    println!(
        "seeded {n} referrals through Store::create/apply in {:.1} s (not timed): {}",
        t.elapsed().as_secs_f64(),
        seeded.status_words()
    );
    let clock: SharedClock = seeded.clock.clone();
    let store: SharedStore = seeded.store.clone();
    let server = start(store, clock, ServerConfig::for_tests())
        .await
        .expect("server");
    let config_home = dir.path().join("config");
    std::fs::create_dir_all(&config_home).expect("config home");

    let (url, token) = (server.url.clone(), seeded.token.clone());
    let results = tokio::task::spawn_blocking(move || {
        // One warm-up run: the server's first read of the file after seeding.
        let warm = run_list(&bin, &url, &token, &config_home, Stdio::null());
        println!(
            "  warm-up: {:.2} s wall (not counted)",
            warm.wall.as_secs_f64()
        );
        let mut runs = Vec::new();
        for round in 1..=3 {
            let load = load_average();
            let server_before = own_cpu();
            let r = run_list(&bin, &url, &token, &config_home, Stdio::null());
            let server_cpu = own_cpu().saturating_sub(server_before);
            println!(
                "  run {round}: {:.2} s wall; leadx CPU {:.2} s user + {:.2} s system; peak RSS {:.1} MiB; \
                 server (this process) CPU {:.2} s; load average before {load}",
                r.wall.as_secs_f64(),
                r.user.as_secs_f64(),
                r.system.as_secs_f64(),
                r.max_rss_kib as f64 / 1024.0,
                server_cpu.as_secs_f64()
            );
            runs.push(r);
        }
        // Once more into a file, to check what was written.
        let path = config_home.join("out.json");
        let file = std::fs::File::create(&path).expect("output file");
        let checked = run_list(&bin, &url, &token, &config_home, Stdio::from(file));
        let bytes = std::fs::read(&path).expect("read output");
        (runs, checked, bytes)
    })
    .await
    .expect("runs");
    let (mut runs, checked, bytes) = results;

    let t = Instant::now();
    let value: serde_json::Value = serde_json::from_slice(&bytes).expect("the output is JSON");
    let items = value.as_array().expect("the output is one JSON array");
    let all_referrals = items.iter().all(|v| {
        v.get("id")
            .and_then(|i| i.as_str())
            .is_some_and(|i| i.starts_with("r_"))
    });
    let ids: std::collections::HashSet<&str> = items
        .iter()
        .filter_map(|v| v.get("id").and_then(|i| i.as_str()))
        .collect();
    let shape_ok = items.len() == n && ids.len() == n && all_referrals;
    println!(
        "  output check ({:.2} s run into a file): {} bytes, one JSON array of {} items, {} distinct ids, every item a referral object: {}  (parsed in {:.2} s)",
        checked.wall.as_secs_f64(),
        bytes.len(),
        items.len(),
        ids.len(),
        if shape_ok { "ok" } else { "WRONG" },
        t.elapsed().as_secs_f64()
    );

    runs.sort_by_key(|r| r.wall);
    let median = &runs[1];
    let ok = median.wall <= Duration::from_secs(3) && shape_ok;
    println!(
        "leadx list --box all --format json of {n} referrals: median {:.2} s of 3 (min {:.2} s, max {:.2} s); \
         leadx CPU at the median {:.2} s  (target ≤ 3 s) {}",
        median.wall.as_secs_f64(),
        runs[0].wall.as_secs_f64(),
        runs[2].wall.as_secs_f64(),
        (median.user + median.system).as_secs_f64(),
        verdict(ok)
    );
    server.shutdown().await;
    check(
        shape_ok,
        "the output is not one JSON array of every referral",
    );
}
