//! Reducer tests: one or more per message kind.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::keymap::KeyMap;
use super::msg::{ActionOutcome, Effect, FeedMsg, Msg};
use super::state::{Conn, Level, Pane, Popup, State};
use super::testkit::*;
use super::update::{init, update};
use crate::wire::BatchAction;
use crate::wire::{CloseStatus, ReasonCode, ReferralBox, Role, Status};

fn current_id(s: &State) -> String {
    s.current()
        .expect("a row under the cursor")
        .referral
        .id
        .clone()
}

fn status_text(s: &State) -> String {
    s.status
        .as_ref()
        .map(|m| m.text.clone())
        .unwrap_or_default()
}

fn sent(fx: &[Effect]) -> (u64, String, BatchAction, String) {
    match fx {
        [
            Effect::Send {
                op,
                referral_id,
                request,
                idempotency_key,
            },
        ] => (
            *op,
            referral_id.clone(),
            request.clone(),
            idempotency_key.clone(),
        ),
        other => panic!("expected one Send, got {other:?}"),
    }
}

#[test]
fn start_loads_me_and_partners_then_lists_then_watches() {
    let mut s = State::new("https://x", false, KeyMap::defaults(), "k", t(NOW));
    assert_eq!(init(&mut s), vec![Effect::LoadMe, Effect::LoadPartners]);
    let fx = update(&mut s, Msg::Me(Ok(me("acme-web", Role::Agent))));
    assert_eq!(
        fx,
        vec![
            Effect::List(ReferralBox::Incoming),
            Effect::List(ReferralBox::Outgoing)
        ]
    );
    let fx = update(
        &mut s,
        Msg::Listed {
            box_: ReferralBox::Outgoing,
            result: Ok((vec![], 7)),
        },
    );
    assert!(fx.is_empty(), "waits for both boxes: {fx:?}");
    let fx = update(
        &mut s,
        Msg::Listed {
            box_: ReferralBox::Incoming,
            result: Ok((vec![referral("r_1", "a-b", "acme-web", "X", 1)], 5)),
        },
    );
    assert_eq!(
        fx,
        vec![Effect::Watch { after: 5 }],
        "watches from the lowest as_of"
    );
    assert_eq!(s.pane(Pane::Incoming).all.len(), 1);
}

#[test]
fn pages_land_as_they_come_and_the_panes_are_built_once_at_the_end() {
    let mut s = State::new("https://x", false, KeyMap::defaults(), "k", t(NOW));
    update(&mut s, Msg::Me(Ok(me("acme-web", Role::Agent))));
    let page = |ids: &[&str]| -> Vec<_> {
        ids.iter()
            .map(|id| referral(id, "a-b", "acme-web", "X\x1b[2J", 1))
            .collect()
    };
    let fx = update(
        &mut s,
        Msg::ListPage {
            box_: ReferralBox::Incoming,
            items: page(&["r_1", "r_2"]),
        },
    );
    assert!(fx.is_empty());
    update(
        &mut s,
        Msg::ListPage {
            box_: ReferralBox::Incoming,
            items: page(&["r_2", "r_3"]),
        },
    );
    // Held (once each, sanitized) but not shown until the box is complete.
    assert_eq!(s.entries.len(), 3);
    assert!(
        !s.entry("r_3")
            .unwrap()
            .referral
            .lead
            .company
            .contains('\x1b')
    );
    assert!(s.pane(Pane::Incoming).all.is_empty());
    update(
        &mut s,
        Msg::Listed {
            box_: ReferralBox::Incoming,
            result: Ok((vec![], 5)),
        },
    );
    assert_eq!(s.pane(Pane::Incoming).all.len(), 3);
    // A page for a box no longer being listed (a stale task) is dropped.
    update(
        &mut s,
        Msg::ListPage {
            box_: ReferralBox::Incoming,
            items: page(&["r_9"]),
        },
    );
    assert!(s.entry("r_9").is_none());
}

#[test]
fn operators_list_all_in_one_pane() {
    let mut s = State::new("https://x", false, KeyMap::defaults(), "k", t(NOW));
    let fx = update(&mut s, Msg::Me(Ok(me("exchange", Role::Operator))));
    assert_eq!(fx, vec![Effect::List(ReferralBox::All)]);
    let s = loaded(Role::Operator, sample());
    assert_eq!(s.pane_count(), 1);
    assert_eq!(s.pane(Pane::Incoming).all.len(), 9);
    assert!(s.pane(Pane::Outgoing).all.is_empty());
}

#[test]
fn me_and_listed_errors_are_shown_and_network_text_is_sanitized() {
    let mut s = State::new("https://x", false, KeyMap::defaults(), "k", t(NOW));
    update(&mut s, Msg::Me(Err("boom\x1b[2J".to_string())));
    assert!(status_text(&s).starts_with("cannot load your account: boom"));
    assert!(!status_text(&s).contains('\x1b'));
    let mut evil = me("acme-web", Role::Agent);
    evil.user.name = "Sam\u{202e}evil\x07".to_string();
    update(&mut s, Msg::Me(Ok(evil)));
    let name = &s.me.as_ref().unwrap().user.name;
    assert!(
        !name.contains('\u{202e}') && !name.contains('\x07'),
        "{name:?}"
    );
    update(
        &mut s,
        Msg::Listed {
            box_: ReferralBox::Incoming,
            result: Err("403 forbidden".into()),
        },
    );
    assert_eq!(status_text(&s), "cannot list incoming: 403 forbidden");
    let mut r = referral("r_1", "a-b", "acme-web", "Evil\x1b]0;pwned\x07 Corp", 1);
    r.lead.summary = Some("line one\nline\x1b[31m two\u{200b}".into());
    update(
        &mut s,
        Msg::Listed {
            box_: ReferralBox::Outgoing,
            result: Ok((vec![], 1)),
        },
    );
    update(
        &mut s,
        Msg::Feed(FeedMsg::Event {
            seq: 2,
            referral: Box::new(r),
            at: t(NOW),
        }),
    );
    let e = s.entry("r_1").unwrap();
    assert!(
        !e.referral
            .lead
            .company
            .chars()
            .any(|c| c == '\x1b' || c == '\x07')
    );
    let summary = e.referral.lead.summary.as_deref().unwrap();
    assert!(summary.contains('\n'), "multi-line text keeps its breaks");
    assert!(!summary.contains('\x1b') && !summary.contains('\u{200b}'));
}

#[test]
fn partners_are_sanitized_and_sorted_and_errors_say_so() {
    let mut s = State::new("https://x", false, KeyMap::defaults(), "k", t(NOW));
    let mut d = directory();
    d[0].name = "North\x1b[5mwind".into();
    update(&mut s, Msg::Partners(Ok(d)));
    let ids: Vec<&str> = s.partners.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "acme-web",
            "bluehost-co",
            "hostly",
            "northwind-net",
            "pixel-forge"
        ]
    );
    assert!(!s.partners[3].name.contains('\x1b'));
    update(&mut s, Msg::Partners(Err("timeout".into())));
    assert_eq!(
        status_text(&s),
        "cannot load the partner directory: timeout"
    );
}

#[test]
fn load_retrying_says_so() {
    let mut s = State::new("https://x", false, KeyMap::defaults(), "k", t(NOW));
    s.dirty = false;
    let retrying = |error: &str| Msg::LoadRetrying {
        what: "incoming".into(),
        error: error.into(),
        retry_in_ms: 2000,
        at: t(NOW),
    };
    update(&mut s, retrying("connection refused"));
    assert_eq!(
        status_text(&s),
        "cannot load incoming: connection refused; retrying"
    );
    assert!(s.dirty);
    assert_eq!(
        super::views::status_bar::connection(&s),
        "◌ reconnecting in 2s"
    );
    // Once the feed is live, a failing reload does not say the connection dropped.
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, retrying("503"));
    assert!(matches!(s.conn, Conn::Live { .. }));
}

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
    let fx = update(&mut s, key('z'));
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
fn filter_narrows_as_you_type_enter_keeps_esc_clears() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('/'));
    type_str(&mut s, "BAK");
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 1);
    assert_eq!(current_id(&s), "r_09");
    update(&mut s, code(KeyCode::Enter));
    assert!(!s.filter_editing);
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 1, "kept");
    // Letters are commands again.
    update(&mut s, key('j'));
    assert_eq!(current_id(&s), "r_09");
    update(&mut s, key('/'));
    for _ in 0..3 {
        update(&mut s, code(KeyCode::Backspace));
    }
    type_str(&mut s, "accepted");
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 1, "matches status");
    assert_eq!(current_id(&s), "r_04");
    update(&mut s, code(KeyCode::Esc));
    assert!(s.filter_applied.is_empty());
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 6);
    assert_eq!(current_id(&s), "r_04", "the cursor stays on its referral");
    // Partner, category and region match too.
    for (q, n) in [
        ("pixel", 1),
        ("colocation", 1),
        ("eu-central", 1),
        ("us-west", 5),
    ] {
        update(&mut s, key('/'));
        type_str(&mut s, q);
        assert_eq!(s.pane(Pane::Incoming).rows.len(), n, "{q}");
        update(&mut s, code(KeyCode::Esc));
    }
}

#[test]
fn a_hidden_pane_keeps_its_viewport_while_rows_arrive() {
    let refs: Vec<_> = (0..60)
        .map(|i| {
            referral(
                &format!("r_{i:03}"),
                "northwind-net",
                "acme-web",
                "Co",
                10 + i,
            )
        })
        .collect();
    let mut s = loaded(Role::Agent, refs);
    for _ in 0..12 {
        update(&mut s, key('j'));
    }
    let (cursor, offset) = (s.pane(Pane::Incoming).cursor, s.pane(Pane::Incoming).offset);
    update(&mut s, key('2'));
    let fresh = referral("r_900", "bluehost-co", "acme-web", "New", 0);
    update(
        &mut s,
        Msg::Feed(FeedMsg::Event {
            seq: 9,
            referral: Box::new(fresh),
            at: t(NOW),
        }),
    );
    update(&mut s, key('1'));
    let p = s.pane(Pane::Incoming);
    assert_eq!(
        (p.cursor, p.offset),
        (cursor + 1, offset + 1),
        "same referral, same screen row"
    );
}

#[test]
fn a_new_lead_never_moves_the_cursor_or_its_screen_row() {
    let mut refs = Vec::new();
    for i in 0..50 {
        refs.push(referral(
            &format!("r_{:03}", 100 + i),
            "northwind-net",
            "acme-web",
            "Co",
            10 + i,
        ));
    }
    let mut s = loaded(Role::Agent, refs);
    for _ in 0..3 {
        update(&mut s, key('j'));
    }
    let id = current_id(&s);
    let screen_row = s.pane(Pane::Incoming).cursor - s.pane(Pane::Incoming).offset;
    let fresh = referral("r_200", "bluehost-co", "acme-web", "Brand New", 0);
    update(
        &mut s,
        Msg::Feed(FeedMsg::Event {
            seq: 200,
            referral: Box::new(fresh),
            at: t(NOW),
        }),
    );
    assert_eq!(current_id(&s), id);
    let p = s.pane(Pane::Incoming);
    assert_eq!(p.cursor - p.offset, screen_row);
    assert_eq!(p.new_count, 1);
    assert_eq!(p.all.len(), 51);
    assert_eq!(p.pending, 51);
    assert_eq!(s.last_seq, 200);
    assert!(s.entry("r_200").unwrap().fresh);
    // Moving without bringing it on screen leaves it counted...
    update(&mut s, key('k'));
    assert_eq!(s.pane(Pane::Incoming).new_count, 1);
    assert!(s.pane(Pane::Incoming).offset > 0);
    // ...scrolling to it is looking at it.
    update(&mut s, key('g'));
    assert_eq!(s.pane(Pane::Incoming).new_count, 0);
    assert!(s.unseen.is_empty());
}

#[test]
fn new_rows_count_until_they_are_on_screen_whichever_pane_is_active() {
    // 80x24: one pane at a time; a long outgoing list scrolled down.
    let mut refs = sample();
    for i in 0..40 {
        refs.push(referral(
            &format!("r_o{i:02}"),
            "acme-web",
            "northwind-net",
            "Co",
            10 + i,
        ));
    }
    let mut s = loaded(Role::Agent, refs);
    update(&mut s, key('2'));
    for _ in 0..30 {
        update(&mut s, key('j'));
    }
    update(&mut s, key('1'));
    let event = |s: &mut State, seq: u64, id: &str| {
        let r = referral(id, "acme-web", "pixel-forge", "Fresh", 0);
        update(
            s,
            Msg::Feed(FeedMsg::Event {
                seq,
                referral: Box::new(r),
                at: t(NOW),
            }),
        );
    };
    event(&mut s, 500, "r_new1");
    assert_eq!(s.pane(Pane::Outgoing).new_count, 1, "hidden pane");
    // Switching to the pane does not show a row above its viewport.
    update(&mut s, key('2'));
    assert_eq!(s.pane(Pane::Outgoing).new_count, 1);
    // A filter that hides it stops counting it; clearing it counts it again.
    update(&mut s, key('/'));
    type_str(&mut s, "northwind");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.pane(Pane::Outgoing).new_count, 0);
    update(&mut s, key('/'));
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.pane(Pane::Outgoing).new_count, 1);
    update(&mut s, key('g'));
    assert_eq!(s.pane(Pane::Outgoing).new_count, 0);
    // At the top of a long list the cursor's row keeps its screen row, so
    // the new one lands just above the view: counted until `k` shows it.
    event(&mut s, 501, "r_new2");
    assert_eq!(s.pane(Pane::Outgoing).new_count, 1);
    update(&mut s, key('k'));
    assert_eq!(s.pane(Pane::Outgoing).new_count, 0);
    assert_eq!(current_id(&s), "r_new2");
}

#[test]
fn a_new_row_that_lands_on_screen_is_seen_at_once_but_keeps_its_marker() {
    let mut s = loaded(Role::Agent, sample());
    let r = referral("r_new", "bluehost-co", "acme-web", "Fresh", 0);
    update(
        &mut s,
        Msg::Feed(FeedMsg::Event {
            seq: 500,
            referral: Box::new(r),
            at: t(NOW),
        }),
    );
    // The whole list fits: the row is drawn, so it is not counted...
    assert_eq!(s.pane(Pane::Incoming).new_count, 0);
    assert!(s.unseen.is_empty());
    // ...but it keeps its `•` until the cursor visits it.
    assert!(s.entry("r_new").unwrap().fresh);
}

#[test]
fn feed_events_apply_only_higher_versions() {
    let mut s = loaded(Role::Agent, sample());
    let newer = decided(
        referral("r_08", "bluehost-co", "acme-web", "Harbor Dental", 90),
        Status::Accepted,
        3,
    );
    update(
        &mut s,
        Msg::Feed(FeedMsg::Event {
            seq: 300,
            referral: Box::new(newer.clone()),
            at: t(NOW),
        }),
    );
    assert_eq!(s.entry("r_08").unwrap().referral.version, 3);
    let older = decided(
        referral("r_08", "bluehost-co", "acme-web", "Harbor Dental", 90),
        Status::Rejected,
        2,
    );
    update(
        &mut s,
        Msg::Feed(FeedMsg::Event {
            seq: 301,
            referral: Box::new(older),
            at: t(NOW),
        }),
    );
    assert_eq!(s.entry("r_08").unwrap().referral.status, Status::Accepted);
    assert_eq!(s.pane(Pane::Incoming).new_count, 0, "updates are not new");
    assert_eq!(s.last_event_at, Some(t(NOW)));
}

#[test]
fn connection_state_follows_the_feed() {
    let mut s = loaded(Role::Agent, sample());
    assert!(matches!(s.conn, Conn::Live { .. }));
    update(
        &mut s,
        Msg::Feed(FeedMsg::Disconnected {
            reason: "reset".into(),
            retry_in_ms: 3000,
            at: t(NOW),
        }),
    );
    let Conn::Reconnecting {
        since, retry_at, ..
    } = s.conn.clone()
    else {
        panic!()
    };
    assert_eq!(since, t(NOW));
    assert_eq!(retry_at, t("2026-11-26T12:00:03Z"));
    assert_eq!(
        super::views::status_bar::connection(&s),
        "◌ reconnecting in 3s"
    );
    assert_eq!(
        s.next_wakeup(),
        Some(t("2026-11-26T12:00:01Z")),
        "counts down each second"
    );
    // A second drop keeps the first time it went down.
    update(
        &mut s,
        Msg::Feed(FeedMsg::Disconnected {
            reason: "refused".into(),
            retry_in_ms: 10_000,
            at: t("2026-11-26T12:00:40Z"),
        }),
    );
    let Conn::Reconnecting { since, .. } = s.conn.clone() else {
        panic!()
    };
    assert_eq!(since, t(NOW));
    assert_eq!(
        super::views::status_bar::connection(&s),
        "✕ offline since 12:00 · retry in 10s"
    );
    update(
        &mut s,
        Msg::Feed(FeedMsg::Stale {
            at: t("2026-11-26T12:00:41Z"),
        }),
    );
    assert!(s.stale);
    update(
        &mut s,
        Msg::Feed(FeedMsg::Connected {
            at: t("2026-11-26T12:00:50Z"),
        }),
    );
    assert!(matches!(s.conn, Conn::Live { .. }));
    assert!(!s.stale);
}

#[test]
fn gone_lists_again_then_watches_from_the_new_as_of() {
    let mut s = loaded(Role::Agent, sample());
    let fx = update(&mut s, Msg::Feed(FeedMsg::Gone { at: t(NOW) }));
    assert_eq!(
        fx,
        vec![
            Effect::List(ReferralBox::Incoming),
            Effect::List(ReferralBox::Outgoing)
        ]
    );
    update(
        &mut s,
        Msg::Listed {
            box_: ReferralBox::Incoming,
            result: Ok((vec![], 900)),
        },
    );
    let fx = update(
        &mut s,
        Msg::Listed {
            box_: ReferralBox::Outgoing,
            result: Ok((vec![], 901)),
        },
    );
    assert_eq!(fx, vec![Effect::Watch { after: 900 }]);
    assert_eq!(s.pane(Pane::Incoming).all.len(), 6, "keeps what it had");
}

#[test]
fn reload_lists_again_without_restarting_the_feed() {
    let mut s = loaded(Role::Agent, sample());
    let fx = update(&mut s, key('R'));
    assert_eq!(
        fx,
        vec![
            Effect::List(ReferralBox::Incoming),
            Effect::List(ReferralBox::Outgoing)
        ]
    );
    assert!(update(&mut s, key('R')).is_empty(), "not twice at once");
    update(
        &mut s,
        Msg::Listed {
            box_: ReferralBox::Incoming,
            result: Ok((vec![], 900)),
        },
    );
    let fx = update(
        &mut s,
        Msg::Listed {
            box_: ReferralBox::Outgoing,
            result: Ok((vec![], 901)),
        },
    );
    assert!(fx.is_empty());
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
    assert_eq!(s.context(), super::command::Context::CommandLine);
}

#[test]
fn remapped_keys_drive_the_reducer() {
    let mut keys = std::collections::BTreeMap::new();
    keys.insert("accept".to_string(), vec!["y".to_string()]);
    let mut s = loaded(Role::Agent, sample());
    s.keymap = KeyMap::from_config(&keys).unwrap();
    assert!(update(&mut s, key('a')).is_empty());
    assert_eq!(sent(&update(&mut s, key('y'))).1, "r_09");
}

#[test]
fn filter_text_survives_many_updates_and_compaction() {
    let long = "x".repeat(3000);
    let mut refs = Vec::new();
    for i in 0..10 {
        let mut r = referral(
            &format!("r_{i:02}"),
            "northwind-net",
            "acme-web",
            &format!("Co{i}"),
            i,
        );
        r.lead.summary = Some(long.clone());
        refs.push(r);
    }
    let mut s = loaded(Role::Agent, refs.clone());
    let before = s.filter_text.len();
    for v in 2..80u64 {
        for r in &refs {
            let mut r = r.clone();
            r.version = v;
            r.lead.company = format!("{} v{v}", r.lead.company);
            update(
                &mut s,
                Msg::Feed(FeedMsg::Event {
                    seq: v,
                    referral: Box::new(r),
                    at: t(NOW),
                }),
            );
        }
    }
    assert!(
        s.filter_text.len() < before + (1 << 21),
        "compacted: {}",
        s.filter_text.len()
    );
    update(&mut s, key('/'));
    type_str(&mut s, "co3 v79");
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 1);
    assert_eq!(current_id(&s), "r_03");
    for _ in 0..7 {
        update(&mut s, code(KeyCode::Backspace));
    }
    type_str(&mut s, "v78");
    assert_eq!(
        s.pane(Pane::Incoming).rows.len(),
        0,
        "old text is not searched"
    );
}

#[test]
fn a_filter_query_narrows_as_typed_and_agrees_with_a_full_scan() {
    let refs: Vec<_> = (0..100)
        .map(|i| {
            referral(
                &format!("r_{i:03}"),
                "northwind-net",
                "acme-web",
                &format!("Shop {i}"),
                i,
            )
        })
        .collect();
    let mut s = loaded(Role::Agent, refs);
    update(&mut s, key('/'));
    type_str(&mut s, "company:\"shop 5");
    // An open quote does not parse: the last good filter stays applied.
    assert!(s.filter_error.is_some());
    type_str(&mut s, "\"");
    assert!(s.filter_error.is_none());
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 11);
    update(&mut s, code(KeyCode::Backspace));
    assert!(s.filter_error.is_some());
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 11);
    type_str(&mut s, "5\"");
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 1);
    assert_eq!(current_id(&s), "r_055");
    for _ in 0..2 {
        update(&mut s, code(KeyCode::Backspace));
    }
    type_str(&mut s, "\"");
    assert_eq!(
        s.pane(Pane::Incoming).rows.len(),
        11,
        "widening scans again"
    );
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

#[test]
fn filter_text_scan_matches_each_field_and_never_across_fields() {
    use super::state::{FilterText, bit};
    let mut a = referral("r_A1", "northwind-net", "acme-web", "Harbor Dental", 1);
    a.lead.summary = Some("Needs NEW Laptops".into());
    let b = referral("r_B2", "globex", "acme-web", "Zeta Bakery", 2);
    let mut ft = FilterText::default();
    ft.set(0, &a);
    ft.set(1, &b);
    let hits = |ft: &FilterText, needle: &str| -> Vec<bool> {
        let bits = ft.scan(needle);
        (0..2).map(|i| bit(&bits, i)).collect()
    };
    // A few-valued field (partner), a per-entry field (company, summary,
    // id), lower-cased.
    assert_eq!(hits(&ft, "northwind"), [true, false]);
    assert_eq!(hits(&ft, "acme-web"), [true, true]);
    assert_eq!(hits(&ft, "bakery"), [false, true]);
    assert_eq!(hits(&ft, "new laptops"), [true, false]);
    assert_eq!(hits(&ft, "r_b2"), [false, true]);
    assert!(ft.matches(0, "harbor") && !ft.matches(1, "harbor"));
    // No match spans two fields (company then partner).
    assert_eq!(hits(&ft, "dentalnorthwind"), [false, false]);
    // Re-indexing replaces the old text and the old tuple.
    let mut a2 = a.clone();
    a2.from_partner = "initech".into();
    a2.lead.company = "Quay Florist".into();
    ft.set(0, &a2);
    assert_eq!(hits(&ft, "northwind"), [false, false]);
    assert_eq!(hits(&ft, "harbor dental"), [false, false]);
    assert_eq!(hits(&ft, "initech"), [true, false]);
    assert_eq!(hits(&ft, "florist"), [true, false]);
}

#[test]
fn ids_are_found_after_many_inserts_and_unknown_ids_are_not() {
    let refs: Vec<_> = (0..300)
        .map(|i| referral(&format!("r_{i:03}"), "northwind-net", "acme-web", "Co", i))
        .collect();
    let s = loaded(Role::Agent, refs);
    for i in 0..300u32 {
        let id = format!("r_{i:03}");
        let at = s.index_of(&id).expect("indexed");
        assert_eq!(s.entries[at as usize].referral.id, id);
    }
    assert_eq!(s.by_id.len(), 300);
    assert!(s.index_of("r_300").is_none());
    assert!(s.entry("nope").is_none());
}

#[test]
fn repeated_values_are_held_once_and_entries_stay_small() {
    // Decoded from JSON, every referral carries its own copies.
    let fresh = |i: i64| {
        let r = referral(
            &format!("r_{i:03}"),
            &String::from("northwind-net"),
            "acme-web",
            "Co",
            i,
        );
        decided(r, Status::Accepted, 2)
    };
    let s = loaded(Role::Agent, (0..50).map(fresh).collect());
    let first = &s.entries[0].referral;
    assert_eq!(s.entries.len(), 50);
    for e in &s.entries[1..] {
        let r = &e.referral;
        assert!(r.from_partner.ptr_eq(&first.from_partner));
        assert!(r.lead.category.ptr_eq(&first.lead.category));
        assert!(r.lead.currency.ptr_eq(&first.lead.currency));
        let (a, b) = (r.lead.region.as_ref(), first.lead.region.as_ref());
        assert!(a.unwrap().ptr_eq(b.unwrap()));
        assert!(std::sync::Arc::ptr_eq(&r.chain, &first.chain));
        let (a, b) = (r.decided_by.as_ref(), first.decided_by.as_ref());
        assert!(std::sync::Arc::ptr_eq(a.unwrap(), b.unwrap()));
    }
    // The chain's names and the decider's partner are the same copies too.
    assert!(first.chain[0].ptr_eq(&first.from_partner));
    let by = first.decided_by.as_ref().unwrap();
    assert!(by.partner.ptr_eq(&first.to_partner));
    // northwind-net, acme-web, hosting, USD, US-West, u_dana, Dana.
    assert_eq!(s.interner.len(), (7, 1, 1));
    // An update interns too, and the values read the same.
    let mut s = s;
    let mut r = fresh(0);
    r.version = 3;
    r.lead.region = Some("EU-West".into());
    update(
        &mut s,
        Msg::Feed(FeedMsg::Event {
            seq: 500,
            referral: Box::new(r),
            at: t(NOW),
        }),
    );
    let e = s.entry("r_000").unwrap();
    assert_eq!(e.referral.lead.region.as_deref(), Some("EU-West"));
    assert_eq!(s.interner.len().0, 8);
    // The row the inbox keeps per referral stays compact (it was 640 bytes
    // with every repeated value an owned String).
    assert!(
        std::mem::size_of::<super::state::Entry>() <= 480,
        "{}",
        std::mem::size_of::<super::state::Entry>()
    );
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

#[test]
fn a_decision_on_another_day_says_the_date() {
    let s = loaded(Role::Agent, sample());
    let mut r = decided(sample()[0].clone(), Status::Accepted, 2);
    assert!(super::update::actions::describe_decision(&s, &r).ends_with("at 10:42"));
    r.decided_at = Some(t("2026-11-24T10:42:00Z"));
    let d = super::update::actions::describe_decision(&s, &r);
    assert!(d.ends_with("on 2026-11-24 10:42"), "{d}");
}
