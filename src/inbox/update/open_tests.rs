use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::inbox::msg::{Effect, Msg, TermDone, TermEffect};
use crate::inbox::state::Popup;
use crate::inbox::testkit::*;
use crate::inbox::update::open::{mail_url, note_from_editor, site_url};
use crate::inbox::update::test_support::*;
use crate::inbox::update::update;
use crate::wire::Role;

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

#[test]
fn only_host_names_and_plain_addresses_become_urls() {
    assert_eq!(site_url("Acme.Example").unwrap(), "https://acme.example/");
    for bad in [
        "javascript:alert(1)",
        "acme.example/path",
        "-x.example",
        "localhost",
        "a b.example",
        "acme.example\u{241b}",
        "$(rm -rf ~).example",
    ] {
        assert!(site_url(bad).is_err(), "{bad}");
    }
    assert_eq!(
        mail_url("lee@summitlegal.example").unwrap(),
        "mailto:lee@summitlegal.example"
    );
    assert_eq!(
        mail_url("a&b?cc=x#y@x.example").unwrap(),
        "mailto:a%26b%3Fcc=x%23y@x.example"
    );
    assert!(mail_url("lee@bad_host!.example").is_err());
    assert!(mail_url("no-at-sign").is_err());
}

#[test]
fn o_opens_the_domain_and_shift_o_the_contact_once_shown() {
    let mut s = loaded(Role::Agent, sample());
    let fx = update(&mut s, key('o'));
    let domain = s.current().unwrap().referral.lead.domain.clone().unwrap();
    assert_eq!(
        fx,
        [Effect::Terminal(TermEffect::Open(format!(
            "https://{domain}/"
        )))]
    );
    // Masked until accepted.
    let fx = update(&mut s, key('O'));
    assert!(fx.is_empty());
    assert!(status_text(&s).contains("shown once the referral is accepted"));
    // r_04 (Summit Legal) is accepted, its contact shown.
    while current_id(&s) != "r_04" {
        update(&mut s, key('j'));
    }
    let fx = update(&mut s, key('O'));
    assert_eq!(
        fx,
        [Effect::Terminal(TermEffect::Open(
            "mailto:lee@summitlegal.example".into()
        ))]
    );
    update(
        &mut s,
        Msg::Terminal(TermDone::Opened(
            Err("not available in this session".into()),
        )),
    );
    assert_eq!(
        status_text(&s),
        "cannot open: not available in this session"
    );
}

#[test]
fn ctrl_e_in_a_note_edits_it_and_the_text_comes_back_sanitized() {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('r'));
    // Ctrl-E while choosing a reason: not a note.
    assert!(update(&mut s, ctrl('e')).is_empty());
    update(&mut s, code(KeyCode::Enter));
    type_str(&mut s, "draft");
    let fx = update(&mut s, ctrl('e'));
    assert_eq!(fx, [Effect::Terminal(TermEffect::EditNote("draft".into()))]);
    update(
        &mut s,
        Msg::Terminal(TermDone::Edited(Ok(
            "Line one\n\nline two \u{1b}[31m\n".into()
        ))),
    );
    let Some(Popup::Reject(p)) = &s.popup else {
        panic!("the reject popup stays open")
    };
    assert_eq!(p.note.as_ref().unwrap().value(), "Line one line two ␛");
    assert!(s.repaint);
    assert_eq!(note_from_editor(&"x".repeat(5000)).chars().count(), 4000);
}

#[test]
fn ctrl_z_suspends_and_coming_back_repaints_whole() {
    let mut s = loaded(Role::Agent, sample());
    let fx = update(&mut s, ctrl('z'));
    assert_eq!(fx, [Effect::Terminal(TermEffect::Suspend)]);
    // From a popup too.
    update(&mut s, key('?'));
    assert_eq!(
        update(&mut s, ctrl('z')),
        [Effect::Terminal(TermEffect::Suspend)]
    );
    assert_eq!(
        update(&mut s, Msg::SuspendRequested),
        [Effect::Terminal(TermEffect::Suspend)]
    );
    s.repaint = false;
    s.title_shown = Some("old".into());
    update(&mut s, Msg::Terminal(TermDone::Resumed(Ok(()))));
    assert!(s.repaint);
    assert_eq!(s.title_shown, None);
    update(
        &mut s,
        Msg::Terminal(TermDone::Resumed(Err(
            "not available in this session".into()
        ))),
    );
    assert_eq!(
        status_text(&s),
        "cannot suspend: not available in this session"
    );
}
