//! End to end, the undo window of single actions (issue 9, item 7): the
//! real `leadx` binary in a pseudo-terminal against a real server. A
//! single `a` is held: the server does not see it while the banner counts
//! down, `u` cancels it for good, a popup stops the countdown, and an
//! action left alone reaches the server when the window ends.

mod common;
mod e2e;

use std::time::{Duration, Instant};

use common::{World, id};
use e2e::{Options, Tui, cursor_row, status_line};
use serde_json::Value;

const COLS: u16 = 120;
const ROWS: u16 = 30;
/// The window this test runs with (the default is 5 s).
const WINDOW: u64 = 3;

async fn referral(w: &World, rid: &str) -> Value {
    w.get(&w.t.acme, &format!("/v1/referrals/{rid}")).await.ok()
}

/// Asserts the server still holds `rid` untouched: pending, version 1.
async fn untouched(w: &World, rid: &str, when: &str) {
    let r = referral(w, rid).await;
    assert_eq!(r["status"], "pending", "{when}: {r}");
    assert_eq!(r["version"], 1, "{when}: {r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_accept_waits_its_window_u_cancels_it_and_a_popup_pauses_it() {
    let w = World::start().await;
    w.clock.set(chrono::Utc::now() - chrono::Duration::hours(1));
    let older = id(&w.send(&w.t.northwind, "acme-web", "Older Oak", None).await);
    w.clock.advance(chrono::Duration::minutes(10));
    let newer = id(&w.send(&w.t.northwind, "acme-web", "Newer Elm", None).await);
    // Only the window's length is set: `batch.undo_single` is left at its
    // default, which is on.
    let mut t = Tui::start(
        Options::new(&w.url, &w.t.acme, COLS, ROWS)
            .config(&format!("[batch]\nundo_seconds = {WINDOW}\n")),
    );
    t.until_live("Older Oak");
    t.until("the cursor on Newer Elm", |s| {
        cursor_row(s).is_some_and(|r| r.contains("Newer Elm"))
    });

    // 1. `a`, then `u`: the server never sees the accept.
    t.send("a");
    t.until_shows("Accept Newer Elm in");
    untouched(&w, &newer, "during the window").await;
    t.send("u");
    t.until("the undo to be confirmed", |s| {
        status_line(s).contains("nothing was sent")
    });
    tokio::time::sleep(Duration::from_secs(WINDOW + 2)).await;
    untouched(&w, &newer, "well after an undone window").await;
    assert!(
        cursor_row(&t.screen()).is_some_and(|r| r.contains("pending")),
        "{}",
        t.screen()
    );

    // 2. `a`, then a popup (the copy menu) open longer than the window:
    // the countdown stands still.
    t.send("a");
    t.until_shows("Accept Newer Elm in");
    t.send("Y");
    t.until_shows("(paused)");
    tokio::time::sleep(Duration::from_secs(WINDOW + 2)).await;
    untouched(&w, &newer, "while the help was open").await;
    t.send("\x1b");
    t.until("the menu to close", |s| !s.contains("(paused)"));
    // 3. Left alone, the window ends and the accept reaches the server.
    let start = Instant::now();
    loop {
        let r = referral(&w, &newer).await;
        if r["status"] == "accepted" {
            assert_eq!(r["version"], 2, "applied once: {r}");
            assert_eq!(r["decided_by"]["name"], "Dana Reyes");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "never accepted: {r}\n{}",
            t.screen()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    t.until("the row to show accepted", |s| {
        cursor_row(s).is_some_and(|r| r.contains("Newer Elm") && r.contains("accepted"))
    });
    untouched(&w, &older, "the other row").await;

    // 4. Quitting while one is held: the question says it is dropped, and
    // it is.
    t.send("j");
    t.until("the cursor on Older Oak", |s| {
        cursor_row(s).is_some_and(|r| r.contains("Older Oak"))
    });
    t.send("a");
    t.until_shows("Accept Older Oak in");
    t.send("q");
    t.until_shows("dropped, never sent");
    t.send("y");
    assert_eq!(t.wait_exit().exit_code(), 0);
    tokio::time::sleep(Duration::from_secs(WINDOW + 1)).await;
    untouched(&w, &older, "after quitting in the window").await;
}
