//! Reducer tests of copy (issue 9, item 6).

use ratatui::crossterm::event::KeyCode;

use super::test_support::*;
use crate::inbox::msg::Effect;
use crate::inbox::state::Popup;
use crate::inbox::testkit::*;
use crate::inbox::update::update;
use crate::inbox::update::yank::{MAY_NOT_ARRIVE, osc52};
use crate::wire::{Role, Status};

fn copies(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Copy(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn y_copies_the_cursor_rows_id_and_says_it_may_not_arrive() {
    let mut s = loaded(Role::Agent, sample());
    let id = current_id(&s);
    let fx = update(&mut s, key('y'));
    assert_eq!(copies(&fx), vec![id.clone()]);
    assert_eq!(status_text(&s), format!("copied {id} {MAY_NOT_ARRIVE}"));
    assert!(status_text(&s).contains("tmux set-clipboard on"));
}

#[test]
fn the_menu_copies_a_field_by_number_or_enter() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('Y'));
    assert!(matches!(s.popup, Some(Popup::Yank { selected: 0 })));
    assert!(screen(&s).contains("4 domain"));
    // Down twice, Enter: the phone; the cursor row is pending, so hidden.
    update(&mut s, key('j'));
    update(&mut s, code(KeyCode::Down));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert!(copies(&fx).is_empty());
    assert!(s.popup.is_none());
    assert_eq!(
        status_text(&s),
        "no contact phone to copy: the contact is hidden until the lead is accepted"
    );
    // `Y` `5`: the whole referral, as lines.
    update(&mut s, key('Y'));
    let fx = update(&mut s, key('5'));
    let text = copies(&fx).remove(0);
    let r = &s.current().unwrap().referral;
    assert!(
        text.starts_with(&format!("{} ({})\n", r.lead.company, r.id)),
        "{text}"
    );
    assert!(text.contains("status: pending"), "{text}");
    assert!(text.contains("contact: hidden until accepted"), "{text}");
    assert!(status_text(&s).starts_with("copied the whole referral as text ("));
}

#[test]
fn an_accepted_leads_email_is_copied() {
    let mut s = loaded(Role::Agent, sample());
    // The first accepted row shows its contact.
    let i = s
        .entries
        .iter()
        .position(|e| e.referral.status == Status::Accepted && !e.referral.contact_masked)
        .expect("an accepted row");
    let want = s.entries[i].referral.lead.contact_email.clone().unwrap();
    let id = s.entries[i].referral.id.clone();
    while current_id(&s) != id {
        update(&mut s, key('j'));
    }
    update(&mut s, key('Y'));
    let fx = update(&mut s, key('2'));
    assert_eq!(copies(&fx), vec![want]);
    update(&mut s, key('Y'));
    update(&mut s, code(KeyCode::Esc));
    assert!(s.popup.is_none());
}

#[test]
fn osc52_is_base64_of_the_text_for_the_system_clipboard() {
    assert_eq!(osc52("r_01"), "\x1b]52;c;cl8wMQ==\x1b\\");
    assert_eq!(osc52("é"), "\x1b]52;c;w6k=\x1b\\");
}
