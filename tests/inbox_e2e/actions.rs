//! Acting on the row under the cursor with keys: accept, reject with a
//! reason and a note, forward to a partner picked by typing, withdraw,
//! close as won, and acting on a row found by filtering as you type.

use super::*;

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
