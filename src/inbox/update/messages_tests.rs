//! Reducer and screen tests of the message log and long status messages.

use insta::assert_snapshot;

use super::test_support::*;
use crate::inbox::msg::Msg;
use crate::inbox::state::{Level, MESSAGE_LOG_MAX, Popup};
use crate::inbox::testkit::*;
use crate::inbox::update::shared::say;
use crate::inbox::update::update;
use crate::wire::Role;

const LONG: &str = "cannot write /home/dana/reports/2026/december/pending-referrals-for-review.json: No such file or directory (os error 2)";

#[test]
fn a_long_message_wraps_under_the_status_line_at_80x24_and_60x20() {
    for (w, h) in [(80, 24), (60, 20)] {
        let mut s = loaded_sized(Role::Agent, sample(), w, h);
        update(&mut s, Msg::Exported(Err(LONG.to_string())));
        let out = screen(&s);
        // Every word of the message is on screen: nothing cut before the cause.
        assert!(out.contains("(os error 2)"), "{out}");
        assert!(out.contains("pending-referrals"), "{out}");
        assert_snapshot!(format!("long_message_{w}x{h}"), out);
        // The message gone, the panes get their rows back.
        tick(&mut s, 31);
        assert!(s.status.is_none());
        assert!(!screen(&s).contains("os error"));
    }
}

#[test]
fn a_short_message_stays_on_the_one_status_line() {
    let mut s = loaded_sized(Role::Agent, sample(), 80, 24);
    let before = crate::inbox::layout::layout(&s);
    say(&mut s, Level::Info, "reloading…".into());
    let after = crate::inbox::layout::layout(&s);
    assert_eq!(before, after);
    assert_eq!(after.status.height, 1);
    say(&mut s, Level::Error, LONG.into());
    let long = crate::inbox::layout::layout(&s);
    // Rows of its own under the line (three at 80 columns), the panes
    // giving up as many.
    assert_eq!(long.status.height, 4, "{long:?}");
    assert_eq!(
        long.panes[0].1.height + 3,
        before.panes[0].1.height,
        "{long:?}"
    );
    assert_eq!(long.status.bottom(), long.hints.y);
}

#[test]
fn messages_key_and_command_show_the_whole_log_newest_first() {
    let mut s = loaded_sized(Role::Agent, sample(), 80, 24);
    say(&mut s, Level::Info, "first".into());
    tick(&mut s, 1);
    say(&mut s, Level::Error, LONG.into());
    tick(&mut s, 1);
    say(&mut s, Level::Success, "third".into());
    update(&mut s, key('M'));
    assert!(matches!(s.popup, Some(Popup::Messages { scroll: 0 })));
    let out = screen(&s);
    let third = out.find("third").expect("newest shown");
    let long = out.find("(os error 2)").expect("the long one whole");
    let first = out.find("· first").expect("oldest shown");
    assert!(third < long && long < first, "{out}");
    assert_snapshot!("messages_log_80x24", out);
    // Scrolls by message; Esc closes.
    update(&mut s, key('j'));
    assert!(matches!(s.popup, Some(Popup::Messages { scroll: 1 })));
    update(&mut s, code(ratatui::crossterm::event::KeyCode::Esc));
    assert!(s.popup.is_none());
    // The same from the : line.
    run(&mut s, "messages");
    assert!(matches!(s.popup, Some(Popup::Messages { .. })));
    update(&mut s, key('M'));
    assert!(s.popup.is_none());
}

#[test]
fn the_log_keeps_a_repeat_once_and_drops_the_oldest_past_its_limit() {
    let mut s = loaded(Role::Agent, sample());
    let base = s.messages.len();
    say(&mut s, Level::Info, "same".into());
    say(&mut s, Level::Info, "same".into());
    assert_eq!(s.messages.len(), base + 1);
    for i in 0..MESSAGE_LOG_MAX + 5 {
        say(&mut s, Level::Info, format!("m{i}"));
    }
    assert_eq!(s.messages.len(), MESSAGE_LOG_MAX);
    assert_eq!(
        s.messages.last().unwrap().text,
        format!("m{}", MESSAGE_LOG_MAX + 4)
    );
    assert_eq!(s.messages[0].text, "m5");
}

#[test]
fn a_stale_message_clears_on_the_next_action() {
    let mut s = loaded(Role::Agent, sample());
    say(&mut s, Level::Error, "you cannot do that".into());
    update(&mut s, key('j'));
    assert!(s.status.is_none(), "moving on makes it stale");
    assert_eq!(s.messages.last().unwrap().text, "you cannot do that");
    // Opening the log or the help does not clear it.
    say(&mut s, Level::Error, "again".into());
    update(&mut s, key('M'));
    assert_eq!(status_text(&s), "again");
}
