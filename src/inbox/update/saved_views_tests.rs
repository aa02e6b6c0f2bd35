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

#[test]
fn a_views_sort_ends_with_the_view() {
    use crate::query::{SortField, SortSpec};
    let mut s = loaded(Role::Agent, sample());
    s.views = vec![
        ("big".into(), "sort:-value".into()),
        ("eu".into(), "region:eu".into()),
    ];
    assert_eq!(s.sort, None);
    update(&mut s, key(']'));
    assert_eq!(s.sort.map(|x| x.field), Some(SortField::Value));
    // The next view has no sort: the one from before the views comes back.
    update(&mut s, key(']'));
    assert_eq!(s.sort, None::<SortSpec>);
    // Esc leaves a view the same way.
    update(&mut s, key(']'));
    update(&mut s, key(']'));
    assert_eq!(s.view, Some(0));
    assert!(s.sort.is_some());
    update(&mut s, code(ratatui::crossterm::event::KeyCode::Esc));
    assert_eq!((s.view, s.sort), (None, None));
}
