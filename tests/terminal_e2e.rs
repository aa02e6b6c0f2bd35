//! End to end, terminal fidelity (issue 13): the real `leadx` binary in a
//! pseudo-terminal (the harness of `tests/e2e`) against a real server. What
//! the inbox writes when a key changes nothing, and `Ctrl-L`.

mod common;
mod e2e;

use chrono::Utc;
use common::World;
use e2e::{Tui, contains, cursor_row};

/// A world whose acme-web inbox holds `companies` sent by northwind-net,
/// each 10 minutes after the one before (so the last is on top).
async fn world_with(companies: &[&str]) -> World {
    let w = World::start().await;
    w.clock.set(Utc::now() - chrono::Duration::hours(3));
    for c in companies {
        w.send(&w.t.northwind, "acme-web", c, None).await;
        w.clock.advance(chrono::Duration::minutes(10));
    }
    w
}

/// `bytes` without the synchronized-output wrapper and cursor hiding:
/// what a frame writes to the screen itself.
fn screen_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for seq in [&b"\x1b[?2026h"[..], b"\x1b[?2026l", b"\x1b[?25l"] {
        while let Some(i) = out.windows(seq.len()).position(|w| w == seq) {
            out.drain(i..i + seq.len());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_changes_nothing_writes_nothing() {
    let w = world_with(&["Alpha Bakery", "Beta Books"]).await;
    let mut t = Tui::spawn(&w.url, &w.t.acme, 80, 24);
    t.until_live("Beta Books");
    t.until("the cursor on the top row", |s| {
        cursor_row(s).is_some_and(|r| r.contains("Beta Books"))
    });
    let before = t.whole_frames();
    // `k` on the top row moves nothing (the reducer still asks for a
    // frame); `j` then moves the cursor, so its frame marks the end.
    t.send("kkk");
    t.send("j");
    t.until("the cursor to move down", |s| {
        cursor_row(s).is_some_and(|r| r.contains("Alpha Bakery"))
    });
    let after = t.whole_frames();
    let written = &after[before.len()..];
    let frames = e2e::frames(written);
    assert!(!frames.is_empty(), "the j frame was written");
    for f in &frames {
        assert!(
            !screen_bytes(f).is_empty(),
            "an empty frame was written: {:?} (all: {:?})",
            String::from_utf8_lossy(f),
            String::from_utf8_lossy(written)
        );
    }
    // Nothing outside the frames either.
    let framed: usize = frames.iter().map(|f| f.len()).sum();
    assert_eq!(
        framed,
        written.len(),
        "{:?}",
        String::from_utf8_lossy(written)
    );
    assert_eq!(t.quit().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_l_clears_and_redraws_the_whole_screen() {
    let w = world_with(&["Alpha Bakery", "Beta Books"]).await;
    let mut t = Tui::spawn(&w.url, &w.t.acme, 200, 50);
    let shown = t.until_live("Beta Books");
    // The key is in the hint line (wide enough) and in `?` help.
    assert!(shown.lines().any(|l| l.contains("C-l redraw")), "{shown}");
    t.send("?");
    t.until_shows("Clear the screen and draw it all again");
    t.send("q");
    t.until("the help to close", |s| {
        !s.contains("Clear the screen and draw it all again") && s.contains("Beta Books")
    });
    let before = t.whole_frames();
    t.send("\x0c");
    let mut frame: Vec<u8> = Vec::new();
    for _ in 0..500 {
        let raw = t.whole_frames();
        if let Some(f) = e2e::frames(&raw[before.len()..]).first() {
            frame = f.to_vec();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!frame.is_empty(), "Ctrl-L wrote no frame");
    // One frame: the clear, then every row again (text already on screen
    // is written anew), and the screen is as it was.
    assert!(contains(&frame, b"\x1b[2J"), "the screen is cleared");
    for text in ["Acme Web Studio", "Alpha Bakery", "Beta Books", "● live"] {
        assert!(
            contains(&frame, text.as_bytes()),
            "{text:?} redrawn: {:?}",
            String::from_utf8_lossy(&frame)
        );
    }
    // Drawn whole: the frame alone, on a blank terminal, shows what the
    // whole session shows once it is written.
    let session = t.whole_frames();
    let at = session[before.len()..]
        .windows(frame.len())
        .position(|w| w == frame.as_slice())
        .expect("the frame is in the session");
    let end = before.len() + at + frame.len();
    let mut all = vt100::Parser::new(50, 200, 0);
    all.process(&session[..end]);
    let mut alone = vt100::Parser::new(50, 200, 0);
    alone.process(&frame);
    assert_eq!(
        e2e::frame(&alone.screen().contents()),
        e2e::frame(&all.screen().contents()),
        "the Ctrl-L frame redraws every cell"
    );
    assert_eq!(t.quit().exit_code(), 0);
}
