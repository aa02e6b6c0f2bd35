//! End to end, the terminal's own features (issue 9, items 18-20 and 24):
//! the real `leadx` in a pseudo-terminal against a real server. Ctrl-Z and
//! `fg` through a real job-control shell; mouse clicks as the SGR bytes a
//! terminal sends; the note editor as a script given in `$EDITOR`; the
//! title and alerts as the sequences the terminal receives.

mod common;
mod e2e;

use std::os::unix::fs::PermissionsExt;

use common::world_with;
use e2e::{Options, Tui, contains, cursor_row, status_line};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_z_gives_the_shell_back_and_fg_redraws_the_whole_screen() {
    let (w, _) = world_with(&["Alpha Bakery", "Bravo Dental"]).await;
    let mut t = Tui::start(Options::new(&w.url, &w.t.acme, 80, 24).in_shell());
    t.until_shows("shell$");
    t.send("\"$LEADX_BIN\"\r");
    t.until_live("Alpha Bakery");
    assert!(t.alternate_screen() && t.raw_mode());

    t.send("\x1a");
    let s = t.until("the shell to report the job stopped", |s| {
        s.contains("Stopped") && s.contains("shell$")
    });
    assert!(!t.alternate_screen(), "{}", e2e::frame(&s));
    assert!(t.cooked_mode(), "the shell has the terminal as it left it");
    assert!(!t.cursor_hidden());
    // Mouse reports were turned off for the shell.
    let raw = t.raw_bytes();
    assert!(contains(&raw, b"\x1b[?1000l"));

    let mark = t.raw_len();
    t.send("fg\r");
    t.until("the inbox to be back", |s| {
        s.contains("Alpha Bakery") && status_line(s).contains("● live")
    });
    assert!(t.alternate_screen() && t.raw_mode() && t.cursor_hidden());
    // Drawn whole again (nothing changed meanwhile: a diff would be empty).
    let after = t.whole_frames()[mark..].to_vec();
    assert!(contains(&after, b"Alpha Bakery") && contains(&after, b"Bravo Dental"));
    // Keys reach the inbox again.
    t.send("j");
    t.until("the cursor to move to Alpha Bakery", |s| {
        cursor_row(s).is_some_and(|r| r.contains("Alpha Bakery"))
    });
    t.send("q");
    t.until("the shell prompt after quitting", |s| {
        s.lines().last().is_some_and(|l| l.starts_with("shell$"))
    });
    assert!(!t.alternate_screen());
    t.send("exit\r");
    assert_eq!(t.wait_exit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicks_select_rows_the_wheel_scrolls_and_titles_switch_panes() {
    let (w, _) = world_with(&["Alpha Bakery", "Bravo Dental", "Charlie Cafe"]).await;
    w.send(&w.t.acme, "northwind-net", "Outbound Oak", None)
        .await;
    let mut t = Tui::spawn(&w.url, &w.t.acme, 80, 24);
    let s = t.until_live("Charlie Cafe");
    assert!(contains(&t.raw_bytes(), b"\x1b[?1000h\x1b[?1006h"));
    // Rows: the header, the pane's border, the column header, then
    // Charlie, Bravo, Alpha (screen rows 3, 4, 5; 1-based 4, 5, 6).
    assert!(s.lines().nth(5).unwrap().contains("Alpha Bakery"));
    t.send("\x1b[<0;10;6M\x1b[<0;10;6m");
    t.until("a click to select Alpha Bakery", |s| {
        cursor_row(s).is_some_and(|r| r.contains("Alpha Bakery"))
    });
    // The wheel up (64) three rows: back to the top.
    t.send("\x1b[<64;10;6M");
    t.until("the wheel to move to Charlie Cafe", |s| {
        cursor_row(s).is_some_and(|r| r.contains("Charlie Cafe"))
    });
    // The Outgoing pane's counts on the top border: a click switches.
    let top = t.lines()[1].clone();
    let col = top.find("Outgoing").expect("Outgoing on the border");
    let col = top[..col].chars().count() + 1;
    t.send(format!("\x1b[<0;{};2M\x1b[<0;{};2m", col + 1, col + 1));
    t.until("the Outgoing pane", |s| s.contains("Outbound Oak"));
    assert_eq!(t.quit().exit_code(), 0);
    assert!(contains(&t.raw_bytes(), b"\x1b[?1006l\x1b[?1000l"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_e_writes_the_note_in_the_editor() {
    let (w, ids) = world_with(&["Alpha Bakery", "Bravo Dental"]).await;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("editor.sh");
    let seen = dir.path().join("seen.txt");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncp \"$1\" '{}'\nprintf 'Written in the editor\\nsecond line\\n' > \"$1\"\n",
            seen.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = Options::new(&w.url, &w.t.acme, 80, 24)
        .env("EDITOR", script.to_str().unwrap())
        .env("VISUAL", "");
    let mut t = Tui::start(o);
    t.until_live("Bravo Dental");
    t.send("r");
    t.until_shows("Why?");
    t.send("3");
    t.until("the note step", |s| s.contains("Reason Duplicate"));
    t.send("draft");
    t.until_shows("draft");
    t.send("\x05");
    t.until_shows("Written in the editor second line");
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), "draft");
    assert!(t.alternate_screen() && t.raw_mode());
    t.send("\r");
    t.until("Bravo Dental rejected", |s| {
        cursor_row(s).is_some_and(|r| r.contains("rejected"))
    });
    let r: Value = w
        .get(&w.t.acme, &format!("/v1/referrals/{}", ids[1]))
        .await
        .ok();
    assert_eq!(r["reason"]["note"], "Written in the editor second line");
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_title_counts_pending_and_a_matching_new_lead_notifies() {
    let (w, _) = world_with(&["Alpha Bakery"]).await;
    let cfg = "[notify]\nalert = \"osc777\"\nquery = \"company:Big\"\n";
    let mut t = Tui::start(Options::new(&w.url, &w.t.acme, 80, 24).config(cfg));
    t.until_live("Alpha Bakery");
    until_title(&t, "leadx acme-web: 1 pending");
    w.send(&w.t.northwind, "acme-web", "Small Shop", None).await;
    t.until_shows("Small Shop");
    w.send(
        &w.t.northwind,
        "acme-web",
        "Big\u{7}Deal\u{1b}]2;pwned",
        None,
    )
    .await;
    t.until_shows("Big␇Deal");
    until_title(&t, "leadx acme-web: 3 pending");
    let raw = t.raw_bytes();
    // One notification, for the lead the query matches, its text made safe.
    assert_eq!(e2e::count(&raw, b"\x1b]777;notify;"), 1);
    assert!(contains(
        &raw,
        "\x1b]777;notify;leadx: new lead;Big␇Deal␛ from northwind-net".as_bytes()
    ));
    assert!(!contains(&raw, b"pwned"));
    assert_eq!(t.quit().exit_code(), 0);
    // The user's title comes back (XTWINOPS pop).
    assert!(contains(&t.raw_bytes(), b"\x1b[23;0t"));
}

#[track_caller]
fn until_title(t: &Tui, want: &str) {
    let start = std::time::Instant::now();
    loop {
        let titles: Vec<String> = t
            .seen()
            .titles
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect();
        if titles.iter().any(|x| x == want) {
            return;
        }
        assert!(
            start.elapsed() < e2e::TIMEOUT,
            "no title {want:?} among {titles:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
