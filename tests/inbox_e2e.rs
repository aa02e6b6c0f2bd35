//! End to end: the real `leadx` binary in a pseudo-terminal (portable-pty,
//! its output read through a vt100 parser) against a real server and a real
//! SQLite store. Keys are typed as bytes; every test checks both what the
//! screen shows and what the server holds.

mod common;
mod e2e;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use chrono::Utc;
use common::{World, id, lead_body, populate, reply, world_with};
use e2e::{Options, Serve, Tui, contains, count, cursor_row, rfind, status_line};
use leadx::clock;
use leadx::domain::{Action, ActionItem};
use leadx::sanitize::{clean_line, clean_text};
use leadx::store::sqlite::SqliteStore;
use leadx::wire::{PartnerKind, Role};
use leadx::wire::{ReasonCode, ReasonInput};
use serde_json::{Value, json};

/// No title and no alert: the hostile-text tests assert that nothing but
/// drawing reaches the terminal (the title and alerts, which write OSC
/// sequences of their own, are tested in inbox_term_e2e.rs).
const QUIET: &str = "[notify]\ntitle = false\nalert = \"off\"\n";

/// The sizes the inbox is driven at.
const WIDE: (u16, u16) = (100, 30);
const SMALL: (u16, u16) = (80, 24);

/// The referral as `token`'s partner sees it now.
async fn referral(w: &World, token: &str, rid: &str) -> Value {
    w.get(token, &format!("/v1/referrals/{rid}")).await.ok()
}

/// Waits until the row under the cursor satisfies `pred`.
#[track_caller]
fn until_cursor(t: &mut Tui, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let s = t.until(&format!("the row under the cursor to {what}"), |s| {
        cursor_row(s).is_some_and(|r| pred(&r))
    });
    cursor_row(&s).expect("cursor row")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_shows_header_incoming_referrals_and_live() {
    let (w, _) = world_with(&["Alpha Bakery", "Bravo Dental", "Charlie Cafe"]).await;
    // Sent by acme-web: outgoing, never in the incoming pane.
    w.send(&w.t.acme, "northwind-net", "Outbound Oak", None)
        .await;
    let incoming = w.boxed(&w.t.acme, "incoming").await;
    assert_eq!(incoming.len(), 3);

    for (cols, rows) in [WIDE, SMALL] {
        let mut t = Tui::spawn(&w.url, &w.t.acme, cols, rows);
        let s = t.until_live("Alpha Bakery");
        let lines: Vec<&str> = s.lines().collect();
        let header = lines[0];
        for part in ["Acme Web Studio (acme-web)", "Dana Reyes", "agent"] {
            assert!(header.contains(part), "{cols}x{rows} header {header:?}");
        }
        if cols >= 100 {
            assert!(header.contains(&w.url), "header {header:?}");
        }
        assert!(
            lines[1].contains("Incoming 3 · 3 pending"),
            "{cols}x{rows} pane title {:?}",
            lines[1]
        );
        // Every incoming referral the server holds is on screen, newest first.
        let pos = |c: &str| {
            lines
                .iter()
                .position(|l| l.contains(c))
                .unwrap_or_else(|| panic!("{c} missing at {cols}x{rows}:\n{}", e2e::frame(&s)))
        };
        for r in &incoming {
            let company = r["lead"]["company"].as_str().unwrap();
            let row = lines[pos(company)];
            assert!(
                row.contains("northwind-net") && row.contains("○ pending"),
                "{row:?}"
            );
        }
        assert!(pos("Charlie Cafe") < pos("Bravo Dental"));
        assert!(pos("Bravo Dental") < pos("Alpha Bakery"));
        assert!(
            !s.contains("Outbound Oak"),
            "outgoing lead in the incoming pane"
        );
        assert!(
            cursor_row(&s).unwrap().contains("Charlie Cafe"),
            "the cursor starts on the newest"
        );
        assert_eq!(t.quit().exit_code(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_the_row_under_the_cursor() {
    let (w, ids) = world_with(&["Alpha Bakery", "Bravo Dental", "Charlie Cafe"]).await;
    let (cols, rows) = WIDE;
    let mut t = Tui::spawn(&w.url, &w.t.acme, cols, rows);
    t.until_live("Alpha Bakery");
    t.send("j");
    until_cursor(&mut t, "be Bravo Dental", |r| r.contains("Bravo Dental"));
    t.send("a");
    let row = until_cursor(&mut t, "show Bravo Dental accepted", |r| {
        r.contains("Bravo Dental") && r.contains("accepted")
    });
    assert!(!row.contains("pending"), "{row:?}");

    let r = referral(&w, &w.t.acme, &ids[1]).await;
    assert_eq!(r["status"], "accepted");
    assert_eq!(r["version"], 2);
    assert_eq!(r["decided_by"]["name"], "Dana Reyes");
    assert_eq!(r["decided_by"]["partner"], "acme-web");
    // The others are untouched.
    for other in [&ids[0], &ids[2]] {
        assert_eq!(referral(&w, &w.t.acme, other).await["status"], "pending");
    }
    // Accepted: the contact is no longer masked, in the detail pane too.
    assert_eq!(r["contact_masked"], false);
    t.send("\r");
    t.until_shows("jo@example.com");
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_with_a_reason_and_a_note() {
    let (w, ids) = world_with(&["Alpha Bakery", "Bravo Dental"]).await;
    let (cols, rows) = SMALL;
    let mut t = Tui::spawn(&w.url, &w.t.acme, cols, rows);
    t.until_live("Alpha Bakery");
    until_cursor(&mut t, "be Bravo Dental", |r| r.contains("Bravo Dental"));
    t.send("r");
    t.until_shows("Why?");
    // 3 = duplicate: picking by number goes straight to the note.
    t.send("3");
    t.until("the note step with reason Duplicate", |s| {
        s.contains("Reason Duplicate") && s.contains("Note")
    });
    t.send("seen it last week");
    t.until_shows("seen it last week");
    t.send("\r");
    until_cursor(&mut t, "show Bravo Dental rejected", |r| {
        r.contains("Bravo Dental") && r.contains("rejected")
    });
    t.until("the popup to be gone", |s| {
        !s.contains("Why?") && !s.contains("Reason Duplicate")
    });

    let r = referral(&w, &w.t.acme, &ids[1]).await;
    assert_eq!(r["status"], "rejected");
    assert_eq!(r["reason"]["code"], "duplicate");
    assert_eq!(r["reason"]["note"], "seen it last week");
    assert_eq!(r["decided_by"]["name"], "Dana Reyes");
    assert_eq!(referral(&w, &w.t.acme, &ids[0]).await["status"], "pending");
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_to_a_partner_picked_by_typing() {
    let (w, ids) = world_with(&["Alpha Bakery", "Bravo Dental"]).await;
    let (cols, rows) = WIDE;
    let mut t = Tui::spawn(&w.url, &w.t.acme, cols, rows);
    t.until_live("Alpha Bakery");
    t.send("f");
    t.until_shows("Forward Bravo Dental");
    // The directory is loaded: every partner but acme-web and northwind-net
    // (already in the chain) is offered.
    t.until("the picker to list the partners", |s| {
        s.contains("harbor-host")
            && s.contains("pixel-forge")
            && s.contains("blue-design")
            && s.contains("4 of 4 partners")
    });
    t.send("harb");
    let s = t.until("the picker narrowed to harbor-host", |s| {
        s.contains("Partner harb")
            && s.contains("1 of 4 partners")
            && s.contains("harbor-host")
            && !s.contains("pixel-forge")
    });
    assert!(!s.contains("blue-design"), "{}", e2e::frame(&s));
    t.send("\r");
    t.until("the note step for harbor-host", |s| {
        s.contains("To harbor-host") && s.contains("Optional note")
    });
    t.send("they host in the UK");
    t.until_shows("they host in the UK");
    t.send("\r");
    until_cursor(&mut t, "show Bravo Dental forwarded", |r| {
        r.contains("Bravo Dental") && r.contains("forwarded")
    });

    let parent = referral(&w, &w.t.acme, &ids[1]).await;
    assert_eq!(parent["status"], "forwarded");
    assert_eq!(parent["decision_note"], "they host in the UK");
    let child_id = parent["forwarded_to"].as_str().expect("forwarded_to");
    let child = referral(&w, &w.t.harbor, child_id).await;
    assert_eq!(child["from_partner"], "acme-web");
    assert_eq!(child["to_partner"], "harbor-host");
    assert_eq!(child["status"], "pending");
    assert_eq!(child["parent_id"], ids[1].as_str());
    assert_eq!(child["note"], "they host in the UK");
    assert_eq!(
        child["chain"],
        json!(["northwind-net", "acme-web", "harbor-host"])
    );
    // The new hop is acme-web's outgoing referral: it shows in that pane.
    t.send("2");
    t.until("the outgoing pane to show the new hop", |s| {
        s.contains("▸ Outgoing")
            && cursor_row(s).is_some_and(|r| r.contains("harbor-host") && r.contains("pending"))
    });
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdraw_an_outgoing_pending_referral() {
    let (w, incoming) = world_with(&["Alpha Bakery"]).await;
    let older = id(&w
        .send(&w.t.acme, "northwind-net", "Oak Outfitters", None)
        .await);
    w.clock.advance(chrono::Duration::minutes(10));
    let newer = id(&w.send(&w.t.acme, "pixel-forge", "Pine Pottery", None).await);
    let (cols, rows) = SMALL;
    let mut t = Tui::spawn(&w.url, &w.t.acme, cols, rows);
    t.until_live("Alpha Bakery");
    // Withdrawing is for senders: on an incoming row it says why not.
    t.send("w");
    t.until("the status bar to say why not", |s| {
        status_line(s).contains("cannot withdraw this referral: only its sender")
    });
    t.send("\t");
    t.until("the outgoing pane", |s| {
        s.contains("▸ Outgoing 2 · 2 pending") && s.contains("Oak Outfitters")
    });
    until_cursor(&mut t, "be Pine Pottery", |r| r.contains("Pine Pottery"));
    t.send("j");
    until_cursor(&mut t, "be Oak Outfitters", |r| {
        r.contains("Oak Outfitters")
    });
    t.send("w");
    until_cursor(&mut t, "show Oak Outfitters withdrawn", |r| {
        r.contains("Oak Outfitters") && r.contains("withdrawn")
    });

    let r = referral(&w, &w.t.acme, &older).await;
    assert_eq!(r["status"], "withdrawn");
    assert_eq!(r["decided_by"]["name"], "Dana Reyes");
    assert_eq!(referral(&w, &w.t.acme, &newer).await["status"], "pending");
    assert_eq!(
        referral(&w, &w.t.acme, &incoming[0]).await["status"],
        "pending"
    );
    // The recipient sees it withdrawn too.
    assert_eq!(
        referral(&w, &w.t.northwind, &older).await["status"],
        "withdrawn"
    );
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_lead_appears_without_moving_the_cursor() {
    let (w, _) = world_with(&["Alpha Bakery", "Bravo Dental", "Charlie Cafe"]).await;
    let (cols, rows) = WIDE;
    let mut t = Tui::spawn(&w.url, &w.t.acme, cols, rows);
    t.until_live("Alpha Bakery");
    t.send("j");
    let before = until_cursor(&mut t, "be Bravo Dental", |r| r.contains("Bravo Dental"));
    let bytes_before = t.raw_len();

    // Another partner sends a lead; nobody touches the keyboard.
    w.clock.advance(chrono::Duration::minutes(10));
    let new = id(&w.send(&w.t.pixel, "acme-web", "Delta Dental", None).await);
    // Every row fits: the new one is drawn, so it is not counted as unseen.
    let s = t.until("the new lead to appear", |s| {
        s.contains("Delta Dental") && s.contains("Incoming 4 · 4 pending ")
    });
    assert!(!s.contains("1 new"), "{}", e2e::frame(&s));
    let lines: Vec<&str> = s.lines().collect();
    let first_row = lines
        .iter()
        .position(|l| l.contains("AGE"))
        .map(|i| lines[i + 1])
        .expect("table header");
    assert!(
        first_row.contains("Delta Dental") && first_row.contains("pixel-forge"),
        "the newest lead goes on top: {}",
        e2e::frame(&s)
    );
    assert!(first_row.contains('•'), "marked new: {first_row}");
    let after = cursor_row(&s).expect("cursor row");
    assert!(
        after.contains("Bravo Dental"),
        "the cursor moved off its row: before {before:?}, after {after:?}"
    );
    assert!(t.raw_len() > bytes_before, "the new lead was drawn");
    // The inbox is still at the keyboard's disposal on the same row.
    t.send("a");
    until_cursor(&mut t, "show Bravo Dental accepted", |r| {
        r.contains("Bravo Dental") && r.contains("accepted")
    });

    let listed = w.boxed(&w.t.acme, "incoming").await;
    assert_eq!(listed.len(), 4);
    assert_eq!(referral(&w, &w.t.acme, &new).await["status"], "pending");
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resizing_keeps_the_place_and_too_small_says_so() {
    let (w, _) = world_with(&["Alpha Bakery", "Bravo Dental", "Charlie Cafe"]).await;
    let (cols, rows) = WIDE;
    let mut t = Tui::spawn(&w.url, &w.t.acme, cols, rows);
    t.until_live("Alpha Bakery");
    t.send("j");
    until_cursor(&mut t, "be Bravo Dental", |r| r.contains("Bravo Dental"));
    t.send("\r");
    t.until("the detail of Bravo Dental, at 100 columns", |s| {
        s.contains("Detail") && s.contains("Summary") && s.contains("REGION")
    });
    t.resize(50, 12);
    let s = t.until("terminal too small", |s| s.contains("too small"));
    assert!(
        !s.contains("Bravo Dental"),
        "drew the table anyway:\n{}",
        e2e::frame(&s)
    );
    let (cols, rows) = SMALL;
    t.resize(cols, rows);
    let s = t.until("the inbox back at 80x24", |s| {
        !s.contains("too small") && s.contains("Detail") && s.contains("Alpha Bakery")
    });
    let row = cursor_row(&s).expect("cursor row");
    assert!(row.contains("Bravo Dental"), "lost its place: {row:?}");
    // Laid out for 80 columns: the region column no longer fits.
    assert!(!s.contains("REGION"), "{}", e2e::frame(&s));
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_an_accepted_referral_as_won() {
    let (w, ids) = world_with(&["Alpha Bakery", "Bravo Dental"]).await;
    w.act(&w.t.acme, &ids[0], "accept", json!({"version": 1}))
        .await
        .ok();
    let (cols, rows) = SMALL;
    let mut t = Tui::spawn(&w.url, &w.t.acme, cols, rows);
    t.until_live("Alpha Bakery");
    // Only accepted referrals can be closed.
    t.send("c");
    t.until("the status bar to say why not", |s| {
        status_line(s).contains("cannot close")
    });
    t.send("j");
    until_cursor(&mut t, "be Alpha Bakery, accepted", |r| {
        r.contains("Alpha Bakery") && r.contains("accepted")
    });
    t.send("c");
    t.until_shows("How did it end?");
    t.send("\r");
    t.until_shows("Deal value");
    t.send("12.5k");
    t.until_shows("12.5k");
    t.send("\r");
    t.until("the note step", |s| {
        s.contains("Optional note") && s.contains("Close Alpha")
    });
    t.send("signed today\r");
    until_cursor(&mut t, "show Alpha Bakery won", |r| {
        r.contains("Alpha Bakery") && r.contains("won")
    });

    let r = referral(&w, &w.t.acme, &ids[0]).await;
    assert_eq!(r["status"], "won");
    assert_eq!(r["outcome"]["value_cents"], 1_250_000);
    assert_eq!(r["outcome"]["note"], "signed today");
    assert_eq!(r["version"], 3);
    assert_eq!(referral(&w, &w.t.acme, &ids[1]).await["status"], "pending");
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_as_you_type_then_act_on_a_filtered_row() {
    let (w, ids) = world_with(&[
        "Alpha Bakery",
        "Bravo Dental",
        "Charlie Cafe",
        "Delta Dental",
    ])
    .await;
    let (cols, rows) = WIDE;
    let mut t = Tui::spawn(&w.url, &w.t.acme, cols, rows);
    t.until_live("Alpha Bakery");
    t.send("/");
    t.until("the filter prompt", |s| status_line(s).contains("filter:"));
    t.send("dental");
    let s = t.until("only the dental leads", |s| {
        s.contains("2 shown") && !s.contains("Alpha Bakery") && !s.contains("Charlie Cafe")
    });
    assert!(s.contains("Bravo Dental") && s.contains("Delta Dental"));
    assert!(
        status_line(&s).contains("filter: dental"),
        "{}",
        e2e::frame(&s)
    );
    // Enter keeps the filter; keys move within what is shown.
    t.send("\r");
    until_cursor(&mut t, "be Delta Dental", |r| r.contains("Delta Dental"));
    t.send("j");
    until_cursor(&mut t, "be Bravo Dental", |r| r.contains("Bravo Dental"));
    t.send("a");
    until_cursor(&mut t, "show Bravo Dental accepted", |r| {
        r.contains("Bravo Dental") && r.contains("accepted")
    });
    // Esc clears it: everything is back, the cursor still on its row.
    t.send("\x1b");
    let s = t.until("every lead again", |s| {
        s.contains("Alpha Bakery") && s.contains("Charlie Cafe") && !s.contains("shown")
    });
    assert!(cursor_row(&s).unwrap().contains("Bravo Dental"));

    let r = referral(&w, &w.t.acme, &ids[1]).await;
    assert_eq!(r["status"], "accepted");
    for other in [&ids[0], &ids[2], &ids[3]] {
        assert_eq!(referral(&w, &w.t.acme, other).await["status"], "pending");
    }
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_lists_the_keys_and_a_stray_q_only_closes_it() {
    let (w, ids) = world_with(&["Alpha Bakery"]).await;
    let (cols, rows) = WIDE;
    let mut t = Tui::spawn(&w.url, &w.t.acme, cols, rows);
    t.until_live("Alpha Bakery");
    t.send("?");
    let s = t.until_shows("Keys");
    for line in ["Move down one row", "Accept the pending", "Forward it"] {
        assert!(s.contains(line), "{line:?} missing:\n{}", e2e::frame(&s));
    }
    // Keys go to the overlay, not the list behind it.
    t.send("a");
    t.send("q");
    t.until("the help to close", |s| !s.contains("Move down one row"));
    assert!(t.try_exit().is_none(), "q in the help quit the app");
    // Had `a` reached the list, the status bar would say "accepting …" (the
    // reducer says so on the key press, before the `q` that closed the help).
    let st = t.status_bar();
    assert!(!st.contains("accept"), "{st:?}");
    assert_eq!(referral(&w, &w.t.acme, &ids[0]).await["status"], "pending");
    assert!(cursor_row(&t.screen()).unwrap().contains("pending"));
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_color_sends_no_colour_and_keeps_the_cursor_visible() {
    let (w, _) = world_with(&["Alpha Bakery", "Bravo Dental"]).await;
    let (cols, rows) = SMALL;
    let mut t = Tui::start(Options::new(&w.url, &w.t.acme, cols, rows).env("NO_COLOR", "1"));
    t.until_live("Alpha Bakery");
    t.send("j");
    let s = until_cursor(&mut t, "be Alpha Bakery", |r| r.contains("Alpha Bakery"));
    let raw = t.whole_frames();
    let colours: Vec<Vec<u16>> = e2e::sgr_params(&raw)
        .into_iter()
        .filter(|p| {
            p.iter()
                .any(|&n| matches!(n, 30..=38 | 40..=48 | 58 | 90..=97 | 100..=107))
        })
        .collect();
    assert!(
        colours.is_empty(),
        "colour sequences with NO_COLOR: {colours:?}"
    );
    // The row under the cursor stands out without colour.
    let screen = t.screen();
    let row = screen.lines().position(|l| l == s).expect("cursor row") as u16;
    assert!(
        t.row_emphasised(row),
        "the cursor row is not bold or reversed"
    );
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_draws_nothing() {
    let (w, _) = world_with(&["Alpha Bakery", "Beta Books"]).await;
    let (cols, rows) = SMALL;
    let mut t = Tui::spawn(&w.url, &w.t.acme, cols, rows);
    t.until_live("Beta Books");
    // A key that moves the cursor (and asks the server for nothing): its
    // frame is drawn whole before the window below opens.
    t.send("j");
    t.until("the key's frame", |s| {
        cursor_row(s).is_some_and(|r| r.contains("Alpha Bakery"))
    });
    let before = t.whole_frames();
    // Idle means that no frame comes, which no poll can wait for: watch a
    // fixed window instead, long enough that a redraw on every wakeup of
    // the app's one-second timers would show three times.
    const IDLE_WINDOW: Duration = Duration::from_secs(3);
    std::thread::sleep(IDLE_WINDOW);
    let after = t.raw_bytes();
    let frames = e2e::frames(&after[before.len()..]).len();
    // A minute turning may change an age once; nothing else may draw.
    assert!(
        frames <= 1,
        "{frames} frames, {} bytes in {IDLE_WINDOW:?} idle",
        after.len() - before.len()
    );
    assert_eq!(referral_count(&w).await, 2);
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_lead_costs_less_than_2kb_of_output() {
    // 20 rows fit the 100x30 pane: the new one shifts them all down. 40 do
    // not: it lands above the viewport and only the counts change.
    // One pane only; tests/inbox_bytes_e2e.rs covers 200x50 side by side
    // (the recorded miss) and stacked, counting every frame.
    for n in [20usize, 40] {
        let w = World::start().await;
        w.clock.set(Utc::now() - chrono::Duration::hours(10));
        for i in 0..n {
            w.send(&w.t.northwind, "acme-web", &format!("Company {i:02}"), None)
                .await;
            w.clock.advance(chrono::Duration::minutes(10));
        }
        let (cols, rows) = WIDE;
        let mut t = Tui::spawn(&w.url, &w.t.acme, cols, rows);
        t.until_live(&format!("Company {:02}", n - 1));
        let before = t.raw_len();
        w.send(&w.t.pixel, "acme-web", "Newcomer Inc", None).await;
        // Fits: drawn (not counted). Does not fit: counted above the view.
        let (total, mark): (String, &[u8]) = if n == 20 {
            (
                format!("Incoming {} · {} pending ", n + 1, n + 1),
                b"Newcomer Inc",
            )
        } else {
            (
                format!("Incoming {} · {} pending · 1 new", n + 1, n + 1),
                b"1 new",
            )
        };
        t.until("the new lead to be shown or counted", |s| {
            s.contains(&total) && (n != 20 || s.contains("Newcomer Inc"))
        });
        let raw = t.whole_frames();
        let frame = e2e::frames(&raw[before..])
            .into_iter()
            .find(|f| contains(f, mark))
            .expect("the frame that drew the new lead");
        assert!(
            frame.len() <= 2048,
            "{n} rows: one new lead wrote {} bytes",
            frame.len()
        );
        if n == 20 {
            assert!(contains(frame, b"Newcomer Inc"), "drawn on top");
        }
        assert_eq!(t.quit().exit_code(), 0);
        assert_eq!(w.boxed(&w.t.acme, "incoming").await.len(), n + 1);
    }
}

/// How many referrals acme-web sees.
async fn referral_count(w: &World) -> usize {
    w.boxed(&w.t.acme, "all").await.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leadx_demo_opens_a_live_queue_with_no_setup() {
    // Nothing configured: the demo runs its own server and world.
    let (cols, rows) = WIDE;
    let mut t = Tui::start(
        Options::new("", "", cols, rows)
            .arg("demo")
            .arg("--interval")
            .arg("0.3"),
    );
    let s = t.until("the demo inbox, live", |s| {
        let header = s.lines().next().unwrap_or("");
        header.contains("· agent")
            && header.contains("http://127.0.0.1:")
            && status_line(s).contains("● live")
            && s.contains("▸ Incoming")
    });
    assert!(cursor_row(&s).is_some(), "no rows:\n{}", e2e::frame(&s));
    // The simulator moves the queue: events arrive with no key pressed.
    t.until("an event from the simulator", |s| {
        status_line(s).contains("last event")
    });
    // Its server answers on the URL the header shows.
    let header = s.lines().next().unwrap().to_owned();
    let url = header
        .split(" │ ")
        .map(str::trim)
        .find(|p| p.starts_with("http://127.0.0.1:"))
        .expect("server in the header")
        .to_owned();
    let health = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let status = t.quit();
    assert!(status.success(), "{status:?}");
    assert_restored(&t, "demo q");
    // Quitting the demo stops its server.
    let gone = reqwest::get(format!("{url}/healthz"))
        .await
        .expect_err("the demo server outlived the demo");
    assert!(gone.is_connect(), "refused, not some other error: {gone}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_killed_and_restarted() {
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
    let send = |url: &str, token: &str, company: &str| {
        http.post(format!("{url}/v1/referrals"))
            .bearer_auth(token)
            .json(&lead_body("acme-web", company, None))
            .send()
    };
    let port = e2e::free_port();
    let (server, url) = Serve::start(&db, port);
    let first = reply(send(&url, &tokens.northwind, "Echo Bakery").await.unwrap()).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let first = id(&first.body);

    let (cols, rows) = SMALL;
    let mut t = Tui::spawn(&url, &tokens.acme, cols, rows);
    t.until_live("Echo Bakery");

    server.kill();
    t.until("the status bar to say the feed is down", |s| {
        let st = status_line(s);
        st.contains("reconnecting") || st.contains("offline")
    });
    // It never exits, and still shows what it had.
    assert!(t.try_exit().is_none(), "the inbox exited with the server");
    assert!(t.screen().contains("Echo Bakery"));
    // An action taken while the server is away waits in the queue.
    t.send("a");
    t.until("the accept to be in flight or queued", |s| {
        let st = status_line(s);
        st.contains("in flight") || st.contains("unsent")
    });

    let (server, url2) = Serve::start(&db, port);
    assert_eq!(url2, url);
    let second = reply(send(&url, &tokens.pixel, "Foxtrot Florist").await.unwrap()).await;
    assert_eq!(second.status, 201, "{}", second.body);
    let second = id(&second.body);

    let deadline = Duration::from_secs(45);
    t.wait_for("live again, with the lead sent meanwhile", deadline, |s| {
        s.contains("Foxtrot Florist") && status_line(s).contains("● live")
    })
    .unwrap_or_else(|e| panic!("{e}"));
    t.wait_for("the queued accept to be applied", deadline, |s| {
        s.lines()
            .any(|l| l.contains("Echo Bakery") && l.contains("accepted"))
            && !status_line(s).contains("in flight")
            && !status_line(s).contains("unsent")
    })
    .unwrap_or_else(|e| panic!("{e}"));

    let get = |rid: String| {
        let http = http.clone();
        let (url, token) = (url.clone(), tokens.acme.clone());
        async move {
            reply(
                http.get(format!("{url}/v1/referrals/{rid}"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
            .ok()
        }
    };
    let r = get(first).await;
    assert_eq!(r["status"], "accepted");
    assert_eq!(r["version"], 2, "accepted exactly once");
    assert_eq!(r["decided_by"]["name"], "Dana Reyes");
    assert_eq!(get(second).await["status"], "pending");
    assert_eq!(t.quit().exit_code(), 0);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_action_that_lost_the_race_shows_who_won() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("leadx.db");
    let tokens = {
        let store = SqliteStore::open(&db, clock::system()).unwrap();
        populate(&store).await
    };
    let port = e2e::free_port();
    let (server, url) = Serve::start(&db, port);
    let http = reqwest::Client::new();
    let sent = reply(
        http.post(format!("{url}/v1/referrals"))
            .bearer_auth(&tokens.northwind)
            .json(&lead_body("acme-web", "Echo Co", None))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    let rid = id(&sent.body);

    let (cols, rows) = WIDE;
    let mut t = Tui::spawn(&url, &tokens.acme, cols, rows);
    t.until_live("Echo Co");
    server.kill();
    t.until("the feed to be down", |s| {
        let st = status_line(s);
        st.contains("reconnecting") || st.contains("offline")
    });
    // Dana accepts what she sees (version 1); it cannot be sent yet.
    t.send("a");
    t.until("the accept to wait", |s| {
        status_line(s).contains("1 unsent")
    });
    // Meanwhile her admin rejects it (straight in the database: the server
    // is down).
    {
        let store = SqliteStore::open(&db, clock::system()).unwrap();
        let ada = store.authenticate(&tokens.acme_admin).unwrap().unwrap();
        let results = store
            .apply(
                &ada,
                vec![ActionItem {
                    id: rid.clone(),
                    version: 1,
                    action: Action::Reject {
                        reason: ReasonInput {
                            code: ReasonCode::WrongPartner,
                            note: None,
                        },
                    },
                }],
                None,
            )
            .unwrap();
        assert_eq!(results.len(), 1);
    }
    let (_server, _) = Serve::start(&db, port);
    // The retried accept gets 409: the row shows the current state and the
    // status bar says who decided. Nothing is retried after that.
    let s = t
        .wait_for("the conflict to be shown", Duration::from_secs(45), |s| {
            cursor_row(s).is_some_and(|r| r.contains("Echo Co") && r.contains("rejected"))
                && status_line(s).contains("cannot accept Echo Co: already rejected by Ada Admin")
                && !status_line(s).contains("in flight")
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!s.contains("accepted"), "{}", e2e::frame(&s));
    let r = reply(
        http.get(format!("{url}/v1/referrals/{rid}"))
            .bearer_auth(&tokens.acme)
            .send()
            .await
            .unwrap(),
    )
    .await
    .ok();
    assert_eq!(r["status"], "rejected");
    assert_eq!(r["version"], 2);
    assert_eq!(r["decided_by"]["name"], "Ada Admin");
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_lead_never_reaches_the_terminal_raw() {
    let w = World::start().await;
    let company = "Evil\x1b]52;c;SGVsbG8=\x07Corp\x1b]0;pwned\x07";
    let summary = "Clear\x1b[2Jscreen \u{9b}31mred \u{202e}desrever";
    let note = "zero\u{200b}width \x1b]0;pwned\x07 done";
    let mut body = lead_body("acme-web", company, None);
    body["lead"]["summary"] = json!(summary);
    body["note"] = json!(note);
    let hostile = id(&w.post(&w.t.northwind, "/v1/referrals", &body).await.ok());
    // The server keeps it as sent: only the client may make it safe.
    let stored = referral(&w, &w.t.acme, &hostile).await;
    assert_eq!(stored["lead"]["company"], company);
    assert_eq!(stored["lead"]["summary"], summary);

    let (cols, rows) = WIDE;
    let mut t = Tui::start(Options::new(&w.url, &w.t.acme, cols, rows).config(QUIET));
    let shown_company = clean_line(company);
    assert_eq!(shown_company, "Evil␛Corp␛");
    t.until_live(&shown_company);
    let mark = t.raw_len();
    t.send("\r");
    let s = t.until("the detail pane of the hostile lead", |s| {
        s.contains("Summary") && s.contains("desrever") && s.contains("Note") && s.contains("done")
    });

    // What the screen shows: visible placeholders where the sequences were.
    let shown_summary = clean_text(summary);
    let shown_note = clean_text(note);
    assert_eq!(shown_summary, "Clear␛screen ␛red �desrever");
    assert_eq!(shown_note, "zero�width ␛ done");
    // Escape sequences show as ␛.
    assert!(s.contains(&shown_company), "{}", e2e::frame(&s));
    assert!(s.contains("Clear␛screen ␛red"), "{}", e2e::frame(&s));
    assert!(s.contains("␛ done"), "{}", e2e::frame(&s));
    // Bidi and zero-width characters are sent as U+FFFD, which xterm draws
    // but vt100 drops (it reports it as an unhandled character instead): so
    // look for them in the bytes, and count them.
    let raw = t.whole_frames();
    assert!(
        contains(&raw, "�desrever".as_bytes()),
        "RLO placeholder not sent"
    );
    assert!(
        contains(&raw, "zero�width".as_bytes()),
        "ZWSP placeholder not sent"
    );
    let undrawn = t.seen().undrawn;
    assert!(
        undrawn.iter().filter(|c| **c == '\u{fffd}').count() >= 2
            && undrawn.iter().all(|c| *c == '\u{fffd}'),
        "characters vt100 could not draw: {undrawn:?}"
    );
    // Nothing cleared the screen: the header is still drawn.
    assert!(s.lines().next().unwrap().contains("Acme Web Studio"));

    // What reached the terminal: none of the sequences, none of their payloads.
    let raw = t.whole_frames();
    for needle in [
        b"\x1b]".as_slice(),
        b"\x1b]52",
        b"\x1b]0;pwned",
        b"pwned",
        b"SGVsbG8=",
        b"\x07",
        "\u{9b}".as_bytes(),
        "\u{202e}".as_bytes(),
        "\u{200b}".as_bytes(),
    ] {
        assert!(
            !contains(&raw, needle),
            "the terminal received {:?}",
            String::from_utf8_lossy(needle)
        );
    }
    assert_eq!(
        count(&raw[mark..], b"\x1b[2J"),
        0,
        "opening the detail pane cleared the screen"
    );
    let seen = t.seen();
    assert!(
        seen.titles.is_empty(),
        "window title set: {:?}",
        seen.titles
    );
    assert!(
        seen.icon_names.is_empty(),
        "icon name set: {:?}",
        seen.icon_names
    );
    assert!(
        seen.clipboard.is_empty(),
        "clipboard written: {:?}",
        seen.clipboard
    );
    assert_eq!(seen.bells, 0);
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_from_the_server_are_made_safe_too() {
    let w = World::start().await;
    // Names are not lead text, but they come from the server all the same.
    let partner_name = "Mallory\x1b]0;pwned\x07\u{202e}Net";
    w.store
        .add_partner(&common::partner(
            "mallory-net",
            partner_name,
            PartnerKind::Affiliate,
            &["design"],
            &["EU-Central"],
        ))
        .await
        .unwrap();
    let user_name = "Eve\x1b]52;c;SGVsbG8=\x07 Agent";
    let (_, token) = w
        .store
        .add_user("acme-web", user_name, Role::Agent)
        .await
        .unwrap();
    w.send(&w.t.northwind, "acme-web", "Plain Bakery", None)
        .await;

    let (cols, rows) = WIDE;
    let mut t = Tui::start(Options::new(&w.url, &token, cols, rows).config(QUIET));
    let s = t.until_live("Plain Bakery");
    let header = s.lines().next().unwrap();
    assert!(header.contains(&clean_line(user_name)), "{header:?}");
    assert!(header.contains("Eve␛ Agent"), "{header:?}");
    t.send("f");
    let s = t.until("the picker to list mallory-net", |s| {
        s.contains("Forward Plain Bakery") && s.contains("mallory-net")
    });
    assert!(s.contains("Mallory␛"), "{}", e2e::frame(&s));
    t.send("\x1b");
    t.until("the picker to close", |s| {
        !s.contains("Forward Plain Bakery")
    });

    let raw = t.whole_frames();
    for needle in [
        b"\x1b]".as_slice(),
        b"pwned",
        b"SGVsbG8=",
        b"\x07",
        "\u{202e}".as_bytes(),
    ] {
        assert!(
            !contains(&raw, needle),
            "the terminal received {:?}",
            String::from_utf8_lossy(needle)
        );
    }
    let seen = t.seen();
    assert!(
        seen.titles.is_empty() && seen.clipboard.is_empty(),
        "{seen:?}"
    );
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wide_and_combining_text_keeps_the_borders_aligned() {
    let w = World::start().await;
    w.clock.set(Utc::now() - chrono::Duration::hours(10));
    let long = "Long".repeat(50);
    let companies = [
        "寿司レストラン Tokyo",
        "🍣 Sushi Bar",
        "Cafe\u{301} Noir",
        "🇯🇵 Flag Co",
        "☎\u{fe0f} Phone Co",
        "Ｆｕｌｌｗｉｄｔｈ Corp",
        long.as_str(),
        "e\u{301}\u{301}\u{301}\u{301}zalgo",
        "Tab\there",
    ];
    for c in companies {
        w.send(&w.t.northwind, "acme-web", c, None).await;
        w.clock.advance(chrono::Duration::minutes(10));
    }
    assert_eq!(w.boxed(&w.t.acme, "incoming").await.len(), companies.len());
    for (cols, rows) in [SMALL, WIDE] {
        let mut t = Tui::spawn(&w.url, &w.t.acme, cols, rows);
        let s = t.until_live("Sushi Bar");
        assert!(s.contains("Tab␉here"), "{}", e2e::frame(&s));
        // Every row of the pane ends on its border, in the last column.
        let lines = t.lines();
        let bottom = lines
            .iter()
            .position(|l| l.starts_with('┗'))
            .expect("pane bottom");
        for row in 2..bottom {
            assert_eq!(
                t.last_cell(row as u16),
                "┃",
                "{cols}x{rows} row {row} overflows:\n{}",
                e2e::frame(&t.screen())
            );
        }
        assert_eq!(t.last_cell(bottom as u16), "┛");
        assert_eq!(t.quit().exit_code(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_restores_the_terminal() {
    let (w, _) = world_with(&["Alpha Bakery"]).await;
    for (key, name) in [("q", "q"), ("\x03", "Ctrl-C")] {
        let (cols, rows) = SMALL;
        let mut t = Tui::spawn(&w.url, &w.t.acme, cols, rows);
        t.until_live("Alpha Bakery");
        assert!(
            t.raw_mode(),
            "raw mode while running: {:?}",
            t.local_flags()
        );
        assert!(t.alternate_screen() && t.cursor_hidden());
        t.send(key);
        let status = t.wait_exit();
        assert!(status.success(), "{name}: {status:?}");
        assert_restored(&t, name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_and_sighup_restore_the_terminal() {
    let (w, _) = world_with(&["Alpha Bakery"]).await;
    for signal in ["TERM", "HUP"] {
        let (cols, rows) = WIDE;
        let mut t = Tui::spawn(&w.url, &w.t.acme, cols, rows);
        t.until_live("Alpha Bakery");
        assert!(t.raw_mode());
        let pid = t.pid().to_string();
        let ok = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill");
        assert!(ok.success());
        let status = t.wait_exit();
        assert!(status.success(), "SIG{signal}: {status:?}");
        assert_restored(&t, &format!("SIG{signal}"));
    }
}

/// The child left the terminal as it found it.
#[track_caller]
fn assert_restored(t: &Tui, how: &str) {
    let raw = t.raw_bytes();
    let tail = String::from_utf8_lossy(&raw[raw.len().saturating_sub(80)..]).into_owned();
    let enter = rfind(&raw, b"\x1b[?1049h").expect("entered the alternate screen");
    let leave = rfind(&raw, b"\x1b[?1049l")
        .unwrap_or_else(|| panic!("{how}: never left the alternate screen: {tail:?}"));
    assert!(leave > enter, "{how}: {tail:?}");
    let show =
        rfind(&raw, b"\x1b[?25h").unwrap_or_else(|| panic!("{how}: cursor never shown: {tail:?}"));
    assert!(show > leave, "{how}: cursor shown before leaving: {tail:?}");
    assert!(
        raw.ends_with(b"\x1b[?25h"),
        "{how}: output ends with {tail:?}"
    );
    // Nothing drawn after leaving: only private mode resets follow.
    assert!(
        only_mode_resets(&raw[leave..]),
        "{how}: drawn after leaving: {tail:?}"
    );
    assert!(
        !t.alternate_screen(),
        "{how}: still on the alternate screen"
    );
    assert!(!t.cursor_hidden(), "{how}: cursor still hidden");
    assert!(
        t.cooked_mode(),
        "{how}: tty left in raw mode: {:?}",
        t.local_flags()
    );
}

/// Whether `bytes` is nothing but `ESC [ ? n h` / `ESC [ ? n l` sequences.
fn only_mode_resets(mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        let Some(rest) = bytes.strip_prefix(b"\x1b[?") else {
            return false;
        };
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || !matches!(rest.get(digits), Some(b'h' | b'l')) {
            return false;
        }
        bytes = &rest[digits + 1..];
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_cannot_act_and_is_told_why() {
    let (w, ids) = world_with(&["Alpha Bakery"]).await;
    let (cols, rows) = SMALL;
    let mut t = Tui::spawn(&w.url, &w.t.acme_viewer, cols, rows);
    let s = t.until_live("Alpha Bakery");
    assert!(s.lines().next().unwrap().contains("Vic Viewer · viewer"));
    t.send("a");
    t.until("the status bar to say why", |s| {
        status_line(s).contains("viewers can read but not accept")
    });
    t.send("r");
    t.until("the status bar to say why", |s| {
        status_line(s).contains("viewers can read but not reject")
    });
    assert!(!t.screen().contains("Why?"), "the reject popup opened");
    let r = referral(&w, &w.t.acme, &ids[0]).await;
    assert_eq!(
        (r["status"].as_str(), r["version"].as_u64()),
        (Some("pending"), Some(1))
    );
    assert!(
        cursor_row(&t.screen()).unwrap().contains("pending"),
        "the row changed"
    );
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readonly_refuses_actions_and_says_why() {
    let (w, ids) = world_with(&["Alpha Bakery"]).await;
    let (cols, rows) = WIDE;
    let mut t = Tui::start(Options::new(&w.url, &w.t.acme, cols, rows).arg("--readonly"));
    let s = t.until_live("Alpha Bakery");
    assert!(s.lines().next().unwrap().contains("READ-ONLY"));
    t.send("a");
    t.until("the status bar to say why", |s| {
        status_line(s).contains("read-only mode (--readonly): cannot accept")
    });
    t.send("f");
    t.until("the status bar to say why", |s| {
        status_line(s).contains("read-only mode (--readonly): cannot forward")
    });
    assert!(
        !t.screen().contains("Forward Alpha"),
        "the forward popup opened"
    );
    let r = referral(&w, &w.t.acme, &ids[0]).await;
    assert_eq!(
        (r["status"].as_str(), r["version"].as_u64()),
        (Some("pending"), Some(1))
    );
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_config_exits_2_before_touching_the_terminal() {
    let w = World::start().await;
    let cases = [
        ("readonly = \"maybe\"\n", "readonly"),
        ("theme = \"no-such-theme\"\n", "theme"),
        ("[keys]\naccept = [\"ctrl-\"]\n", "keys.accept"),
        // Two commands on one key: found only when the keymap is built.
        ("[keys]\naccept = [\"j\"]\n", "keys.accept"),
        ("[server\nurl = 1\n", "config.toml"),
    ];
    for (toml, key) in cases {
        let (cols, rows) = SMALL;
        let mut t = Tui::start(Options::new(&w.url, &w.t.acme, cols, rows).config(toml));
        let status = t.wait_exit();
        let raw = t.raw_bytes();
        let out = String::from_utf8_lossy(&raw).into_owned();
        assert_eq!(
            status.exit_code(),
            2,
            "{toml:?}: {status:?}, output {out:?}"
        );
        let file = t.dir.path().join("config/leadx/config.toml");
        assert!(
            out.contains(&file.display().to_string()) && out.contains(key),
            "{toml:?}: the message names the file and the key: {out:?}"
        );
        assert!(
            !contains(&raw, b"\x1b[?1049h"),
            "{toml:?}: alternate screen entered"
        );
        assert!(
            !contains(&raw, b"\x1b["),
            "{toml:?}: escape sequences written: {out:?}"
        );
        assert!(t.cooked_mode(), "{toml:?}: tty mode changed");
    }
    // A token file others may read is refused, saying how to fix it.
    let token_dir = tempfile::tempdir().unwrap();
    let token_file = token_dir.path().join("token");
    std::fs::write(&token_file, &w.t.acme).unwrap();
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut t = Tui::start(
        Options::new(&w.url, "", 80, 24)
            .arg("--token-file")
            .arg(token_file.to_str().unwrap()),
    );
    let status = t.wait_exit();
    let out = String::from_utf8_lossy(&t.raw_bytes()).into_owned();
    assert_eq!(status.exit_code(), 2, "{out:?}");
    assert!(out.contains("chmod 600"), "{out:?}");
    assert!(!contains(&t.raw_bytes(), b"\x1b[?1049h"));
    // A plain-http URL to a public host is refused the same way.
    let mut t = Tui::spawn("http://leads.example.com", &w.t.acme, 80, 24);
    let status = t.wait_exit();
    let out = String::from_utf8_lossy(&t.raw_bytes()).into_owned();
    assert_eq!(status.exit_code(), 2, "{out:?}");
    assert!(out.contains("allow_plain_http"), "{out:?}");
    assert!(!contains(&t.raw_bytes(), b"\x1b[?1049h"));
}
