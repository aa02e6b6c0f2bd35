//! The headless CLI end to end: a real server in-process with a small
//! world, and the real `leadx` binary talking to it over HTTP. Every test
//! asserts what the command printed and its exit status.

#[macro_use]
mod common;
mod cli_support;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cli_support::{leadx_to as leadx, output, signal, wait_line};
use common::{World, id, version};
use leadx::domain::{Action, ActionItem, Actor, ItemResult};
use leadx::server::ServerConfig;
use leadx::store::{IdemSave, SharedStore, StoreError, StoreResult};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A test world and a home directory for the CLI.
struct Fixture {
    w: World,
    home: tempfile::TempDir,
}

impl Fixture {
    async fn new() -> Self {
        Fixture {
            w: World::start().await,
            home: tempfile::tempdir().expect("home"),
        }
    }

    /// `leadx ARGS` as the user with `token`.
    async fn run(&self, token: &str, args: &[&str]) -> Run {
        self.run_cmd(leadx(self.home.path(), &self.w.url, Some(token), args))
            .await
    }

    async fn run_cmd(&self, cmd: Command) -> Run {
        let out = output(cmd).await;
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        }
    }

    /// northwind-net sends a lead to `to`; the referral.
    async fn send(&self, to: &str, company: &str) -> Value {
        self.w.send(&self.w.t.northwind, to, company, None).await
    }

    async fn get(&self, token: &str, rid: &str) -> Value {
        self.w
            .get(token, &format!("/v1/referrals/{rid}"))
            .await
            .ok()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_prints_a_fitted_clean_table_json_and_csv() {
    let f = Fixture::new().await;
    let a = f.send("acme-web", "Main Street Bakery").await;
    let b = f
        .send("acme-web", "Evil\u{1b}]0;pwned\u{7}\u{202e}Corp, \"Ltd\"")
        .await;
    let other = f.send("harbor-host", "Not For Acme").await;
    let acme = f.w.t.acme.clone();

    // Table: a header, one row per referral, nothing raw from the lead.
    let r = f.run(&acme, &["list"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{r:?}");
    assert!(lines[0].starts_with("ID "), "{r:?}");
    assert!(lines[0].contains("STATUS") && lines[0].contains("COMPANY"));
    assert!(r.stdout.contains(&id(&a)) && r.stdout.contains(&id(&b)));
    // At 100 columns AGE and EXPIRES take some of the company's room.
    assert!(
        lines[0].contains("AGE") && lines[0].contains("EXPIRES"),
        "{r:?}"
    );
    assert!(r.stdout.contains("Main Street"), "{r:?}");
    assert!(r.stdout.contains("12,000 USD"), "{r:?}");
    assert!(
        !r.stdout.contains(&id(&other)),
        "another partner's referral"
    );
    assert!(
        r.stdout.contains("Evil␛"),
        "escape shown as a placeholder: {r:?}"
    );
    assert!(
        !r.stdout
            .chars()
            .any(|c| c == '\u{1b}' || c == '\u{7}' || c == '\u{202e}'),
        "raw control characters reached stdout: {r:?}"
    );
    for line in &lines {
        assert!(
            leadx::sanitize::width(line) <= 100,
            "{line:?} wider than 100"
        );
    }

    // A narrow terminal: every line fits; the ids give up their start (a
    // time they share) and keep their distinct random ends.
    let mut cmd = leadx(f.home.path(), &f.w.url, Some(&acme), &["list"]);
    cmd.env("COLUMNS", "70");
    let r = f.run_cmd(cmd).await;
    assert_eq!(r.code, 0, "{r:?}");
    for line in r.stdout.lines() {
        assert!(leadx::sanitize::width(line) <= 70, "{line:?} wider than 70");
    }
    for r_ in [&a, &b] {
        let tail = &id(r_)[id(r_).len() - 10..];
        assert!(r.stdout.contains(tail), "{r:?}");
    }

    // JSON: one array, the referrals as the server sent them.
    let r = f.run(&acme, &["list", "--format", "json"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains('\u{1b}'), "JSON escapes controls: {r:?}");
    let items: Vec<Value> = serde_json::from_str(&r.stdout).expect("a JSON array");
    let ids: Vec<String> = items.iter().map(id).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&id(&a)) && ids.contains(&id(&b)));
    let evil = items.iter().find(|x| id(x) == id(&b)).unwrap();
    assert_eq!(
        evil["lead"]["company"], "Evil\u{1b}]0;pwned\u{7}\u{202e}Corp, \"Ltd\"",
        "JSON keeps the data exact"
    );

    // CSV: a header row and RFC 4180 quoting.
    let r = f.run(&acme, &["list", "--format", "csv"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let rows: Vec<&str> = r.stdout.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 3, "{r:?}");
    assert!(rows[0].starts_with("id,version,status,from_partner,to_partner,company,"));
    assert!(
        r.stdout
            .contains("\"Evil\u{1b}]0;pwned\u{7}\u{202e}Corp, \"\"Ltd\"\"\""),
        "{r:?}"
    );

    // --box and --query narrow it.
    let r = f.run(&acme, &["list", "--box", "outgoing"]).await;
    assert_eq!((r.code, r.stdout.lines().count()), (0, 1), "{r:?}");
    let r = f
        .run(&acme, &["list", "--query", "bakery", "--format", "json"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let items: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(items.iter().map(id).collect::<Vec<_>>(), vec![id(&a)]);

    // The query's sort orders the output.
    let mut body = common::lead_body("acme-web", "Big Deal", None);
    body["lead"]["est_value_cents"] = json!(500_000_000_i64);
    let big =
        f.w.post(&f.w.t.northwind, "/v1/referrals", &body)
            .await
            .ok();
    let order = |args: &'static [&'static str]| {
        let f = &f;
        let acme = acme.clone();
        async move {
            let r = f.run(&acme, args).await;
            assert_eq!(r.code, 0, "{r:?}");
            let items: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
            items.iter().map(id).collect::<Vec<_>>()
        }
    };
    let desc = order(&["list", "--query", "sort:-value", "--format", "json"]).await;
    assert_eq!(desc.first(), Some(&id(&big)), "{desc:?}");
    let asc = order(&["list", "--query", "sort:value", "--format", "json"]).await;
    assert_eq!(asc.last(), Some(&id(&big)), "{asc:?}");
    assert_eq!(asc.len(), 3);

    // A bad query is a usage error that points at the column.
    let r = f.run(&acme, &["list", "--query", "status:nope"]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.starts_with("leadx: bad query at column "), "{r:?}");
    assert!(r.stdout.is_empty(), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_prints_text_and_json_and_refuses_unknown_ids() {
    let f = Fixture::new().await;
    let a = f.send("acme-web", "Main Street Bakery").await;
    let acme = f.w.t.acme.clone();

    let r = f.run(&acme, &["show", &id(&a)]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&format!("id:             {}", id(&a))),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("status:         pending (version 1)"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("company:        Main Street Bakery"),
        "{r:?}"
    );
    assert!(r.stdout.contains("from:           northwind-net"), "{r:?}");
    assert!(r.stdout.contains("contact:        (masked)"), "{r:?}");
    assert!(
        r.stdout
            .contains("chain:          northwind-net → acme-web")
    );

    let r = f.run(&acme, &["show", &id(&a), "--format", "json"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).expect("one JSON object");
    assert_eq!(id(&v), id(&a));
    assert_eq!(v["lead"]["company"], "Main Street Bakery");

    let r = f.run(&acme, &["show", "r_NOSUCHREFERRAL"]).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr
            .starts_with("leadx: show r_NOSUCHREFERRAL: not found"),
        "{r:?}"
    );
    assert!(r.stdout.is_empty());

    // Another partner's referral does not exist for acme.
    let other = f.send("harbor-host", "Elsewhere").await;
    let r = f.run(&acme, &["show", &id(&other)]).await;
    assert_eq!(r.code, 1, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_by_id_applies_and_exits_zero() {
    let f = Fixture::new().await;
    let a = f.send("acme-web", "Main Street Bakery").await;
    let b = f.send("acme-web", "Second Co").await;
    let acme = f.w.t.acme.clone();

    let r = f
        .run(&acme, &["accept", &id(&a), &id(&b), "--note", "on it"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        format!("{} accepted\n{} accepted\n2 applied\n", id(&a), id(&b))
    );
    let now = f.get(&acme, &id(&a)).await;
    assert_eq!(now["status"], "accepted");
    assert_eq!(now["decision_note"], "on it");
    assert_eq!(now["decided_by"]["name"], "Dana Reyes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_where_one_item_conflicts_exits_one_with_the_reason() {
    let f = Fixture::new().await;
    let a = f.send("acme-web", "First Co").await;
    let b = f.send("acme-web", "Taken Co").await;
    // Someone else at acme accepts b first.
    f.w.act(
        &f.w.t.acme_admin,
        &id(&b),
        "accept",
        json!({"version": version(&b)}),
    )
    .await
    .ok();

    let r = f
        .run(&f.w.t.acme, &["accept", &id(&a), &id(&b), "r_GONE"])
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines.contains(&"r_GONE not found"), "{r:?}");
    assert!(
        lines.contains(&format!("{} accepted", id(&a)).as_str()),
        "{r:?}"
    );
    let conflict = format!("{} conflict: accepted by Ada Admin (acme-web) at ", id(&b));
    assert!(
        lines.iter().any(|l| l.starts_with(&conflict)),
        "expected {conflict:?}: {r:?}"
    );
    assert_eq!(
        lines.last().copied(),
        Some("1 applied · 1 conflict · 1 not found")
    );
    assert_eq!(f.get(&f.w.t.acme, &id(&a)).await["status"], "accepted");
    assert_eq!(
        f.get(&f.w.t.acme, &id(&b)).await["decided_by"]["name"],
        "Ada Admin",
        "the conflict did not overwrite"
    );

    // The same as JSON: one array of per-item results, exit 1.
    let c = f.send("acme-web", "Json Co").await;
    let r = f
        .run(
            &f.w.t.acme,
            &["accept", &id(&c), &id(&b), "r_GONE", "--format", "json"],
        )
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    let results: Vec<Value> = serde_json::from_str(&r.stdout).expect("one JSON array");
    let outcomes: Vec<(String, &str)> = results
        .iter()
        .map(|x| (id(x), x["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(outcomes.len(), 3, "{r:?}");
    assert!(outcomes.contains(&(id(&c), "applied")), "{r:?}");
    assert!(outcomes.contains(&(id(&b), "conflict")), "{r:?}");
    assert!(
        outcomes.contains(&("r_GONE".to_owned(), "not_found")),
        "{r:?}"
    );
    let conflict = results.iter().find(|x| id(x) == id(&b)).unwrap();
    assert_eq!(
        conflict["error"]["current"]["decided_by"]["name"],
        "Ada Admin"
    );
    let applied = results.iter().find(|x| id(x) == id(&c)).unwrap();
    assert_eq!(applied["referral"]["status"], "accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_forward_and_withdraw() {
    let f = Fixture::new().await;
    let a = f.send("acme-web", "Reject Me").await;
    let b = f.send("acme-web", "Forward Me").await;
    let c = f.send("acme-web", "Withdraw Me").await;
    let acme = f.w.t.acme.clone();

    // Reject needs a reason: a usage error, nothing sent.
    let r = f.run(&acme, &["reject", &id(&a)]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--reason"), "{r:?}");
    let r = f
        .run(&acme, &["reject", &id(&a), "--reason", "bogus"])
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(f.get(&acme, &id(&a)).await["status"], "pending");

    let r = f
        .run(
            &acme,
            &[
                "reject",
                &id(&a),
                "--reason",
                "unable_to_support",
                "--note",
                "no capacity",
            ],
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        format!("{} rejected (unable_to_support)\n1 applied\n", id(&a))
    );
    let now = f.get(&acme, &id(&a)).await;
    assert_eq!(now["status"], "rejected");
    assert_eq!(now["reason"]["code"], "unable_to_support");
    assert_eq!(now["reason"]["note"], "no capacity");

    let r = f
        .run(
            &acme,
            &["forward", &id(&b), "--to", "harbor-host", "--note", "yours"],
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let first = r.stdout.lines().next().unwrap_or_default();
    let prefix = format!("{} forwarded to harbor-host as r_", id(&b));
    assert!(first.starts_with(&prefix), "{r:?}");
    let child = first.rsplit(' ').next().unwrap();
    assert_eq!(f.get(&acme, &id(&b)).await["status"], "forwarded");
    let child = f.get(&f.w.t.harbor, child).await;
    assert_eq!(child["to_partner"], "harbor-host");
    assert_eq!(child["status"], "pending");

    // Forwarding to a partner already in the chain is refused: exit 1.
    let d = f.send("acme-web", "Back To Sender").await;
    let r = f
        .run(&acme, &["forward", &id(&d), "--to", "northwind-net"])
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.starts_with(&format!("{} invalid: ", id(&d))),
        "{r:?}"
    );
    assert!(r.stdout.ends_with("0 applied · 1 invalid\n"), "{r:?}");

    // A viewer may not act: refused, exit 1, nothing changes.
    let r = f.run(&f.w.t.acme_viewer, &["accept", &id(&d)]).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.starts_with(&format!("{} forbidden", id(&d))),
        "{r:?}"
    );
    assert!(r.stdout.ends_with("0 applied · 1 forbidden\n"), "{r:?}");
    assert_eq!(f.get(&acme, &id(&d)).await["status"], "pending");

    // Only the sender withdraws: acme is refused, northwind succeeds.
    let r = f.run(&acme, &["withdraw", &id(&c)]).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.starts_with(&format!("{} forbidden", id(&c))),
        "{r:?}"
    );
    let r = f.run(&f.w.t.northwind, &["withdraw", &id(&c)]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, format!("{} withdrawn\n1 applied\n", id(&c)));
    assert_eq!(f.get(&acme, &id(&c)).await["status"], "withdrawn");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_selection_plans_with_dry_run_and_acts_only_with_yes() {
    let f = Fixture::new().await;
    let mut pending = Vec::new();
    for i in 0..3 {
        pending.push(id(&f.send("acme-web", &format!("Pending {i}")).await));
    }
    let done = f.send("acme-web", "Already Taken").await;
    f.w.act(&f.w.t.acme, &id(&done), "accept", json!({"version": 1}))
        .await
        .ok();
    let mine =
        f.w.send(&f.w.t.acme, "northwind-net", "Outgoing", None)
            .await;
    let acme = f.w.t.acme.clone();

    // --dry-run: the plan, exit 0, nothing changes.
    let r = f
        .run(&acme, &["accept", "--query", "status:pending", "--dry-run"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("would accept 3 referrals:\n"), "{r:?}");
    for p in &pending {
        assert!(r.stdout.contains(p.as_str()), "{r:?}");
    }
    assert!(
        !r.stdout.contains(&id(&mine)),
        "outgoing is not accepted: {r:?}"
    );
    // The plan as JSON: the referrals that would be acted on.
    let r = f
        .run(
            &acme,
            &[
                "accept",
                "--query",
                "status:pending",
                "--dry-run",
                "--format",
                "json",
            ],
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let planned: Vec<Value> = serde_json::from_str(&r.stdout).expect("one JSON array");
    let mut planned: Vec<String> = planned.iter().map(id).collect();
    planned.sort();
    let mut expected = pending.clone();
    expected.sort();
    assert_eq!(planned, expected);

    // What the query matches but the action does not apply to is counted.
    let r = f
        .run(&acme, &["accept", "--query", "taken", "--dry-run"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        "would accept 0 referrals\n(1 skipped: not pending incoming)\n"
    );
    for p in &pending {
        assert_eq!(f.get(&acme, p).await["status"], "pending");
    }

    // Without --yes: the plan, exit 1, nothing changes.
    let r = f.run(&acme, &["accept", "--query", "status:pending"]).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.starts_with("would accept 3 referrals:"), "{r:?}");
    assert!(r.stderr.contains("--yes"), "{r:?}");
    for p in &pending {
        assert_eq!(f.get(&acme, p).await["status"], "pending");
    }

    // With --yes: acted on, each once.
    let r = f
        .run(&acme, &["accept", "--query", "status:pending", "--yes"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.ends_with("3 applied\n"), "{r:?}");
    for p in &pending {
        let now = f.get(&acme, p).await;
        assert_eq!(
            (now["status"].as_str(), now["version"].as_u64()),
            (Some("accepted"), Some(2))
        );
    }
    assert_eq!(f.get(&acme, &id(&mine)).await["status"], "pending");

    // Nothing left to act on: exit 0, and what matched but was skipped
    // ("pending" matches the companies "Pending N", accepted by now).
    let r = f
        .run(&acme, &["accept", "--query", "pending", "--yes"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "(3 skipped: not pending incoming)\n0 applied\n");

    // ids and --query together are a usage error.
    let r = f
        .run(&acme, &["accept", &pending[0], "--query", "status:pending"])
        .await;
    assert_eq!(r.code, 2, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_prints_the_new_id() {
    let f = Fixture::new().await;
    let r = f
        .run(
            &f.w.t.northwind,
            &[
                "send",
                "--to",
                "acme-web",
                "--company",
                "New Co",
                "--category",
                "hosting",
                "--domain",
                "newco.example",
                "--value",
                "12k",
                "--commission",
                "10",
                "--summary",
                "Two lines\nof summary",
                "--expires-in-hours",
                "24",
            ],
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let rid = r.stdout.trim_end();
    assert!(rid.starts_with("r_") && !rid.contains('\n'), "{r:?}");
    let v = f.get(&f.w.t.acme, rid).await;
    assert_eq!(v["lead"]["company"], "New Co");
    assert_eq!(v["lead"]["est_value_cents"], 1_200_000);
    assert_eq!(v["commission_pct"], 10);
    assert_eq!(v["lead"]["summary"], "Two lines\nof summary");

    // The same domain again: refused as a duplicate, naming the open hop.
    let r = f
        .run(
            &f.w.t.northwind,
            &[
                "send",
                "--to",
                "acme-web",
                "--company",
                "New Co",
                "--category",
                "hosting",
                "--domain",
                "newco.example",
            ],
        )
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("duplicate"), "{r:?}");
    assert!(r.stderr.contains(rid), "{r:?}");
    assert!(r.stdout.is_empty());

    // A bad value is a usage error.
    let r = f
        .run(
            &f.w.t.northwind,
            &[
                "send",
                "--to",
                "acme-web",
                "--company",
                "X",
                "--category",
                "hosting",
                "--value",
                "lots",
            ],
        )
        .await;
    assert_eq!(r.code, 2, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_prints_events_that_happen_after_it_starts() {
    let f = Fixture::new().await;
    let before = f.send("acme-web", "Before Watch").await;
    let mut cmd = leadx(
        f.home.path(),
        &f.w.url,
        Some(&f.w.t.acme),
        &["watch", "--format", "json"],
    );
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn watch");
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    wait_line(&mut err, "the watching notice", |l| {
        l.starts_with("leadx: watching ")
    })
    .await;

    let new = f.send("acme-web", "During Watch").await;
    let line = wait_line(&mut out, "the new referral", |_| true).await;
    let ev: Value = serde_json::from_str(&line).expect("one JSON object per line");
    assert_eq!(id(&ev["referral"]), id(&new), "{line}");
    assert_eq!(ev["referral"]["lead"]["company"], "During Watch");
    assert!(ev["seq"].as_u64().is_some(), "{line}");

    f.w.act(
        &f.w.t.acme_admin,
        &id(&before),
        "accept",
        json!({"version": 1}),
    )
    .await
    .ok();
    let line = wait_line(&mut out, "the accept", |_| true).await;
    let ev: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(id(&ev["referral"]), id(&before), "{line}");
    assert_eq!(ev["referral"]["status"], "accepted");
    assert_eq!(ev["referral"]["version"], 2);

    signal(child.id().expect("pid"), "TERM");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("watch stops on SIGTERM")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    // Nothing else was printed (no repeats).
    let rest = tokio::time::timeout(Duration::from_secs(5), out.next_line())
        .await
        .expect("stdout closes")
        .unwrap();
    assert_eq!(rest, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_line_format_filters_by_query_and_survives_a_server_restart() {
    let mut f = Fixture::new().await;
    let mut cmd = leadx(
        f.home.path(),
        &f.w.url,
        Some(&f.w.t.acme),
        &["watch", "--query", "hosting"],
    );
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn watch");
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    wait_line(&mut err, "the watching notice", |l| {
        l.starts_with("leadx: watching ")
    })
    .await;

    // A design lead does not match `hosting`: not printed.
    let mut body = common::lead_body("acme-web", "Design Only", None);
    body["lead"]["category"] = json!("design");
    body["lead"]["summary"] = json!("A new logo");
    f.w.post(&f.w.t.northwind, "/v1/referrals", &body)
        .await
        .ok();
    let hostile = f.send("acme-web", "Bad\u{1b}[2JCo").await;
    let line = wait_line(&mut out, "the new referral", |_| true).await;
    assert!(line.contains(&id(&hostile)), "{line}");
    assert!(
        line.contains("v1  pending  northwind-net → acme-web  Bad␛"),
        "{line}"
    );
    assert!(!line.contains('\u{1b}'), "{line:?}");

    // The server goes away and comes back on the same port: the watcher
    // resumes from where it was and prints what happened meanwhile, once.
    let server = f.w.server.take().expect("server");
    let addr = server.addr;
    server.shutdown().await;
    wait_line(&mut err, "the disconnect notice", |l| {
        l.contains("disconnected")
    })
    .await;
    // The accept happens while the server is down (straight into its
    // database), then a new server opens on the same port.
    let actor =
        f.w.store
            .authenticate(&f.w.t.acme)
            .await
            .unwrap()
            .expect("acme");
    let results =
        f.w.store
            .apply(
                &actor,
                vec![ActionItem {
                    id: id(&hostile),
                    version: 1,
                    action: Action::Accept { note: None },
                }],
                None,
            )
            .await
            .unwrap();
    assert!(results[0].is_ok());
    let mut config = leadx::server::ServerConfig::for_tests();
    config.listen = addr;
    let clock: leadx::clock::SharedClock = f.w.clock.clone();
    let restarted = leadx::server::start(f.w.store.clone(), clock, config)
        .await
        .expect("restart on the same port");
    f.w.server = Some(restarted);
    let line = wait_line(&mut out, "the accept after the restart", |_| true).await;
    assert!(
        line.contains(&format!("{}  v2  accepted", id(&hostile))),
        "{line}"
    );
    assert!(
        line.contains("(accepted by Dana Reyes (acme-web) at "),
        "{line}"
    );

    signal(child.id().expect("pid"), "TERM");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("watch stops on SIGTERM")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let rest = tokio::time::timeout(Duration::from_secs(5), out.next_line())
        .await
        .expect("stdout closes")
        .unwrap();
    assert_eq!(rest, None, "no repeats");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_config_and_no_token_exit_two() {
    let f = Fixture::new().await;
    let home = f.home.path();

    // --config naming no file.
    let r = f
        .run(
            &f.w.t.acme,
            &["list", "--config", "/nonexistent/leadx.toml"],
        )
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.starts_with("leadx: "), "{r:?}");
    assert!(r.stderr.contains("/nonexistent/leadx.toml"), "{r:?}");
    assert!(r.stdout.is_empty());

    // A config file with a mistake names the file and the key.
    let bad = home.join("bad.toml");
    std::fs::write(&bad, "[server]\nurll = \"http://127.0.0.1:1\"\n").unwrap();
    let r = f
        .run(
            &f.w.t.acme,
            &["accept", "r_X", "--config", bad.to_str().unwrap()],
        )
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("bad.toml") && r.stderr.contains("url"),
        "{r:?}"
    );

    // A read-only configuration refuses to act, but still reads.
    let ro = home.join("ro.toml");
    std::fs::write(&ro, "readonly = true\n").unwrap();
    let a = f.send("acme-web", "Read Only Co").await;
    let r = f
        .run(
            &f.w.t.acme,
            &["accept", &id(&a), "--config", ro.to_str().unwrap()],
        )
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("read-only"), "{r:?}");
    assert_eq!(f.get(&f.w.t.acme, &id(&a)).await["status"], "pending");
    let r = f
        .run(&f.w.t.acme, &["list", "--config", ro.to_str().unwrap()])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains(&id(&a)), "{r:?}");

    // No token at all.
    let r = f.run_cmd(leadx(home, &f.w.url, None, &["list"])).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.starts_with("leadx: "), "{r:?}");

    // A token the server does not know.
    let r = f.run("not-a-real-token", &["list"]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("unauthenticated"), "{r:?}");

    // Usage: accept with neither ids nor --query.
    let r = f.run(&f.w.t.acme, &["accept"]).await;
    assert_eq!(r.code, 2, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_down_exits_two() {
    let home = tempfile::tempdir().unwrap();
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    for args in [
        vec!["list"],
        vec!["show", "r_X"],
        vec!["accept", "r_X"],
        vec!["watch"],
        vec![
            "send",
            "--to",
            "acme-web",
            "--company",
            "X",
            "--category",
            "hosting",
            "--retry-for",
            "1",
        ],
    ] {
        let out = output(leadx(home.path(), &url, Some("tok"), &args)).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("leadx: "), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot reach the server"),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// The real store, rigged: while `lose_next` is set, the next batch of
/// more than one item is applied and committed, and then its answer is
/// lost (the server answers 500), as when a connection drops after the
/// commit; the size of every apply is recorded; and `floor` raises the
/// oldest resume point the server serves (older is 410), as if it had
/// pruned its event log.
#[derive(Default)]
struct RiggedStore {
    inner: Option<SharedStore>,
    lose_next: Arc<AtomicBool>,
    sizes: Arc<Mutex<Vec<usize>>>,
    floor: Arc<AtomicU64>,
}

impl RiggedStore {
    fn inner(&self) -> &SharedStore {
        self.inner.as_ref().expect("wrapped store")
    }

    fn inner_store(&self) -> &SharedStore {
        self.inner()
    }

    /// Shares the knobs with a new wrapper around `inner`.
    fn wrap(&self, inner: SharedStore) -> SharedStore {
        Arc::new(RiggedStore {
            inner: Some(inner),
            lose_next: self.lose_next.clone(),
            sizes: self.sizes.clone(),
            floor: self.floor.clone(),
        })
    }
}

delegate_store_but_apply! {
    RiggedStore;
    async fn apply(
        &self,
        actor: &Actor,
        items: Vec<ActionItem>,
        idem: Option<IdemSave>,
    ) -> StoreResult<Vec<ItemResult>> {
        let n = items.len();
        // Only writes that ran are counted: a retry answered with the kept
        // response (by the store's claim, or inside the write on
        // PostgreSQL) is not.
        let results = self.inner().apply(actor, items, idem).await?;
        self.sizes.lock().unwrap().push(n);
        if n > 1 && self.lose_next.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Backend("the answer was lost".into()));
        }
        Ok(results)
    }

    async fn resume_floor(&self) -> StoreResult<u64> {
        Ok(self
            .inner()
            .resume_floor()
            .await?
            .max(self.floor.load(Ordering::SeqCst)))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_go_in_chunks_of_500_and_a_lost_answer_is_retried_with_its_key() {
    let rig = RiggedStore::default();
    rig.lose_next.store(true, Ordering::SeqCst);
    let w = World::start_with(ServerConfig::for_tests(), |inner| rig.wrap(inner)).await;
    let f = Fixture {
        w,
        home: tempfile::tempdir().unwrap(),
    };
    for i in 0..501 {
        f.send("acme-web", &format!("Bulk {i}")).await;
    }
    let r = f
        .run(
            &f.w.t.acme,
            &["accept", "--query", "status:pending bulk", "--yes"],
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.ends_with("\n501 applied\n"), "{r:?}");
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.ends_with(" accepted"))
            .count(),
        501
    );
    assert!(
        r.stderr.contains("batch 1 of 2, attempt 1: ") && r.stderr.contains("retrying in"),
        "the lost answer was retried: {r:?}"
    );
    // Two chunks were applied: 500 then 1. The retry of the first was
    // answered from the stored response, not applied again.
    assert_eq!(*rig.sizes.lock().unwrap(), vec![500, 1]);
    let all =
        f.w.get(&f.w.t.acme, "/v1/referrals?box=incoming&limit=5000")
            .await
            .ok();
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 501);
    for item in items {
        assert_eq!(
            (item["status"].as_str(), item["version"].as_u64()),
            (Some("accepted"), Some(2)),
            "applied exactly once: {item}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_lists_again_when_the_server_no_longer_holds_its_resume_point() {
    let rig = RiggedStore::default();
    let w = World::start_with(ServerConfig::for_tests(), |inner| rig.wrap(inner)).await;
    let mut f = Fixture {
        w,
        home: tempfile::tempdir().unwrap(),
    };
    let a = f.send("acme-web", "Before").await;
    let mut cmd = leadx(f.home.path(), &f.w.url, Some(&f.w.t.acme), &["watch"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn watch");
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    wait_line(&mut err, "the watching notice", |l| {
        l.starts_with("leadx: watching 1 referrals")
    })
    .await;

    // While the server is down, `a` is accepted and the server forgets
    // every event up to now.
    let server = f.w.server.take().expect("server");
    let addr = server.addr;
    server.shutdown().await;
    wait_line(&mut err, "the disconnect notice", |l| {
        l.contains("disconnected")
    })
    .await;
    let actor =
        f.w.store
            .authenticate(&f.w.t.acme)
            .await
            .unwrap()
            .expect("acme");
    let results =
        f.w.store
            .apply(
                &actor,
                vec![ActionItem {
                    id: id(&a),
                    version: 1,
                    action: Action::Accept { note: None },
                }],
                None,
            )
            .await
            .unwrap();
    assert!(results[0].is_ok());
    rig.floor
        .store(f.w.store.last_seq().await.unwrap(), Ordering::SeqCst);
    let mut config = ServerConfig::for_tests();
    config.listen = addr;
    let clock: leadx::clock::SharedClock = f.w.clock.clone();
    f.w.server = Some(
        leadx::server::start(f.w.store.clone(), clock, config)
            .await
            .expect("restart on the same port"),
    );

    // 410: it lists again and prints what changed meanwhile, once.
    wait_line(&mut err, "the relist notice", |l| {
        l.contains("listing again")
    })
    .await;
    let line = wait_line(&mut out, "the accept found by listing", |_| true).await;
    assert!(
        line.contains(&format!("{}  v2  accepted", id(&a))),
        "{line}"
    );
    // Then it follows the feed from the new list.
    let c = f.send("acme-web", "After").await;
    let line = wait_line(&mut out, "the live event", |_| true).await;
    assert!(line.contains(&format!("{}  v1  pending", id(&c))), "{line}");

    signal(child.id().expect("pid"), "INT");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("watch stops on SIGINT")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let rest = tokio::time::timeout(Duration::from_secs(5), out.next_line())
        .await
        .expect("stdout closes")
        .unwrap();
    assert_eq!(rest, None, "no repeats");
}

/// Runs `leadx ARGS` on a pseudo-terminal of `cols` columns (no `COLUMNS`
/// in its environment); its output with the terminal's `\r\n` as `\n`.
fn run_on_pty(home: &Path, url: &str, token: &str, cols: u16, args: &[&str]) -> (u32, String) {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    use std::io::Read;
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 40,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("openpty");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_leadx"));
    cmd.args(args);
    cmd.env_clear();
    cmd.env("HOME", home);
    cmd.env("XDG_CONFIG_HOME", home.join("config"));
    cmd.env("XDG_STATE_HOME", home.join("state"));
    cmd.env("LEADX_SERVER__URL", url);
    cmd.env("LEADX_SERVER__TOKEN", token);
    let mut child = pair.slave.spawn_command(cmd).expect("spawn on pty");
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().expect("reader");
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break, // EOF, or EIO once the child has gone
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
        }
    }
    let status = child.wait().expect("wait");
    drop(pair.master);
    let text = String::from_utf8(bytes)
        .expect("UTF-8")
        .replace("\r\n", "\n");
    (status.exit_code(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_tables_fit_its_width_and_csv_is_cleaned() {
    let f = Fixture::new().await;
    let a = f.send("acme-web", "Main Street Bakery").await;
    let b = f.send("acme-web", "Evil\u{1b}]0;pwned\u{7}Corp").await;
    let (home, url, token) = (
        f.home.path().to_owned(),
        f.w.url.clone(),
        f.w.t.acme.clone(),
    );
    let (narrow, wide, csv) = tokio::task::spawn_blocking(move || {
        (
            run_on_pty(&home, &url, &token, 72, &["list"]),
            run_on_pty(&home, &url, &token, 140, &["list"]),
            run_on_pty(&home, &url, &token, 140, &["list", "--format", "csv"]),
        )
    })
    .await
    .unwrap();

    let (code, text) = narrow;
    assert_eq!(code, 0, "{text}");
    // At 72 columns the ids give up their start (a time the two share)
    // and keep their distinct random ends.
    let tail = |r: &Value| id(r)[id(r).len() - 10..].to_owned();
    assert!(
        text.contains(&tail(&a)) && text.contains(&tail(&b)),
        "{text}"
    );
    for line in text.lines() {
        assert!(leadx::sanitize::width(line) <= 72, "{line:?} wider than 72");
    }
    assert!(!text.contains("CATEGORY"), "no room for it at 72: {text}");

    let (code, text) = wide;
    assert_eq!(code, 0, "{text}");
    assert!(text.lines().next().unwrap().contains("CATEGORY"), "{text}");
    assert!(
        text.contains(&id(&a)) && text.contains(&id(&b)),
        "whole at 140: {text}"
    );
    assert!(text.contains("Main Street Bakery"), "{text}");
    for line in text.lines() {
        assert!(
            leadx::sanitize::width(line) <= 140,
            "{line:?} wider than 140"
        );
    }

    // CSV on a terminal: the same records, with the lead's controls shown
    // as placeholders instead of reaching the terminal.
    let (code, text) = csv;
    assert_eq!(code, 0, "{text}");
    assert!(text.starts_with("id,version,status,"), "{text}");
    assert!(text.contains("Evil␛"), "{text}");
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_token_file_and_profile_flags_reach_the_config() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new().await;
    let a = f.send("acme-web", "Flagged Co").await;
    let home = f.home.path();
    let nowhere = "http://127.0.0.1:9";

    // --server and --token-file win over the environment's server.
    let token_file = home.join("token");
    std::fs::write(&token_file, format!("{}\n", f.w.t.acme)).unwrap();
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = f
        .run_cmd(leadx(
            home,
            nowhere,
            None,
            &[
                "show",
                &id(&a),
                "--server",
                &f.w.url,
                "--token-file",
                token_file.to_str().unwrap(),
            ],
        ))
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("Flagged Co"), "{r:?}");

    // A token file others can read is refused: exit 2.
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = f
        .run_cmd(leadx(
            home,
            &f.w.url,
            None,
            &["list", "--token-file", token_file.to_str().unwrap()],
        ))
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.starts_with("leadx: "), "{r:?}");

    // --profile takes server and token from [profiles.NAME].
    let config = home.join("profiles.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.work]\nurl = \"{}\"\ntoken = \"{}\"\n",
            f.w.url, f.w.t.acme
        ),
    )
    .unwrap();
    let r = f
        .run_cmd(leadx(
            home,
            nowhere,
            None,
            &[
                "list",
                "--format",
                "json",
                "--config",
                config.to_str().unwrap(),
                "--profile",
                "work",
            ],
        ))
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let items: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(items.iter().map(id).collect::<Vec<_>>(), vec![id(&a)]);
    // An unknown profile is a configuration error.
    let r = f
        .run_cmd(leadx(
            home,
            nowhere,
            None,
            &[
                "list",
                "--config",
                config.to_str().unwrap(),
                "--profile",
                "home",
            ],
        ))
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("home"), "{r:?}");
}
