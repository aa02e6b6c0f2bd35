//! Reducer tests of saved_views.

use super::test_support::*;
use crate::inbox::state::Pane;
use crate::inbox::testkit::*;
use crate::inbox::update::update;
use crate::wire::Role;

#[test]
fn saved_views_cycle_as_tabs() {
    let mut s = loaded(Role::Agent, sample());
    s.views = vec![
        ("eu".into(), "region:eu".into()),
        ("north".into(), "from:northwind status:pending".into()),
    ];
    update(&mut s, key(']'));
    assert_eq!(s.view, Some(0));
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 1);
    let out = screen(&s);
    assert!(out.contains("view eu"));
    assert!(
        out.lines().next().unwrap().contains(" all  eu  north "),
        "{out}"
    );
    update(&mut s, key(']'));
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 2);
    update(&mut s, key(']'));
    assert_eq!(s.view, None);
    assert_eq!(s.pane(Pane::Incoming).rows.len(), 6);
}
