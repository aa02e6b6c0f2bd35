//! Reducer tests of dispatch.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::test_support::*;
use crate::inbox::keymap::KeyMap;
use crate::inbox::msg::{Effect, Msg};
use crate::inbox::state::{Level, Pane, Popup, State};
use crate::inbox::testkit::*;
use crate::inbox::update::update;
use crate::wire::{ReferralBox, Role};

#[test]
fn navigation_keys_move_the_cursor_and_the_viewport() {
    let mut refs = Vec::new();
    for i in 0..100 {
        refs.push(referral(
            &format!("r_{i:03}"),
            "northwind-net",
            "acme-web",
            &format!("Co {i}"),
            i,
        ));
    }
    let mut s = loaded(Role::Agent, refs);
    assert_eq!(current_id(&s), "r_000", "newest first");
    update(&mut s, key('j'));
    update(&mut s, code(KeyCode::Down));
    assert_eq!(current_id(&s), "r_002");
    update(&mut s, key('k'));
    assert_eq!(current_id(&s), "r_001");
    update(&mut s, key('G'));
    assert_eq!(current_id(&s), "r_099");
    let page = s.page_rows(Pane::Incoming).unwrap();
    assert_eq!(s.pane(Pane::Incoming).offset, 100 - page);
    update(&mut s, key('g'));
    assert_eq!(s.pane(Pane::Incoming).cursor, 0);
    update(&mut s, code(KeyCode::PageDown));
    assert_eq!(s.pane(Pane::Incoming).cursor, page);
    update(&mut s, code(KeyCode::PageUp));
    assert_eq!(s.pane(Pane::Incoming).cursor, 0);
    update(&mut s, code(KeyCode::End));
    assert_eq!(s.pane(Pane::Incoming).cursor, 99);
    update(&mut s, code(KeyCode::Home));
    assert_eq!(s.pane(Pane::Incoming).cursor, 0);
}

#[test]
fn unbound_keys_change_nothing() {
    let mut s = loaded(Role::Agent, sample());
    s.dirty = false;
    let fx = update(&mut s, key('%'));
    assert!(fx.is_empty());
    assert!(!s.dirty);
}

#[test]
fn resize_keeps_the_cursor_and_clamps_the_viewport() {
    let mut refs = Vec::new();
    for i in 0..60 {
        refs.push(referral(
            &format!("r_{i:03}"),
            "northwind-net",
            "acme-web",
            "Co",
            i,
        ));
    }
    let mut s = loaded_sized(Role::Agent, refs, 120, 50);
    for _ in 0..40 {
        update(&mut s, key('j'));
    }
    assert_eq!(current_id(&s), "r_040");
    update(&mut s, Msg::Resize(80, 20));
    assert_eq!(current_id(&s), "r_040");
    let p = s.pane(Pane::Incoming);
    let page = s.page_rows(Pane::Incoming).unwrap();
    assert!(
        p.cursor >= p.offset && p.cursor < p.offset + page,
        "cursor on screen"
    );
    let offset = p.offset;
    update(&mut s, Msg::Resize(30, 10));
    assert_eq!(current_id(&s), "r_040", "too small keeps state");
    assert_eq!(s.page_rows(Pane::Incoming), None);
    update(&mut s, Msg::Resize(80, 20));
    assert_eq!(s.pane(Pane::Incoming).offset, offset, "and the viewport");
    update(&mut s, Msg::Resize(200, 50));
    assert_eq!(current_id(&s), "r_040");
}

#[test]
fn ticks_move_time_and_drive_the_timer() {
    let mut s = loaded(Role::Agent, sample());
    s.dirty = false;
    let later = t("2026-11-26T12:00:30Z");
    update(&mut s, Msg::Tick(later));
    assert_eq!(s.now, later);
    assert!(s.dirty);
    // The newest row is 5m30s old: its age changes at 6m.
    assert_eq!(s.next_wakeup(), Some(t("2026-11-26T12:01:00Z")));
    // Time never goes back.
    update(&mut s, Msg::Tick(t(NOW)));
    assert_eq!(s.now, later);
}

#[test]
fn nothing_visible_counting_down_means_no_timer() {
    let s = State::new("https://x", false, KeyMap::defaults(), "k", t(NOW));
    assert_eq!(s.next_wakeup(), None);
}

#[test]
fn q_in_the_help_overlay_closes_it_and_does_not_quit() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('?'));
    assert!(update(&mut s, key('q')).is_empty());
    assert!(s.popup.is_none());
    assert!(!s.quitting);
}

#[test]
fn quit_without_pending_actions_is_immediate() {
    let mut s = loaded(Role::Agent, sample());
    assert_eq!(update(&mut s, key('q')), vec![Effect::Quit]);
}

#[test]
fn panes_detail_help_and_command_keys() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(s.active, Pane::Outgoing);
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)),
    );
    assert_eq!(s.active, Pane::Incoming);
    update(&mut s, key('2'));
    assert_eq!(s.active, Pane::Outgoing);
    update(&mut s, key('1'));
    assert_eq!(s.active, Pane::Incoming);
    update(&mut s, code(KeyCode::Enter));
    assert!(s.show_detail);
    update(&mut s, code(KeyCode::Enter));
    assert!(!s.show_detail);
    update(&mut s, key('?'));
    assert!(matches!(s.popup, Some(Popup::Help { scroll: 0 })));
    update(&mut s, key('j'));
    assert!(matches!(s.popup, Some(Popup::Help { scroll: 1 })));
    update(&mut s, code(KeyCode::Esc));
    assert!(s.popup.is_none());
    update(&mut s, key(':'));
    assert!(s.cmdline.is_some(), ": opens the command line");
    assert_eq!(s.context(), crate::inbox::command::Context::CommandLine);
}

#[test]
fn remapped_keys_drive_the_reducer() {
    let mut keys = std::collections::BTreeMap::new();
    keys.insert("accept".to_string(), vec!["x".to_string()]);
    let mut s = loaded(Role::Agent, sample());
    s.keymap = KeyMap::from_config(&keys).unwrap();
    assert!(update(&mut s, key('a')).is_empty());
    assert_eq!(sent(&update(&mut s, key('x'))).1, "r_09");
}

#[test]
fn messages_go_away_by_themselves_and_the_timer_knows_when() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('R'));
    assert_eq!(status_text(&s), "reloading…");
    // The lists come back: the message says so instead of "reloading…".
    for box_ in [ReferralBox::Incoming, ReferralBox::Outgoing] {
        update(
            &mut s,
            Msg::Listed {
                box_,
                result: Ok((vec![], 200)),
            },
        );
    }
    assert_eq!(status_text(&s), "reloaded: 9 referrals");
    let until = s.status.as_ref().unwrap().until;
    assert_eq!(until, s.now + chrono::Duration::seconds(10));
    assert!(s.next_wakeup().is_some_and(|w| w <= until));
    update(&mut s, Msg::Tick(until - chrono::Duration::seconds(1)));
    assert!(s.status.is_some());
    update(&mut s, Msg::Tick(until));
    assert!(s.status.is_none());
    // Errors stay longer.
    update(&mut s, key('2'));
    update(&mut s, key('a'));
    let m = s.status.as_ref().unwrap();
    assert_eq!(m.level, Level::Error);
    assert_eq!(m.until, s.now + chrono::Duration::seconds(30));
}
