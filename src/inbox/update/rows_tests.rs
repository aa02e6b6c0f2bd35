//! Reducer tests of rows.

use ratatui::crossterm::event::KeyCode;

use super::test_support::*;
use crate::inbox::msg::{FeedMsg, Msg};
use crate::inbox::state::{Pane, State};
use crate::inbox::testkit::*;
use crate::inbox::update::update;
use crate::wire::{Role, Status};

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
        std::mem::size_of::<crate::inbox::state::Entry>() <= 480,
        "{}",
        std::mem::size_of::<crate::inbox::state::Entry>()
    );
}
