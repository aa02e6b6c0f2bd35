use ratatui::crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use crate::inbox::msg::Msg;
use crate::inbox::state::{Pane, State};
use crate::inbox::testkit::*;
use crate::inbox::update::mouse::{Hit, hit};
use crate::inbox::update::test_support::*;
use crate::inbox::update::update;
use crate::wire::Role;

fn mouse(kind: MouseEventKind, column: u16, row: u16) -> Msg {
    Msg::Mouse(MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

fn click(column: u16, row: u16) -> Msg {
    mouse(MouseEventKind::Down(MouseButton::Left), column, row)
}

fn with_mouse(w: u16, h: u16) -> State {
    let mut s = loaded_sized(Role::Agent, sample(), w, h);
    s.mouse = true;
    s
}

fn id_at(s: &State, pane: Pane, idx: usize) -> String {
    s.entries[s.pane(pane).rows[idx] as usize]
        .referral
        .id
        .clone()
}

#[test]
fn a_click_selects_the_row_drawn_under_it() {
    let mut s = with_mouse(80, 24);
    // 80x24: the header, the pane's top border, its column header, then rows.
    let want = id_at(&s, Pane::Incoming, 2);
    let screen = screen(&s);
    let company = &s.entry(&want).unwrap().referral.lead.company;
    let line = screen.lines().nth(5).unwrap();
    assert!(
        line.contains(company.as_str()),
        "{line:?} should show {company}"
    );
    update(&mut s, click(10, 5));
    assert_eq!(current_id(&s), want);
    assert!(s.dirty);
    // Below the last row: nothing is selected, nothing moves.
    update(&mut s, click(10, 20));
    assert_eq!(current_id(&s), want);
}

#[test]
fn the_wheel_moves_three_rows_and_stops_at_the_ends() {
    let mut s = with_mouse(80, 24);
    update(&mut s, mouse(MouseEventKind::ScrollDown, 10, 6));
    assert_eq!(s.pane(Pane::Incoming).cursor, 3);
    update(&mut s, mouse(MouseEventKind::ScrollDown, 10, 6));
    assert_eq!(s.pane(Pane::Incoming).cursor, 5);
    update(&mut s, mouse(MouseEventKind::ScrollUp, 10, 6));
    assert_eq!(s.pane(Pane::Incoming).cursor, 2);
}

#[test]
fn a_click_on_the_other_panes_counts_switches_to_it() {
    let mut s = with_mouse(80, 24);
    assert_eq!(hit(&s, 3, 1), Some(Hit::Title(Pane::Incoming)));
    update(&mut s, click(3, 1));
    assert_eq!(s.active, Pane::Incoming);
    // "▸Incoming …" then " 2: Outgoing 3 …" further right on the border.
    let top = screen(&s).lines().nth(1).unwrap().to_string();
    let col = top
        .chars()
        .position(|c| c == 'O')
        .expect("Outgoing on the border") as u16;
    assert_eq!(hit(&s, col, 1), Some(Hit::Title(Pane::Outgoing)));
    update(&mut s, click(col, 1));
    assert_eq!(s.active, Pane::Outgoing);
}

#[test]
fn side_by_side_a_click_in_the_other_pane_moves_there() {
    let mut s = with_mouse(200, 50);
    let out = s.layout_rect(Pane::Outgoing);
    update(&mut s, click(out.x + 5, out.y + 2 + 1));
    assert_eq!(s.active, Pane::Outgoing);
    assert_eq!(current_id(&s), id_at(&s, Pane::Outgoing, 1));
    let inc = s.layout_rect(Pane::Incoming);
    update(&mut s, click(inc.x + 5, inc.y));
    assert_eq!(s.active, Pane::Incoming);
}

#[test]
fn without_the_mouse_setting_or_under_a_popup_clicks_do_nothing() {
    let mut s = with_mouse(80, 24);
    s.mouse = false;
    update(&mut s, click(10, 5));
    assert_eq!(s.pane(Pane::Incoming).cursor, 0);
    s.mouse = true;
    update(&mut s, key('?'));
    update(&mut s, click(10, 5));
    assert_eq!(s.pane(Pane::Incoming).cursor, 0);
    update(&mut s, mouse(MouseEventKind::ScrollDown, 10, 5));
    assert!(matches!(
        s.popup,
        Some(crate::inbox::state::Popup::Help { scroll: 3 })
    ));
}

impl State {
    fn layout_rect(&self, pane: Pane) -> ratatui::layout::Rect {
        crate::inbox::layout::layout(self)
            .pane_rect(pane)
            .expect("pane shown")
    }
}
