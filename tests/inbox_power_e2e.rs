//! End to end, power-user triage: the real `leadx` binary in a
//! pseudo-terminal against a real server. Select by query, batch-accept
//! while someone else decides some of the same referrals, undo a batch,
//! finish a batch across a server restart, keep `:` history between runs,
//! export the view, and watch queues read-only. Every test checks both the
//! screen and what the server holds.

mod common;
mod e2e;

use std::time::Duration;

use common::{World, id, lead_body, populate, reply};
use e2e::{Options, Serve, Tui, status_line};
use leadx::clock;
use leadx::store::sqlite::SqliteStore;
use serde_json::{Value, json};

/// Wide enough that the status bar keeps its counts and message.
const COLS: u16 = 140;
const ROWS: u16 = 32;

const LONG: Duration = Duration::from_secs(60);

/// Sends Esc and waits until `gone` is no longer on screen (so that the
/// next key is not read as Alt+key).
#[track_caller]
fn esc_until_gone(t: &mut Tui, gone: &str) {
    t.send("\x1b");
    t.until(&format!("{gone:?} to go away"), |s| !s.contains(gone));
}

/// `n` referrals northwind-net sends acme-web, `Lead 000`...; their ids.
async fn send_many(w: &World, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let r = w
            .send(&w.t.northwind, "acme-web", &format!("Lead {i:03}"), None)
            .await;
        ids.push(id(&r));
    }
    ids
}

fn batch_config(confirm_over: usize, undo_seconds: u64) -> String {
    format!("[batch]\nconfirm_over = {confirm_over}\nundo_seconds = {undo_seconds}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_by_query_and_batch_accept_200_while_someone_else_decides_a_few() {
    let w = World::start().await;
    let ids = send_many(&w, 200).await;
    // Already accepted: `status:pending` leaves it out.
    let old = id(&w
        .send(&w.t.northwind, "acme-web", "Old Deal Inc", None)
        .await);
    w.act(&w.t.acme, &old, "accept", json!({"version": 1}))
        .await
        .ok();

    // No undo window: nothing in this test waits on real time. (The window
    // has its own tests; here it would only race Ada below.)
    let mut t =
        Tui::start(Options::new(&w.url, &w.t.acme, COLS, ROWS).config(&batch_config(10, 0)));
    t.until_live("Old Deal Inc");
    t.send(":select status:pending\r");
    t.until("200 marked by the query", |s| {
        status_line(s).contains("200 selected")
    });
    t.send("a");
    t.until_shows("Accept 200 referrals?");

    // The batch is planned, each item at the version the inbox saw; before
    // it is sent, Ada, an admin of the same partner, decides three of them.
    for rid in &ids[..2] {
        w.act(&w.t.acme_admin, rid, "accept", json!({"version": 1}))
            .await
            .ok();
    }
    w.act(
        &w.t.acme_admin,
        &ids[2],
        "reject",
        json!({"version": 1, "reason": {"code": "duplicate"}}),
    )
    .await
    .ok();
    t.send("y");

    let s = t
        .wait_for("the per-item results", LONG, |s| {
            s.contains("197 of 200 accepted; 3 conflict")
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        s.contains("accepted by Ada Admin (acme-web)"),
        "each failure says who decided: {s}"
    );
    assert!(s.contains("rejected by Ada Admin (acme-web)"), "{s}");
    assert!(
        status_line(&s).contains("3 selected"),
        "failures stay selected: {}",
        status_line(&s)
    );

    let all = w.boxed(&w.t.acme, "incoming").await;
    let mine: Vec<&Value> = all
        .iter()
        .filter(|r| {
            r["decided_by"]["name"] == "Dana Reyes" && r["lead"]["company"] != "Old Deal Inc"
        })
        .collect();
    assert_eq!(mine.len(), 197);
    for r in &mine {
        assert_eq!(r["status"], "accepted");
        assert_eq!(r["version"], 2, "applied once: {}", r["id"]);
    }
    for (rid, status) in [
        (&ids[0], "accepted"),
        (&ids[1], "accepted"),
        (&ids[2], "rejected"),
    ] {
        let r = all
            .iter()
            .find(|r| r["id"] == rid.as_str())
            .expect("listed");
        assert_eq!(r["status"], status);
        assert_eq!(r["decided_by"]["name"], "Ada Admin");
        assert_eq!(r["version"], 2);
    }
    esc_until_gone(&mut t, "Esc closes");
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undone_batch_changes_nothing_on_the_server() {
    let w = World::start().await;
    let ids = send_many(&w, 20).await;
    let mut t =
        Tui::start(Options::new(&w.url, &w.t.acme, COLS, ROWS).config(&batch_config(10, 4)));
    t.until_live("Lead 019");
    t.send("*");
    t.until("every row marked", |s| {
        status_line(s).contains("20 selected")
    });
    t.send("a");
    t.until_shows("Accept 20 referrals?");
    t.send("y");
    t.until_shows("press u to undo");
    t.send("u");
    t.until("the undo to be confirmed", |s| {
        status_line(s).contains("nothing was sent")
    });
    // Well past the window: still nothing sent.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let s = t.screen();
    assert!(!s.contains("accepted"), "{s}");
    for r in w.boxed(&w.t.acme, "incoming").await {
        assert_eq!(r["status"], "pending");
        assert_eq!(r["version"], 1);
    }
    assert_eq!(ids.len(), 20);
    assert!(
        status_line(&t.screen()).contains("20 selected"),
        "undo keeps the marks"
    );
    esc_until_gone(&mut t, "selected");
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_interrupted_by_a_server_restart_applies_each_item_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("leadx.db");
    let tokens = {
        let store = SqliteStore::open(&db, clock::system()).unwrap();
        populate(&store).await
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let port = e2e::free_port();
    let (server, url) = Serve::start(&db, port);
    let mut ids = Vec::new();
    for i in 0..30 {
        let r = reply(
            http.post(format!("{url}/v1/referrals"))
                .bearer_auth(&tokens.northwind)
                .json(&lead_body("acme-web", &format!("Lead {i:03}"), None))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(id(&r.body));
    }

    let mut t =
        Tui::start(Options::new(&url, &tokens.acme, COLS, ROWS).config(&batch_config(10, 3)));
    t.until_live("Lead 029");
    t.send("*");
    t.until("every row marked", |s| {
        status_line(s).contains("30 selected")
    });
    t.send("a");
    t.until_shows("Accept 30 referrals?");
    t.send("y");
    t.until_shows("press u to undo");
    // The server goes away before the window closes: the batch is queued.
    server.kill();
    t.wait_for("the batch to be queued", LONG, |s| {
        status_line(s).contains("queued and retrying")
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(t.try_exit().is_none(), "the inbox exited with the server");

    let (server, url2) = Serve::start(&db, port);
    assert_eq!(url2, url);
    let s = t
        .wait_for("the queued batch to complete", LONG, |s| {
            s.contains("30 of 30 accepted") && !s.contains("conflict")
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(s.contains("every item sent applied"), "{s}");

    for rid in &ids {
        let r = reply(
            http.get(format!("{url}/v1/referrals/{rid}"))
                .bearer_auth(&tokens.acme)
                .send()
                .await
                .unwrap(),
        )
        .await
        .ok();
        assert_eq!(r["status"], "accepted");
        assert_eq!(r["version"], 2, "accepted exactly once: {rid}");
        assert_eq!(r["decided_by"]["name"], "Dana Reyes");
    }
    esc_until_gone(&mut t, "Esc closes");
    assert_eq!(t.quit().exit_code(), 0);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_history_survives_a_restart_and_export_writes_the_view() {
    let w = World::start().await;
    send_many(&w, 5).await;
    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().to_str().unwrap().to_owned();
    let out = state.path().join("view.csv");

    let mut t =
        Tui::start(Options::new(&w.url, &w.t.acme, COLS, ROWS).env("XDG_STATE_HOME", &state_dir));
    t.until_live("Lead 004");
    t.send(":filter company:\"lead 00\" -company:\"lead 003\"\r");
    t.until("the filter from the line", |s| {
        s.contains("4 shown") && !s.contains("Lead 003")
    });
    t.send(format!(":export {}\r", out.display()));
    t.until("the export to be done", |s| {
        status_line(s).contains("exported 4 referrals")
    });
    let csv = std::fs::read_to_string(&out).expect("exported file");
    assert_eq!(csv.lines().count(), 5, "a header and 4 rows: {csv}");
    assert!(!csv.contains("Lead 003"));
    assert_eq!(t.quit().exit_code(), 0);

    let history = std::fs::read_to_string(state.path().join("leadx/history")).expect("history");
    assert!(
        history.lines().any(|l| l.starts_with("filter company:")),
        "{history}"
    );

    let mut t =
        Tui::start(Options::new(&w.url, &w.t.acme, COLS, ROWS).env("XDG_STATE_HOME", &state_dir));
    t.until_live("Lead 004");
    t.send(":");
    t.send("\x1b[A");
    t.until("the last command recalled", |s| {
        status_line(s).contains(":export ")
    });
    t.send("\x1b[A");
    t.until("the one before", |s| {
        status_line(s).contains(":filter company:")
    });
    esc_until_gone(&mut t, "Tab complete");
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_only_monitor_shows_live_queues_and_no_action() {
    let w = World::start().await;
    send_many(&w, 3).await;
    let mut t = Tui::start(Options::new(&w.url, &w.t.operator, COLS, ROWS).arg("--readonly"));
    let s = t.until_live("Lead 002");
    assert!(s.contains("Queues (live)"), "{s}");
    let row = |s: &str| {
        s.lines()
            .find(|l| l.contains("│acme-web"))
            .map(str::to_owned)
            .unwrap_or_default()
    };
    assert!(row(&s).contains("acme-web        3"), "{}", row(&s));
    let hints = s.lines().last().unwrap_or_default().to_owned();
    assert!(!hints.contains("accept"), "{hints}");
    // A new lead arrives: the summary follows, live.
    w.send(&w.t.northwind, "acme-web", "Live One", None).await;
    t.until("the queue to grow", |s| {
        row(s).contains("acme-web        4")
    });
    // `?` lists no action.
    t.send("?");
    let s = t.until_shows("Keys —");
    assert!(!s.contains("Accept the pending"), "{s}");
    esc_until_gone(&mut t, "Keys —");
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_reject_and_forward_from_the_command_line() {
    let w = World::start().await;
    let ids = send_many(&w, 4).await;
    let mut t =
        Tui::start(Options::new(&w.url, &w.t.acme, COLS, ROWS).config(&batch_config(10, 0)));
    t.until_live("Lead 003");
    // Newest first: Lead 003 and Lead 002 are the top two rows.
    t.send("  ");
    t.until("two marked", |s| status_line(s).contains("2 selected"));
    t.send(":reject dupl");
    t.send("\t");
    // Tab completes the code and its space: the note typed next follows
    // it. (A trailing space alone is not on the screen's text: whether
    // the terminal holds a written blank or an erased cell there depends
    // on how the frame was encoded.)
    t.send("seen it last week");
    t.until("the reason completed, the note after it", |s| {
        status_line(s).contains(":reject duplicate seen it last week")
    });
    t.send("\r");
    t.wait_for("the reject results", LONG, |s| s.contains("2 rejected"))
        .unwrap_or_else(|e| panic!("{e}"));
    esc_until_gone(&mut t, "Esc closes");
    t.send(":select status:pending\r");
    t.until("the rest marked", |s| status_line(s).contains("2 selected"));
    t.send(":forward pixel-forge please take these\r");
    t.wait_for("the forward results", LONG, |s| s.contains("2 forwarded"))
        .unwrap_or_else(|e| panic!("{e}"));
    esc_until_gone(&mut t, "Esc closes");
    assert_eq!(t.quit().exit_code(), 0);

    for (i, rid) in ids.iter().enumerate() {
        let r = w.get(&w.t.acme, &format!("/v1/referrals/{rid}")).await.ok();
        if i >= 2 {
            assert_eq!(r["status"], "rejected", "{rid}");
            assert_eq!(r["reason"]["code"], "duplicate");
            assert_eq!(r["reason"]["note"], "seen it last week");
        } else {
            assert_eq!(r["status"], "forwarded", "{rid}");
            assert_eq!(r["version"], 2);
        }
    }
    let pixel = w.boxed(&w.t.pixel, "incoming").await;
    assert_eq!(pixel.len(), 2);
    assert!(pixel.iter().all(|r| r["note"] == "please take these"));
}
