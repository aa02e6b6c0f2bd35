//! Reducer tests of the undo window for single actions (issue 9, item 7):
//! `a`, `w`, and `r`/`f` after their popups, held through the batch's
//! window.

use ratatui::crossterm::event::KeyCode;

use super::test_support::*;
use crate::inbox::msg::Effect;
use crate::inbox::state::{Popup, State};
use crate::inbox::testkit::*;
use crate::inbox::update::batch;
use crate::inbox::update::update;
use crate::wire::{BatchAction, ReasonCode, Role};

fn windowed() -> State {
    let mut s = loaded(Role::Agent, sample());
    s.batch_settings.undo_single = true;
    s.batch_settings.undo_seconds = 5;
    s
}

fn sends(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Send { referral_id, .. } => Some(referral_id.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn accept_is_held_then_sent_alone_when_the_window_ends() {
    let mut s = windowed();
    let id = current_id(&s);
    let fx = update(&mut s, key('a'));
    assert!(fx.is_empty(), "nothing is sent during the window: {fx:?}");
    assert_eq!(batch::undo_left(&s), Some(5));
    assert_eq!(s.in_flight(), 1);
    assert!(screen(&s).contains("Accept Main Street Bakery in 5s — press u to undo"));
    assert!(tick(&mut s, 4).is_empty());
    let fx = tick(&mut s, 1);
    assert_eq!(sends(&fx), vec![id.clone()], "one action, its own endpoint");
    assert!(batches(&fx).is_empty(), "not a batch request");
    assert!(s.batch.is_none());
    assert!(s.entry(&id).unwrap().in_flight.is_some());
    assert_eq!(status_text(&s), "accepting Main Street Bakery…");
}

#[test]
fn u_cancels_a_held_action_and_nothing_is_ever_sent() {
    let mut s = windowed();
    update(&mut s, key('a'));
    tick(&mut s, 2);
    assert!(update(&mut s, key('u')).is_empty());
    assert_eq!(
        status_text(&s),
        "undone: accept of Main Street Bakery cancelled, nothing was sent"
    );
    assert!(s.batch.is_none());
    for _ in 0..10 {
        assert!(sends(&tick(&mut s, 1)).is_empty());
    }
    assert_eq!(s.in_flight(), 0);
}

#[test]
fn the_countdown_stands_still_while_a_popup_is_open() {
    let mut s = windowed();
    update(&mut s, key('a'));
    tick(&mut s, 2);
    assert_eq!(batch::undo_left(&s), Some(3));
    update(&mut s, key('?'));
    assert!(matches!(s.popup, Some(Popup::Help { .. })));
    for _ in 0..20 {
        assert!(tick(&mut s, 1).is_empty(), "paused under the help");
    }
    assert_eq!(batch::undo_left(&s), Some(3));
    update(&mut s, code(KeyCode::Esc));
    assert!(s.popup.is_none());
    assert!(tick(&mut s, 2).is_empty());
    assert_eq!(sends(&tick(&mut s, 1)).len(), 1);
}

#[test]
fn reject_after_its_popup_is_held_too() {
    let mut s = windowed();
    let id = current_id(&s);
    update(&mut s, key('r'));
    update(&mut s, key('2'));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(fx.is_empty(), "{fx:?}");
    assert!(s.popup.is_none());
    assert_eq!(batch::undo_left(&s), Some(5));
    let fx = tick(&mut s, 5);
    let (_, rid, req, _) = sent(&fx);
    assert_eq!(rid, id);
    let BatchAction::Reject(r) = req else {
        panic!("{req:?}")
    };
    assert_eq!(r.reason.code, ReasonCode::ALL[1]);
}

#[test]
fn a_second_action_sends_the_first_at_once_and_holds_itself() {
    let mut s = windowed();
    let first = current_id(&s);
    update(&mut s, key('a'));
    // The same row again: refused, not queued twice.
    assert!(update(&mut s, key('a')).is_empty());
    assert!(status_text(&s).starts_with("already held"));
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    let second = current_id(&s);
    assert_ne!(first, second);
    let fx = update(&mut s, key('a'));
    assert_eq!(sends(&fx), [first]);
    assert_eq!(batch::undo_left(&s), Some(5));
    assert_eq!(sends(&tick(&mut s, 5)), [second]);
}

#[test]
fn quitting_in_the_window_asks_and_drops_what_is_held() {
    let mut s = windowed();
    update(&mut s, key('a'));
    update(&mut s, key('q'));
    assert!(matches!(s.popup, Some(Popup::ConfirmQuit)));
    let out = screen(&s);
    assert!(out.contains("1 held in the undo window"), "{out}");
    assert!(out.contains("dropped, never sent"), "{out}");
    // Asking does not eat the window.
    assert!(tick(&mut s, 30).is_empty());
    let fx = update(&mut s, key('y'));
    assert_eq!(fx, vec![Effect::Quit]);
}

#[test]
fn off_in_the_config_sends_at_once() {
    let mut s = windowed();
    s.batch_settings.undo_single = false;
    let id = current_id(&s);
    assert_eq!(sends(&update(&mut s, key('a'))), [id]);
    assert!(s.batch.is_none());
}
