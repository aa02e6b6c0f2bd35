//! What the release-mode benchmarks share: the real `leadx` binary next to
//! them, and a real SQLite store seeded with many referrals through the
//! `Store` trait (this file); and one module per job that more than one
//! case runs, or that would make its example too long: the accept load
//! (`accepts`), the fan-out and its subscriber workers (`fanout`,
//! `subscribers`, `workers`), the exchange a scale run sets up (`exchange`,
//! `postgres`), timing and its report (`timed`), made-up or hour-aligned
//! referrals (`synth_referral`, `hourly_seed`), raw HTTP and endless
//! pages for the hostile-input runs (`raw_http`, `endless`, `list_peak`).
//! Each example includes it with `mod support;`.
#![allow(dead_code)]

pub mod accepts;
pub mod endless;
pub mod exchange;
pub mod fanout;
pub mod hourly_seed;
pub mod list_peak;
pub mod postgres;
pub mod raw_http;
pub mod subscribers;
pub mod synth_referral;
pub mod timed;
pub mod workers;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use leadx::clock::{ManualClock, SharedClock};
use leadx::demo::world::{LeadFactory, commission, lead_region, sender_note};
use leadx::domain::{Action, ActionItem, Actor};
use leadx::store::sqlite::SqliteStore;
use leadx::wire::{CreateReferral, Partner, ReasonCode, ReasonInput, Role};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

/// The partner whose referrals are measured (the demo integrator).
pub const ME: &str = "acme-web";

/// `PASS` or `MISS`.
pub fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

/// Quick mode (`LEADX_BENCH_QUICK=1`, as `.ci/run` runs every example): a
/// small N and a few seconds, so the benchmark's code and its checks of the
/// result keep working; its figures mean nothing.
pub fn quick() -> bool {
    std::env::var("LEADX_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// `full` normally, `small` in quick mode.
pub fn scaled<T>(full: T, small: T) -> T {
    if quick() { small } else { full }
}

/// The first line of every benchmark's output: what ran, on what.
pub fn banner(what: &str) {
    println!(
        "{what}; {} cores, {} build{}, load average {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        if cfg!(debug_assertions) {
            "DEBUG"
        } else {
            "release"
        },
        if quick() {
            ", QUICK mode (small N: checks only, the figures mean nothing)"
        } else {
            ""
        },
        load_average()
    );
}

/// A check of the result (counts, statuses) failed: say so and exit 1.
/// Targets missed are figures (MISS), not failed checks.
pub fn check(ok: bool, what: &str) {
    if !ok {
        eprintln!("CHECK FAILED: {what}");
        std::process::exit(1);
    }
}

/// Milliseconds, as a float.
pub fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// A `kB` field of `/proc/PID/status` (`VmRSS`, `VmHWM`: the peak), in KiB.
pub fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// utime + stime of a process (all its threads), in clock ticks (10 ms).
pub fn cpu_ticks(pid: u32) -> u64 {
    let (user, system) = cpu_split(pid);
    user + system
}

/// utime and stime of a process (all its threads), in clock ticks (10 ms):
/// its own code, and the kernel working for it (system calls, the
/// loopback's TCP).
pub fn cpu_split(pid: u32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // Fields after the command name (which may hold spaces) start at state.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // state is field 3; utime 14, stime 15 → indices 11 and 12 here.
    (
        f[11].parse::<u64>().expect("utime"),
        f[12].parse::<u64>().expect("stime"),
    )
}

/// `1634` → `1,634`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One case's bytes per new lead against the 2 KB target, with its
/// verdict: `case NAME: 1,634–2,128 B  MISS (limit 2,048)`. Any lead over
/// the limit makes the case a MISS.
pub fn bytes_case(name: &str, per_lead: &[usize]) -> bool {
    const LIMIT: usize = 2048;
    let (lo, hi) = (
        per_lead.iter().min().copied().unwrap_or(0),
        per_lead.iter().max().copied().unwrap_or(0),
    );
    let over = per_lead.iter().filter(|&&b| b > LIMIT).count();
    let ok = over == 0;
    println!(
        "case {name}: {}–{} B over {} leads  {} (limit {}{})",
        thousands(lo),
        thousands(hi),
        per_lead.len(),
        verdict(ok),
        thousands(LIMIT),
        if ok {
            String::new()
        } else {
            format!("; {over} lead(s) over")
        }
    );
    ok
}

/// The `leadx` binary (an absolute path): `$LEADX_BIN`, else the one built
/// next to this example.
pub fn leadx_bin() -> PathBuf {
    let bin = match std::env::var_os("LEADX_BIN") {
        Some(p) => PathBuf::from(p),
        // target/<profile>/examples/<name> → target/<profile>/leadx
        None => std::env::current_exe()
            .expect("current exe")
            .parent()
            .and_then(Path::parent)
            .map(|d| d.join("leadx"))
            .expect("target dir"),
    };
    let bin = std::fs::canonicalize(&bin).unwrap_or(bin);
    if !bin.is_file() {
        eprintln!(
            "{} is missing: run `cargo build --release --bin leadx` first (or set LEADX_BIN)",
            bin.display()
        );
        std::process::exit(2);
    }
    bin
}

/// A seeded store and a token of `ME`'s agent.
pub struct Seeded {
    pub store: Arc<SqliteStore>,
    pub clock: Arc<ManualClock>,
    pub token: String,
}

impl Seeded {
    /// What the store holds by status: `pending 3600, accepted 40000, ...`.
    pub fn status_words(&self) -> String {
        let counts = self.store.count_by_status().expect("counts");
        let words: Vec<String> = counts
            .iter()
            .map(|(s, k)| format!("{} {k}", s.as_str()))
            .collect();
        words.join(", ")
    }
}

/// A made-up lead for `other` to send or receive: one of its categories
/// (hosting when it has none) and a region, drawn from `rng` in that order.
pub fn lead_from(
    rng: &mut StdRng,
    leads: &mut LeadFactory,
    other: &Partner,
) -> leadx::wire::LeadInput {
    let category = other
        .categories
        .choose(rng)
        .cloned()
        .unwrap_or_else(|| "hosting".into());
    let region = lead_region(rng);
    leads.lead(rng, &category, region)
}

/// Adds `partners` to `store`, each with one agent ("Sam Ortiz"): the
/// agents as the store authenticates them, and their tokens, by partner id.
pub fn agents(
    store: &SqliteStore,
    partners: &[Partner],
) -> (
    std::collections::HashMap<String, Actor>,
    std::collections::HashMap<String, String>,
) {
    let mut actors = std::collections::HashMap::new();
    let mut tokens = std::collections::HashMap::new();
    for p in partners {
        store.add_partner(p).expect("partner");
        let (_, t) = store
            .add_user(&p.id, "Sam Ortiz", Role::Agent)
            .expect("user");
        let actor: Actor = store.authenticate(&t).expect("auth").expect("actor");
        actors.insert(p.id.clone(), actor);
        tokens.insert(p.id.clone(), t);
    }
    (actors, tokens)
}

/// A real SQLite store with `n` referrals to or from acme-web, created
/// through `Store::create` over 30 simulated days, many decided through
/// `Store::apply`, the overdue ones expired.
pub fn seed(dir: &std::path::Path, n: usize, partners: &[Partner]) -> Seeded {
    let start = Utc::now() - chrono::Duration::days(30);
    let clock = ManualClock::new(start);
    let shared: SharedClock = clock.clone();
    let store = Arc::new(SqliteStore::open(&dir.join("bench.db"), shared).expect("open store"));
    let (actors, tokens) = agents(&store, partners);
    let token = tokens.get(ME).cloned().unwrap_or_default();
    let actors = Arc::new(actors);
    let others: Arc<Vec<Partner>> =
        Arc::new(partners.iter().filter(|p| p.id != ME).cloned().collect());

    const CHUNK: usize = 1000;
    const THREADS: usize = 16;
    let chunks = n.div_ceil(CHUNK);
    let step = chrono::Duration::seconds(30 * 86_400 / chunks.max(1) as i64);
    let mut made = 0;
    for c in 0..chunks {
        clock.set(start + step * c as i32);
        let this = CHUNK.min(n - made);
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (store, actors, others) = (store.clone(), actors.clone(), others.clone());
                std::thread::spawn(move || {
                    let mut rng = StdRng::seed_from_u64((c * THREADS + t) as u64);
                    let mut leads = LeadFactory::new();
                    let mut ids = Vec::new();
                    for k in (t..this).step_by(THREADS) {
                        let i = made + k;
                        let other = others.choose(&mut rng).expect("partners");
                        let mut lead = lead_from(&mut rng, &mut leads, other);
                        // Unique across threads, so duplicate detection stays quiet.
                        lead.domain = lead.domain.map(|d| format!("n{i}-{d}"));
                        let incoming = !i.is_multiple_of(3);
                        let (from, to) = if incoming {
                            (other.id.as_str(), ME)
                        } else {
                            (ME, other.id.as_str())
                        };
                        let request = CreateReferral {
                            to_partner: to.to_string(),
                            lead,
                            commission_pct: Some(commission(&mut rng, other.kind)),
                            note: sender_note(&mut rng),
                            expires_in_hours: None,
                        };
                        let r = store
                            .create(&actors[from], request, None)
                            .expect("store")
                            .expect("created")
                            .referral
                            .referral;
                        ids.push((incoming, r.to_partner.to_string(), r.id));
                    }
                    ids
                })
            })
            .collect();
        let created: Vec<(bool, String, String)> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("seed thread"))
            .collect();
        made += this;
        // The receivers decide about half of them, a little later.
        clock.set(start + step * c as i32 + chrono::Duration::hours(2));
        let mut by_receiver: std::collections::HashMap<String, Vec<ActionItem>> =
            Default::default();
        for (k, (_, to, id)) in created.into_iter().enumerate() {
            let action = match k % 10 {
                0..4 => Action::Accept {
                    note: Some("Thanks! Calling them tomorrow".into()),
                },
                4 | 5 => Action::Reject {
                    reason: ReasonInput {
                        code: ReasonCode::UnableToSupport,
                        note: Some("Outside our region this quarter".into()),
                    },
                },
                _ => continue,
            };
            by_receiver.entry(to).or_default().push(ActionItem {
                id,
                version: 1,
                action,
            });
        }
        for (to, items) in by_receiver {
            for r in store.apply(&actors[&to], items, None).expect("apply") {
                r.expect("decided");
            }
        }
    }
    clock.set(Utc::now());
    while store.expire_due().expect("expire") > 0 {}
    Seeded {
        store,
        clock,
        token,
    }
}

/// `leadx inbox` against `url` as the holder of `token`, as a user would
/// start it: the token in a 0600 file, a fresh home under `dir` with
/// `config_toml` (if any) as its config file, `TERM=xterm-256color`,
/// truecolor, nothing else from this environment but `LEADX_LAYOUT`
/// (`LEADX_LAYOUT=stacked cargo run ...`: measure a layout).
pub fn inbox_command(
    bin: &Path,
    url: &str,
    token: &str,
    dir: &Path,
    config_toml: Option<&str>,
) -> portable_pty::CommandBuilder {
    use std::os::unix::fs::PermissionsExt;
    let token_file = dir.join("token");
    std::fs::write(&token_file, token).expect("token file");
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let home = dir.join("home");
    let config = home.join(".config");
    std::fs::create_dir_all(config.join("leadx")).expect("config dir");
    if let Some(toml) = config_toml {
        std::fs::write(config.join("leadx").join("config.toml"), toml).expect("config file");
    }
    let mut cmd = portable_pty::CommandBuilder::new(bin);
    cmd.args([
        "inbox",
        "--server",
        url,
        "--token-file",
        token_file.to_str().expect("utf-8 path"),
    ]);
    cmd.env_clear();
    cmd.env("HOME", &home);
    cmd.env("XDG_CONFIG_HOME", &config);
    cmd.env("XDG_STATE_HOME", home.join(".state"));
    cmd.env("TERM", "xterm-256color");
    cmd.env("COLORTERM", "truecolor");
    cmd.env("LANG", "C.UTF-8");
    cmd.env("PATH", "/usr/bin:/bin");
    if let Ok(layout) = std::env::var("LEADX_LAYOUT") {
        cmd.env("LEADX_LAYOUT", layout);
    }
    cmd.cwd(&home);
    cmd
}

/// Reads a pseudo-terminal's output on its own thread until it closes:
/// `chunk` gets each read with when it arrived, then `closed` runs once.
pub fn spawn_pty_reader(
    mut reader: Box<dyn Read + Send>,
    mut chunk: impl FnMut(Instant, &[u8]) + Send + 'static,
    closed: impl FnOnce() + Send + 'static,
) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => {
                    closed();
                    return;
                }
                Ok(n) => chunk(Instant::now(), &buf[..n]),
            }
        }
    });
}
