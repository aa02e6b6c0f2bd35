//! Who may not act: a viewer, and anyone in `--readonly` mode, is refused
//! and told why.

use super::*;

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
