//! End to end, a new lead from the inbox (issue 9, item 21): the real
//! `leadx` binary in a pseudo-terminal against a real server. `n` opens
//! the form, the partner is picked by prefix, a mistyped value is caught
//! before sending, Enter on the last field sends, and the server holds
//! the lead with the value typed. A second lead for the same domain is
//! refused by the server and the refusal shows in the form, the draft
//! kept.

mod common;
mod e2e;

use common::World;
use e2e::{Options, Tui, status_line};

/// Moves from the focused field to the next `n` times.
fn tabs(t: &mut Tui, n: usize) {
    for _ in 0..n {
        t.send("\t");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_sends_a_lead_the_server_keeps_and_shows_its_refusal_in_the_form() {
    let w = World::start().await;
    let mut t = Tui::start(Options::new(&w.url, &w.t.acme, 80, 24));
    t.until_live("");
    t.send("n");
    t.until_shows("New lead");
    // To: a prefix, then Down picks the first partner it matches.
    t.send("north");
    t.send("\x1b[B");
    t.until_shows("northwind-net");
    tabs(&mut t, 1);
    t.send("Globex Pty");
    tabs(&mut t, 1);
    t.send("hosting");
    tabs(&mut t, 1);
    t.send("globex.example");
    tabs(&mut t, 2);
    t.send("hank@globex.example");
    tabs(&mut t, 3);
    // Value: a comma that is not a thousands separator is refused.
    t.send("12,5k");
    tabs(&mut t, 5);
    t.send("\r");
    t.until_shows("12,5k");
    t.until("the value's error", |s| s.contains("✕ \"12,5k\""));
    // Fixed in place, then Enter on the last field sends it.
    for _ in 0..5 {
        t.send("\x7f");
    }
    t.send("12,500");
    tabs(&mut t, 5);
    t.send("48\r");
    let screen = t.until("the lead to be sent", |s| {
        status_line(s).contains("sent Globex Pty")
    });
    let line = status_line(&screen);
    let rid = line
        .split_whitespace()
        .find(|w| w.starts_with("r_"))
        .unwrap_or_else(|| panic!("no id in {line:?}"))
        .to_string();
    let r = w.get(&w.t.acme, &format!("/v1/referrals/{rid}")).await.ok();
    assert_eq!(r["to_partner"], "northwind-net", "{r}");
    assert_eq!(r["from_partner"], "acme-web", "{r}");
    assert_eq!(r["lead"]["company"], "Globex Pty", "{r}");
    assert_eq!(r["lead"]["category"], "hosting", "{r}");
    assert_eq!(r["lead"]["est_value_cents"], 1_250_000, "{r}");
    assert_eq!(r["status"], "pending", "{r}");
    let out = w.boxed(&w.t.acme, "outgoing").await;
    assert_eq!(out.len(), 1, "sent once: {out:?}");

    // The same domain again: the server refuses (an open lead exists) and
    // the form keeps what was typed.
    t.send("n");
    t.until("an empty form", |s| {
        s.contains("New lead") && !s.contains("Globex")
    });
    t.send("northwind-net\tInitech\thosting\tglobex.example");
    t.send("\x13");
    t.until("the refusal in the form", |s| {
        s.contains("New lead") && s.contains("already open")
    });
    let screen = t.screen();
    assert!(screen.contains("Initech"), "{screen}");
    assert_eq!(w.boxed(&w.t.acme, "outgoing").await.len(), 1);
    // One Esc only asks (a stray Esc loses no draft); a second discards.
    t.send("\x1b");
    t.until("the discard question", |s| {
        s.contains("Esc again discards this draft") && s.contains("Initech")
    });
    t.send("\x1b");
    t.until("the draft discarded", |s| {
        status_line(s).contains("draft discarded")
    });
    t.send("q");
    assert_eq!(t.wait_exit().exit_code(), 0);
}
