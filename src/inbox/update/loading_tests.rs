//! Reducer tests of loading.

use super::test_support::*;
use crate::inbox::keymap::KeyMap;
use crate::inbox::msg::{Effect, FeedMsg, Msg};
use crate::inbox::state::{Conn, Pane, State};
use crate::inbox::testkit::*;
use crate::inbox::update::{init, update};
use crate::wire::{ReferralBox, Role};

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
        crate::inbox::views::status_bar::connection(&s),
        "◌ reconnecting in 2s"
    );
    // Once the feed is live, a failing reload does not say the connection dropped.
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, retrying("503"));
    assert!(matches!(s.conn, Conn::Live { .. }));
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

/// Issue 9, item 10: the first load that fails names the URL tried, where
/// it came from and what to change; a refused token names its source and
/// whom to ask. Once something loaded, the plain words come back.
#[test]
fn the_first_failed_load_names_the_url_its_origin_and_the_fix() {
    let mut s = State::new("http://127.0.0.1:1", false, KeyMap::defaults(), "k", t(NOW));
    s.origins = crate::config::Origins {
        url: "http://127.0.0.1:1".into(),
        url_origin: "--server".into(),
        token_origin: "environment variable LEADX_SERVER__TOKEN".into(),
    };
    update(
        &mut s,
        Msg::LoadRetrying {
            what: "your account".into(),
            error: "server unreachable: connection refused".into(),
            retry_in_ms: 1000,
            at: t(NOW),
        },
    );
    assert_eq!(
        status_text(&s),
        "cannot reach the server at http://127.0.0.1:1 (from --server): server unreachable: \
         connection refused; check that the host and port are right and the server runs, or \
         change --server; retrying"
    );
    update(
        &mut s,
        Msg::Me(Err("unauthenticated: unknown token".into())),
    );
    let text = status_text(&s);
    assert!(
        text.contains("refused the token from environment variable LEADX_SERVER__TOKEN"),
        "{text}"
    );
    assert!(
        text.ends_with("ask your exchange's admin for a new token"),
        "{text}"
    );
    // Without origins (an SSH session), the plain words.
    let mut s = State::new("https://x", false, KeyMap::defaults(), "k", t(NOW));
    update(&mut s, Msg::Me(Err("server unreachable: timed out".into())));
    assert_eq!(
        status_text(&s),
        "cannot load your account: server unreachable: timed out"
    );
}
