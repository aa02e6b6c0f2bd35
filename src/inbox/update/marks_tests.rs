//! Reducer tests of marks.

use ratatui::crossterm::event::KeyCode;

use super::test_support::*;
use crate::inbox::msg::{FeedMsg, Msg};
use crate::inbox::state::Pane;
use crate::inbox::testkit::*;
use crate::inbox::update::{marks, update};
use crate::wire::{Role, Status};

#[test]
fn space_toggles_and_moves_down_and_esc_clears() {
    let mut s = loaded(Role::Agent, sample());
    assert_eq!(current_id(&s), "r_09");
    update(&mut s, key(' '));
    assert_eq!(marked(&s), ["r_09"]);
    assert_eq!(current_id(&s), "r_08", "space moves down");
    update(&mut s, key(' '));
    assert_eq!(marked(&s), ["r_08", "r_09"]);
    update(&mut s, key('k'));
    update(&mut s, key(' '));
    assert_eq!(marked(&s), ["r_09"], "space on a marked row unmarks it");
    update(&mut s, code(KeyCode::Esc));
    assert!(s.marks.is_empty());
}

#[test]
fn v_marks_a_range_that_follows_the_cursor() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('j'));
    update(&mut s, key('v'));
    assert_eq!(marked(&s), ["r_08"]);
    update(&mut s, key('j'));
    update(&mut s, key('j'));
    assert_eq!(marked(&s).len(), 3);
    update(&mut s, key('k'));
    assert_eq!(marked(&s).len(), 2, "moving back shrinks the range");
    update(&mut s, key('k'));
    update(&mut s, key('k'));
    assert_eq!(marked(&s), ["r_08", "r_09"], "a range extends upwards too");
    update(&mut s, key('v'));
    assert!(s.range.is_none());
    update(&mut s, key('G'));
    assert_eq!(
        marked(&s),
        ["r_08", "r_09"],
        "after v the cursor moves freely"
    );
}

#[test]
fn star_marks_what_the_filter_shows_and_bang_inverts_within_it() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('/'));
    type_str(&mut s, "from:northwind");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 3);
    update(&mut s, key('*'));
    assert_eq!(marked(&s), ["r_04", "r_07", "r_09"]);
    update(&mut s, key(' '));
    assert_eq!(marked(&s), ["r_04", "r_07"]);
    update(&mut s, key('!'));
    assert_eq!(marked(&s), ["r_09"], "! inverts among the shown rows only");
    // Rows outside the filter keep their marks through an invert.
    update(&mut s, key('/'));
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key('/'));
    type_str(&mut s, "harbor");
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, key('*'));
    update(&mut s, key('/'));
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key('/'));
    type_str(&mut s, "from:northwind");
    update(&mut s, code(KeyCode::Enter));
    update(&mut s, key('!'));
    assert_eq!(marked(&s), ["r_04", "r_07", "r_08"]);
}

#[test]
fn marks_survive_updates_reloads_and_filters_and_count_hidden_ones() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('*'));
    assert_eq!(s.marks.len(), 6);
    assert_eq!(marks::marks_words(&s).as_deref(), Some("6 selected"));
    // A live update of a marked referral keeps it marked.
    let r = sample().into_iter().find(|r| r.id == "r_08").expect("r_08");
    update(
        &mut s,
        Msg::Feed(FeedMsg::Event {
            seq: 200,
            referral: Box::new(decided(r, Status::Accepted, 2)),
            at: t(NOW),
        }),
    );
    assert!(s.is_marked("r_08"));
    // A reload keeps them.
    update(&mut s, key('R'));
    update(
        &mut s,
        Msg::Listed {
            box_: crate::wire::ReferralBox::Incoming,
            result: Ok((
                sample()
                    .into_iter()
                    .filter(|r| r.to_partner == "acme-web")
                    .collect(),
                300,
            )),
        },
    );
    assert_eq!(s.marks.len(), 6);
    // A filter hides three of them: they stay marked, counted as hidden.
    update(&mut s, key('/'));
    type_str(&mut s, "from:northwind");
    assert_eq!(s.marks.len(), 6);
    assert_eq!(s.hidden_marks(), 3);
    assert_eq!(
        marks::marks_words(&s).as_deref(),
        Some("6 selected (3 hidden)")
    );
    update(&mut s, code(KeyCode::Enter));
    assert!(screen(&s).contains("6 selected (3 hidden)"));
    // The other pane's rows count as hidden too.
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, key('2'));
    update(&mut s, key(' '));
    update(&mut s, key('1'));
    assert_eq!(s.hidden_marks(), 1);
}

#[test]
fn marked_rows_show_a_glyph_in_monochrome() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key(' '));
    let out = screen(&s);
    let line = out
        .lines()
        .find(|l| l.contains("Main Street Ba"))
        .unwrap_or_else(|| panic!("row drawn: {out}"));
    assert!(line.contains('✓'), "{line}");
}
