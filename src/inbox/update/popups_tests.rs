//! Reducer tests of popups.

use ratatui::crossterm::event::KeyCode;

use super::test_support::*;
use crate::inbox::keymap::KeyMap;
use crate::inbox::msg::{ActionOutcome, Effect, Msg};
use crate::inbox::state::{Pane, Popup, State};
use crate::inbox::testkit::*;
use crate::inbox::update::update;
use crate::wire::{BatchAction, CloseStatus, ReasonCode, ReferralBox, Role, Status};

#[test]
fn reject_picks_a_reason_then_a_note() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('r'));
    assert!(matches!(s.popup, Some(Popup::Reject(_))));
    update(&mut s, key('j'));
    update(&mut s, code(KeyCode::Down));
    update(&mut s, key('k'));
    update(&mut s, code(KeyCode::Enter));
    let Some(Popup::Reject(p)) = &s.popup else {
        panic!()
    };
    assert_eq!(p.reason(), ReasonCode::UnableToSupport);
    assert!(p.note.is_some());
    // Esc goes back to the reasons, then a number picks directly.
    update(&mut s, code(KeyCode::Esc));
    let Some(Popup::Reject(p)) = &s.popup else {
        panic!()
    };
    assert!(p.note.is_none());
    update(&mut s, key('5'));
    let Some(Popup::Reject(p)) = &s.popup else {
        panic!()
    };
    assert_eq!(p.reason(), ReasonCode::Other);
    // "other" needs a note.
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    let Some(Popup::Reject(p)) = &s.popup else {
        panic!()
    };
    assert!(p.error.is_some());
    type_str(&mut s, "not our area, jk");
    let Some(Popup::Reject(p)) = &s.popup else {
        panic!()
    };
    assert!(p.error.is_none(), "typing a note answers the complaint");
    let (_, id, req, _) = sent(&update(&mut s, code(KeyCode::Enter)));
    assert_eq!(id, "r_09");
    let BatchAction::Reject(r) = req else {
        panic!()
    };
    assert_eq!(r.version, 1);
    assert_eq!(r.reason.code, ReasonCode::Other);
    assert_eq!(
        r.reason.note.as_deref(),
        Some("not our area, jk"),
        "j and k are text in a note"
    );
    assert!(s.popup.is_none());
}

#[test]
fn reject_popup_esc_backs_out_entirely() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('r'));
    assert!(update(&mut s, code(KeyCode::Esc)).is_empty());
    assert!(s.popup.is_none());
    assert_eq!(s.in_flight(), 0);
}

#[test]
fn forward_narrows_the_directory_and_sends_to_the_pick() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('f'));
    let Some(Popup::Forward(p)) = &s.popup else {
        panic!()
    };
    let ids: Vec<&str> = p
        .matches
        .iter()
        .map(|&i| s.partners[i].id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["bluehost-co", "hostly", "pixel-forge"],
        "chain and me excluded"
    );
    type_str(&mut s, "HOST");
    let Some(Popup::Forward(p)) = &s.popup else {
        panic!()
    };
    assert_eq!(p.matches.len(), 2);
    update(&mut s, code(KeyCode::Down));
    update(&mut s, code(KeyCode::Enter));
    type_str(&mut s, "they do hosting");
    let (_, id, req, _) = sent(&update(&mut s, code(KeyCode::Enter)));
    assert_eq!(id, "r_09");
    let BatchAction::Forward(f) = req else {
        panic!()
    };
    assert_eq!(f.to_partner, "hostly");
    assert_eq!(f.note.as_deref(), Some("they do hosting"));
    // Region matches too.
    update(&mut s, key('j'));
    update(&mut s, key('f'));
    type_str(&mut s, "us-east");
    let Some(Popup::Forward(p)) = &s.popup else {
        panic!()
    };
    assert_eq!(p.id, "r_08");
    assert_eq!(
        p.matches
            .iter()
            .map(|&i| s.partners[i].id.as_str())
            .collect::<Vec<_>>(),
        ["hostly", "pixel-forge"]
    );
}

#[test]
fn forward_answer_adds_the_new_hop_to_outgoing() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('f'));
    update(&mut s, code(KeyCode::Enter));
    let (op, ..) = sent(&update(&mut s, code(KeyCode::Enter)));
    let closed = decided(
        referral("r_09", "northwind-net", "acme-web", "Main Street Bakery", 5),
        Status::Forwarded,
        2,
    );
    let child = referral("r_10", "acme-web", "bluehost-co", "Main Street Bakery", 0);
    update(
        &mut s,
        Msg::ActionDone {
            op,
            outcome: ActionOutcome::Applied(vec![closed, child]),
            at: t(NOW),
        },
    );
    assert_eq!(s.entry("r_09").unwrap().referral.status, Status::Forwarded);
    assert_eq!(s.pane(Pane::Outgoing).all.len(), 4);
    assert_eq!(
        status_text(&s),
        "forwarded Main Street Bakery to bluehost-co"
    );
}

#[test]
fn close_asks_won_or_lost_then_value_then_note() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('G'));
    update(&mut s, key('c'));
    update(&mut s, key('j'));
    update(&mut s, code(KeyCode::Enter));
    type_str(&mut s, "lots");
    update(&mut s, code(KeyCode::Enter));
    let Some(Popup::Close(p)) = &s.popup else {
        panic!()
    };
    assert!(p.error.is_some(), "a bad value is refused");
    for _ in 0..4 {
        update(&mut s, code(KeyCode::Backspace));
    }
    type_str(&mut s, "12.5k");
    update(&mut s, code(KeyCode::Enter));
    type_str(&mut s, "went elsewhere");
    let (_, id, req, _) = sent(&update(&mut s, code(KeyCode::Enter)));
    assert_eq!(id, "r_04");
    let BatchAction::Close(c) = req else { panic!() };
    assert_eq!(c.status, CloseStatus::Lost);
    assert_eq!(c.version, 2);
    let o = c.outcome.unwrap();
    assert_eq!(o.value_cents, Some(1_250_000));
    assert_eq!(o.note.as_deref(), Some("went elsewhere"));
}

#[test]
fn the_directory_arriving_fills_an_open_forward_picker() {
    let mut s = State::new("https://x", false, KeyMap::defaults(), "k", t(NOW));
    update(&mut s, Msg::Me(Ok(me("acme-web", Role::Agent))));
    update(
        &mut s,
        Msg::Listed {
            box_: ReferralBox::Incoming,
            result: Ok((sample(), 1)),
        },
    );
    update(
        &mut s,
        Msg::Listed {
            box_: ReferralBox::Outgoing,
            result: Ok((vec![], 1)),
        },
    );
    let fx = update(&mut s, key('f'));
    assert_eq!(
        fx,
        vec![Effect::LoadPartners],
        "asks for the directory it lacks"
    );
    let Some(Popup::Forward(p)) = &s.popup else {
        panic!()
    };
    assert!(p.matches.is_empty());
    update(&mut s, Msg::Partners(Ok(directory())));
    let Some(Popup::Forward(p)) = &s.popup else {
        panic!()
    };
    assert_eq!(p.matches.len(), 3);
}
