//! Reducer tests of sort.

use ratatui::crossterm::event::KeyCode;

use super::test_support::*;
use crate::inbox::msg::{FeedMsg, Msg};
use crate::inbox::state::Pane;
use crate::inbox::testkit::*;
use crate::inbox::update::{sort, update};
use crate::wire::{Role, Status};

#[test]
fn s_cycles_the_sort_and_capital_s_reverses_it() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('s'));
    assert_eq!(sort::sort_words(&s), "age ↑");
    update(&mut s, key('s'));
    assert_eq!(sort::sort_words(&s), "expires ↑");
    let ids: Vec<String> = s
        .pane(Pane::Incoming)
        .rows
        .iter()
        .map(|&i| s.entries[i as usize].referral.id.clone())
        .collect();
    assert_eq!(ids[0], "r_06", "the one expiring first leads: {ids:?}");
    update(&mut s, key('S'));
    assert_eq!(sort::sort_words(&s), "expires ↓");
    let first = s.pane(Pane::Incoming).rows[0];
    assert_ne!(s.entries[first as usize].referral.id, "r_06");
    // The cursor stays on its referral.
    let before = current_id(&s);
    update(&mut s, key('s'));
    assert_eq!(current_id(&s), before);
}

#[test]
fn sort_in_a_query_sets_the_sort_and_live_rows_land_in_order() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('/'));
    type_str(&mut s, "sort:-value");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(sort::sort_words(&s), "value ↓");
    let mut big = referral("r_99", "hostly", "acme-web", "Big Co", 1);
    big.lead.est_value_cents = Some(900_000_000);
    update(
        &mut s,
        Msg::Feed(FeedMsg::Event {
            seq: 500,
            referral: Box::new(big),
            at: t(NOW),
        }),
    );
    let first = s.pane(Pane::Incoming).rows[0];
    assert_eq!(s.entries[first as usize].referral.id, "r_99");
}

#[test]
fn sorted_by_a_column_an_update_changes_the_row_moves_once() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('/'));
    type_str(&mut s, "sort:status");
    update(&mut s, code(KeyCode::Enter));
    let r = sample().into_iter().find(|r| r.id == "r_05").expect("r_05");
    for (seq, status) in [(701, Status::Accepted), (702, Status::Rejected)] {
        let version = if status == Status::Accepted { 2 } else { 3 };
        update(
            &mut s,
            Msg::Feed(FeedMsg::Event {
                seq,
                referral: Box::new(decided(r.clone(), status, version)),
                at: t(NOW),
            }),
        );
        for v in [&s.pane(Pane::Incoming).all, &s.pane(Pane::Incoming).rows] {
            assert_eq!(v.len(), 6, "no duplicate, none lost");
            let sorted = v.windows(2).all(|w| s.order(w[0], w[1]).is_lt());
            assert!(sorted, "still in order after {status:?}");
        }
    }
}
