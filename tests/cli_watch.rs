//! `leadx watch --query Q` against a real server: a change that takes a
//! referral out of the query is printed once, marked as leaving, in both
//! forms (issue 9 item 15).

mod cli_support;
mod common;

use std::process::Stdio;
use std::time::Duration;

use cli_support::{leadx_to as leadx, signal, wait_line};
use common::{World, id};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{ChildStdout, Command};

/// Starts `leadx watch ARGS` as acme-web's agent; returns the child and its
/// stdout once it says it is watching.
async fn watching(
    w: &World,
    home: &std::path::Path,
    args: &[&str],
) -> (tokio::process::Child, Lines<BufReader<ChildStdout>>) {
    let mut cmd: Command = leadx(home, &w.url, Some(&w.t.acme), args);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn watch");
    let out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    wait_line(&mut err, "the watching notice", |l| {
        l.starts_with("leadx: watching ")
    })
    .await;
    (child, out)
}

async fn stop(
    mut child: tokio::process::Child,
    mut out: Lines<BufReader<ChildStdout>>,
) -> Vec<String> {
    signal(child.id().expect("pid"), "TERM");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("watch stops on SIGTERM")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let mut rest = Vec::new();
    while let Some(l) = out.next_line().await.unwrap() {
        rest.push(l);
    }
    rest
}

async fn reject(w: &World, r: &Value) {
    w.act(
        &w.t.acme_admin,
        &id(r),
        "reject",
        json!({"version": 1, "reason": {"code": "duplicate"}}),
    )
    .await
    .ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_leaving_the_query_is_printed_as_leaving() {
    let w = World::start().await;
    let home = tempfile::tempdir().unwrap();
    // Pending before the watch starts: it is inside the query from the list.
    let before = w
        .send(&w.t.northwind, "acme-web", "Listed Bakery", None)
        .await;
    let (child, mut out) = watching(&w, home.path(), &["watch", "--query", "status:pending"]).await;

    let during = w
        .send(&w.t.northwind, "acme-web", "Live Bakery", None)
        .await;
    let line = wait_line(&mut out, "the new lead", |_| true).await;
    assert!(
        line.contains(&id(&during)) && line.ends_with("(new)"),
        "{line}"
    );

    reject(&w, &during).await;
    let line = wait_line(&mut out, "the rejection", |_| true).await;
    assert!(line.contains(&id(&during)), "{line}");
    assert!(line.contains("  rejected  "), "{line}");
    assert!(line.ends_with("(leaves the query)"), "{line}");

    w.act(
        &w.t.acme_admin,
        &id(&before),
        "accept",
        json!({"version": 1}),
    )
    .await
    .ok();
    let line = wait_line(&mut out, "the accept", |_| true).await;
    assert!(line.contains(&id(&before)), "{line}");
    assert!(line.contains("  accepted  "), "{line}");
    assert!(line.ends_with("(leaves the query)"), "{line}");

    // Once out, its later changes stay hidden; a referral never inside
    // the query prints nothing.
    let won = w
        .act(
            &w.t.acme_admin,
            &id(&before),
            "close",
            json!({"version": 2, "status": "won"}),
        )
        .await
        .ok();
    assert_eq!(won["status"], "won");
    // Give the watcher time to (wrongly) print it before it stops.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rest = stop(child, out).await;
    assert!(rest.is_empty(), "{rest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_marks_a_change_that_leaves_the_query() {
    let w = World::start().await;
    let home = tempfile::tempdir().unwrap();
    let (child, mut out) = watching(
        &w,
        home.path(),
        &["watch", "--query", "status:pending", "--format", "json"],
    )
    .await;
    let lead = w
        .send(&w.t.northwind, "acme-web", "Json Bakery", None)
        .await;
    let entered: Value =
        serde_json::from_str(&wait_line(&mut out, "the new lead", |_| true).await).unwrap();
    assert_eq!(id(&entered["referral"]), id(&lead));
    assert!(entered.get("leaves_query").is_none(), "{entered}");

    reject(&w, &lead).await;
    let left: Value =
        serde_json::from_str(&wait_line(&mut out, "the rejection", |_| true).await).unwrap();
    assert_eq!(id(&left["referral"]), id(&lead));
    assert_eq!(left["referral"]["status"], "rejected");
    assert_eq!(left["leaves_query"], true, "{left}");
    assert!(stop(child, out).await.is_empty());
}
