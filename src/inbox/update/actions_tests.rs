//! Reducer tests of actions.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::test_support::*;
use crate::inbox::msg::{ActionOutcome, Effect, Msg};
use crate::inbox::state::{Level, Pane, Popup};
use crate::inbox::testkit::*;
use crate::inbox::update::update;
use crate::wire::{BatchAction, Role, Status};

#[test]
fn accept_sends_with_a_fresh_key_and_applies_the_answer() {
    let mut s = loaded(Role::Agent, sample());
    assert_eq!(current_id(&s), "r_09");
    let (op, id, req, key1) = sent(&update(&mut s, key('a')));
    assert_eq!(id, "r_09");
    assert_eq!(
        req,
        BatchAction::Accept(crate::wire::AcceptRequest {
            version: 1,
            note: None
        })
    );
    assert_eq!(
        s.entry("r_09").unwrap().in_flight,
        Some(crate::wire::ActionKind::Accept)
    );
    assert_eq!(s.in_flight(), 1);
    // A second action on the same row waits.
    assert!(update(&mut s, key('a')).is_empty());
    assert!(status_text(&s).contains("still in flight"));
    // Another row gets another key.
    update(&mut s, key('j'));
    let (_, _, _, key2) = sent(&update(&mut s, key('a')));
    assert_ne!(key1, key2);
    assert!(key1.starts_with("key-"));
    let answer = decided(
        referral("r_09", "northwind-net", "acme-web", "Main Street Bakery", 5),
        Status::Accepted,
        2,
    );
    update(
        &mut s,
        Msg::ActionDone {
            op,
            outcome: ActionOutcome::Applied(vec![answer]),
            at: t(NOW),
        },
    );
    let e = s.entry("r_09").unwrap();
    assert_eq!(e.referral.status, Status::Accepted);
    assert_eq!(e.in_flight, None);
    assert_eq!(s.in_flight(), 1);
    assert_eq!(status_text(&s), "accepted Main Street Bakery");
    assert_eq!(s.status.as_ref().unwrap().level, Level::Success);
    assert_eq!(s.pane(Pane::Incoming).pending, 4);
}

#[test]
fn a_conflict_shows_who_decided_and_when_without_retrying() {
    let mut s = loaded(Role::Agent, sample());
    let (op, ..) = sent(&update(&mut s, key('a')));
    let current = decided(
        referral("r_09", "northwind-net", "acme-web", "Main Street Bakery", 5),
        Status::Rejected,
        2,
    );
    let fx = update(
        &mut s,
        Msg::ActionDone {
            op,
            outcome: ActionOutcome::Conflict {
                current: Some(Box::new(current)),
                message: "conflict".into(),
            },
            at: t(NOW),
        },
    );
    assert!(fx.is_empty(), "no automatic retry");
    assert_eq!(s.entry("r_09").unwrap().referral.status, Status::Rejected);
    assert_eq!(
        status_text(&s),
        "cannot accept Main Street Bakery: already rejected by Dana (acme-web) at 10:42"
    );
    assert_eq!(s.in_flight(), 0);
}

#[test]
fn other_definite_failures_are_reported() {
    let mut s = loaded(Role::Agent, sample());
    let (op, ..) = sent(&update(&mut s, key('a')));
    update(
        &mut s,
        Msg::ActionDone {
            op,
            outcome: ActionOutcome::Failed {
                message: "forbidden: \x1b[1mno".into(),
            },
            at: t(NOW),
        },
    );
    assert!(status_text(&s).starts_with("accept Main Street Bakery failed: forbidden: "));
    assert!(!status_text(&s).contains('\x1b'));
    assert_eq!(s.entry("r_09").unwrap().in_flight, None);
    // An answer for an unknown op is ignored.
    let before = status_text(&s);
    update(
        &mut s,
        Msg::ActionDone {
            op: 999,
            outcome: ActionOutcome::Failed {
                message: "x".into(),
            },
            at: t(NOW),
        },
    );
    assert_eq!(status_text(&s), before);
}

#[test]
fn retrying_counts_unsent_and_quitting_asks_first() {
    let mut s = loaded(Role::Agent, sample());
    let (op, ..) = sent(&update(&mut s, key('a')));
    update(
        &mut s,
        Msg::ActionRetrying {
            op,
            error: "connection refused".into(),
        },
    );
    assert_eq!(s.unsent(), 1);
    assert_eq!(
        status_text(&s),
        "1 action unsent, retrying: connection refused"
    );
    assert!(update(&mut s, key('q')).is_empty());
    assert!(matches!(s.popup, Some(Popup::ConfirmQuit)));
    update(&mut s, key('n'));
    assert!(s.popup.is_none());
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert!(matches!(s.popup, Some(Popup::ConfirmQuit)));
    assert_eq!(update(&mut s, key('y')), vec![Effect::Quit]);
    assert!(s.quitting);
    // Ctrl-C again at the question quits too.
    let mut s = loaded(Role::Agent, sample());
    sent(&update(&mut s, key('a')));
    let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(update(&mut s, ctrl_c.clone()).is_empty());
    assert_eq!(update(&mut s, ctrl_c), vec![Effect::Quit]);
}

#[test]
fn actions_that_may_not_be_taken_say_why_and_do_nothing() {
    let cases: Vec<(Role, bool, char, &str)> = vec![
        (Role::Viewer, false, 'a', "viewers can read but not accept"),
        (
            Role::Operator,
            false,
            'r',
            "operators can read but not reject",
        ),
        (
            Role::Agent,
            true,
            'f',
            "read-only mode (--readonly): cannot forward",
        ),
        (
            Role::Agent,
            false,
            'w',
            "cannot withdraw this referral: only its sender, northwind-net, can",
        ),
        (
            Role::Agent,
            false,
            'c',
            "cannot close: this referral is pending, only accepted ones can be",
        ),
    ];
    for (role, readonly, k, why) in cases {
        let mut s = loaded(role, sample());
        s.readonly = readonly;
        let fx = update(&mut s, key(k));
        assert!(fx.is_empty(), "{k}: {fx:?}");
        assert!(s.popup.is_none());
        assert_eq!(status_text(&s), why);
        assert_eq!(s.status.as_ref().unwrap().level, Level::Error);
    }
    // Wrong side: accepting an outgoing referral.
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('2'));
    assert!(update(&mut s, key('a')).is_empty());
    assert_eq!(
        status_text(&s),
        "cannot accept this referral: only its recipient, hostly, can"
    );
    // Wrong status: accepting an accepted one.
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('G'));
    assert_eq!(current_id(&s), "r_04");
    assert!(update(&mut s, key('a')).is_empty());
    assert_eq!(
        status_text(&s),
        "cannot accept: this referral is accepted, only pending ones can be"
    );
}

#[test]
fn withdraw_sends_for_a_pending_outgoing_referral() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('2'));
    assert_eq!(s.active, Pane::Outgoing);
    let (_, id, req, _) = sent(&update(&mut s, key('w')));
    assert_eq!(id, "r_03");
    assert_eq!(
        req,
        BatchAction::Withdraw(crate::wire::WithdrawRequest { version: 1 })
    );
}

#[test]
fn a_decision_on_another_day_says_the_date() {
    let s = loaded(Role::Agent, sample());
    let mut r = decided(sample()[0].clone(), Status::Accepted, 2);
    assert!(crate::inbox::update::actions::describe_decision(&s, &r).ends_with("at 10:42"));
    r.decided_at = Some(t("2026-11-24T10:42:00Z"));
    let d = crate::inbox::update::actions::describe_decision(&s, &r);
    assert!(d.ends_with("on 2026-11-24 10:42"), "{d}");
}
