//! Reading a referral whole at 80x24: scrolling, full screen, the id, the
//! summary after a decision, a rejected lead's hidden contact.

use insta::assert_snapshot;

use super::test_support::*;
use crate::inbox::testkit::*;
use crate::inbox::update::update;
use crate::wire::{Reason, ReasonCode, Referral, Role, Status};

const LONG_NOTE: &str = "Their CTO wants a call this week about moving two shops and a \
    booking system; they run on an old VPS that went down twice during the holiday sale, \
    lost orders both times, and they need a fixed monthly price, a named contact, and a \
    migration plan before the spring collection launches. Budget approved. END-OF-NOTE";

/// A long-noted referral rejected by acme-web, first in the Incoming pane.
fn rejected_long() -> Referral {
    let mut r = referral(
        "r_01JDETAILLONGNOTE0000000000",
        "northwind-net",
        "acme-web",
        "Main Street Bakery and Cafe",
        1,
    );
    r.note = Some(LONG_NOTE.to_string());
    let mut r = decided(r, Status::Rejected, 2);
    r.reason = Some(Box::new(Reason {
        code: ReasonCode::UnableToSupport,
        note: Some("We do not host booking systems".into()),
    }));
    r
}

fn opened(w: u16, h: u16) -> crate::inbox::state::State {
    let mut refs = sample();
    refs.insert(0, rejected_long());
    let mut s = loaded_sized(Role::Agent, refs, w, h);
    update(&mut s, code(ratatui::crossterm::event::KeyCode::Enter));
    assert_eq!(current_id(&s), "r_01JDETAILLONGNOTE0000000000");
    s
}

#[test]
fn at_80x24_the_overview_keeps_the_id_and_the_summary_after_a_decision() {
    let s = opened(80, 24);
    let out = screen(&s);
    assert!(out.contains("r_01JDETAILLONGNOTE0000000000"), "{out}");
    assert!(out.contains("Managed hosting"), "summary kept: {out}");
    assert!(out.contains("J reads on"), "says there is more: {out}");
    assert!(
        out.contains("stays hidden: you did not accept"),
        "a rejected lead's contact: {out}"
    );
    assert_snapshot!("detail_overview_80x24", out);
}

#[test]
fn j_scrolls_the_whole_text_and_k_comes_back() {
    let mut s = opened(80, 24);
    assert!(!screen(&s).contains("END-OF-NOTE"));
    let mut seen = false;
    for _ in 0..12 {
        update(&mut s, key('J'));
        if screen(&s).contains("END-OF-NOTE") {
            seen = true;
            break;
        }
    }
    assert!(seen, "the note's end is reachable: {}", screen(&s));
    assert!(screen(&s).contains(" Detail "), "{}", screen(&s));
    assert!(screen(&s).contains("K up"));
    for _ in 0..20 {
        update(&mut s, key('K'));
    }
    assert_eq!(s.detail_scroll, 0);
    assert!(screen(&s).contains("J reads on"));
    // Another row starts at its overview.
    update(&mut s, key('J'));
    update(&mut s, key('j'));
    assert_eq!(s.detail_scroll, 0);
}

#[test]
fn z_shows_the_detail_over_the_whole_screen() {
    let mut s = opened(80, 24);
    update(&mut s, key('k'));
    update(&mut s, key('z'));
    assert!(s.detail_full);
    update(&mut s, key('J'));
    let out = screen(&s);
    assert!(out.contains("END-OF-NOTE"), "{out}");
    assert!(!out.contains("AGE  LEFT"), "the table is covered: {out}");
    assert_snapshot!("detail_full_80x24", out);
    update(&mut s, key('z'));
    assert!(!s.detail_full && s.show_detail);
    // From a hidden detail, z opens it full screen; Enter closes both.
    update(&mut s, code(ratatui::crossterm::event::KeyCode::Enter));
    update(&mut s, key('z'));
    assert!(s.detail_full && s.show_detail);
    update(&mut s, code(ratatui::crossterm::event::KeyCode::Enter));
    assert!(!s.detail_full && !s.show_detail);
}

#[test]
fn at_60x20_the_id_is_reachable() {
    let s = opened(60, 20);
    let out = screen(&s);
    assert!(out.contains("r_01JDETAILLONGNOTE0000000000"), "{out}");
    assert_snapshot!("detail_overview_60x20", out);
}
