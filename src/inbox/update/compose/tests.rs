//! The `n` form: refused to read-only users, every field's mistake at
//! once, the request it sends, and a refusal that keeps the draft.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{ComposeForm, FIELDS, TO};
use crate::inbox::msg::{Effect, LeadRefusal, Msg};
use crate::inbox::state::{Popup, State};
use crate::inbox::testkit::*;
use crate::inbox::update::update;
use crate::wire::Role;

fn form(s: &State) -> &ComposeForm {
    match &s.popup {
        Some(Popup::Compose(f)) => f,
        other => panic!("expected the new-lead form, got {other:?}"),
    }
}

fn status(s: &State) -> String {
    s.status
        .as_ref()
        .map(|m| m.text.clone())
        .unwrap_or_default()
}

fn at(label: &str) -> usize {
    FIELDS.iter().position(|f| f.label == label).expect(label)
}

/// Types `text` into the field labelled `label` (Tab from where it is).
fn fill(s: &mut State, label: &str, text: &str) {
    while form(s).focus != at(label) {
        update(s, code(KeyCode::Tab));
    }
    type_str(s, text);
}

fn ctrl_s() -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL))
}

fn opened() -> State {
    let mut s = loaded(Role::Agent, sample());
    update(&mut s, key('n'));
    assert_eq!(form(&s).focus, TO);
    s
}

#[test]
fn read_only_users_cannot_open_it_and_are_told_why() {
    for role in [Role::Viewer, Role::Operator] {
        let mut s = loaded(role, sample());
        update(&mut s, key('n'));
        assert!(s.popup.is_none(), "{role:?}");
        assert!(
            status(&s).starts_with("cannot write a new lead"),
            "{role:?}: {}",
            status(&s)
        );
    }
    let mut s = loaded(Role::Agent, sample());
    s.readonly = true;
    update(&mut s, key('n'));
    assert!(s.popup.is_none());
    assert!(status(&s).contains("read-only mode"), "{}", status(&s));
}

#[test]
fn every_wrong_field_gets_its_own_error_and_nothing_is_sent() {
    let mut s = opened();
    fill(&mut s, "To", "acme-web");
    fill(&mut s, "Email", "notanemail");
    fill(&mut s, "Value", "12,5k");
    fill(&mut s, "Currency", "us");
    fill(&mut s, "Commission %", "150");
    fill(&mut s, "Expires (h)", "0");
    let fx = update(&mut s, ctrl_s());
    assert!(fx.is_empty(), "{fx:?}");
    let f = form(&s);
    let err = |label: &str| f.errors[at(label)].clone().unwrap_or_default();
    assert_eq!(err("To"), "you cannot send a referral to yourself");
    assert_eq!(err("Company"), "lead.company is required");
    assert_eq!(err("Category"), "lead.category is required");
    assert!(
        err("Email").starts_with("not an email address"),
        "{}",
        err("Email")
    );
    assert_eq!(
        err("Value"),
        crate::money::parse_amount("12,5k").unwrap_err()
    );
    assert!(err("Currency").contains("ISO 4217"), "{}", err("Currency"));
    assert!(
        err("Commission %").contains("between 0 and 100"),
        "{}",
        err("Commission %")
    );
    assert!(
        err("Expires (h)").contains("between 1 and 720"),
        "{}",
        err("Expires (h)")
    );
    assert_eq!(f.errors[at("Domain")], None);
    // The cursor goes to the first mistake; typing there clears its error.
    assert_eq!(f.focus, TO);
    update(&mut s, code(KeyCode::Backspace));
    assert_eq!(form(&s).errors[TO], None);
    assert!(form(&s).errors[at("Company")].is_some());
    // An unknown partner is named, with a suggestion.
    let mut s = opened();
    fill(&mut s, "To", "pixel-forj");
    update(&mut s, ctrl_s());
    let e = form(&s).errors[TO].clone().unwrap_or_default();
    assert!(
        e.contains("no partner \"pixel-forj\"") && e.contains("pixel-forge"),
        "{e}"
    );
}

#[test]
fn the_picker_cycles_partners_by_prefix_and_skips_my_own() {
    let mut s = opened();
    update(&mut s, code(KeyCode::Down));
    // The directory sorted, without acme-web (me).
    assert_eq!(form(&s).inputs[TO].value(), "bluehost-co");
    update(&mut s, code(KeyCode::Down));
    assert_eq!(form(&s).inputs[TO].value(), "hostly");
    update(&mut s, code(KeyCode::Up));
    assert_eq!(form(&s).inputs[TO].value(), "bluehost-co");
    let mut s = opened();
    type_str(&mut s, "p");
    update(&mut s, code(KeyCode::Down));
    assert_eq!(form(&s).inputs[TO].value(), "pixel-forge");
    update(&mut s, code(KeyCode::Down));
    assert_eq!(
        form(&s).inputs[TO].value(),
        "pixel-forge",
        "one match cycles to itself"
    );
}

#[test]
fn a_valid_form_sends_the_parsed_request_with_a_key() {
    let mut s = opened();
    fill(&mut s, "To", "hostly");
    fill(&mut s, "Company", "Globex");
    fill(&mut s, "Category", "hosting");
    fill(&mut s, "Domain", "globex.example");
    fill(&mut s, "Email", "hank@globex.example");
    fill(&mut s, "Value", "12,500");
    fill(&mut s, "Currency", "eur");
    fill(&mut s, "Commission %", "10");
    fill(&mut s, "Expires (h)", "48");
    // Enter on the last field sends.
    let fx = update(&mut s, code(KeyCode::Enter));
    let [
        Effect::SendLead {
            request,
            idempotency_key,
        },
    ] = fx.as_slice()
    else {
        panic!("expected one SendLead, got {fx:?}");
    };
    assert_eq!(request.to_partner, "hostly");
    assert_eq!(request.lead.company.as_deref(), Some("Globex"));
    assert_eq!(request.lead.category.as_deref(), Some("hosting"));
    assert_eq!(request.lead.domain.as_deref(), Some("globex.example"));
    assert_eq!(
        request.lead.contact_email.as_deref(),
        Some("hank@globex.example")
    );
    assert_eq!(request.lead.est_value_cents, Some(1_250_000));
    assert_eq!(request.lead.currency.as_deref(), Some("EUR"));
    assert_eq!(request.lead.contact_name, None);
    assert_eq!(request.commission_pct, Some(10));
    assert_eq!(request.expires_in_hours, Some(48));
    assert!(idempotency_key.starts_with("key-n"), "{idempotency_key}");
    assert!(form(&s).sending);
    // While it is in flight, typing waits.
    assert!(update(&mut s, key('x')).is_empty());
    assert_eq!(form(&s).inputs[at("Expires (h)")].value(), "48");
    // A second send gets a fresh key.
    let mut r = referral("r_new", "acme-web", "hostly", "Globex", 0);
    r.lead.company = "Globex".into();
    update(&mut s, Msg::LeadSent(Ok(Box::new(r))));
    assert!(s.popup.is_none());
    assert!(
        status(&s).contains("sent Globex to hostly: r_new"),
        "{}",
        status(&s)
    );
}

#[test]
fn a_refusal_lands_on_its_field_and_keeps_the_draft() {
    let mut s = opened();
    fill(&mut s, "To", "hostly");
    fill(&mut s, "Company", "Globex");
    fill(&mut s, "Category", "hosting");
    fill(&mut s, "Note", "call after 5");
    let fx = update(&mut s, ctrl_s());
    assert_eq!(fx.len(), 1);
    update(
        &mut s,
        Msg::LeadSent(Err(LeadRefusal {
            field: Some("lead.category".into()),
            message: "lead.category is not one this exchange knows".into(),
        })),
    );
    let f = form(&s);
    assert!(!f.sending);
    assert_eq!(f.focus, at("Category"));
    assert_eq!(
        f.errors[at("Category")].as_deref(),
        Some("lead.category is not one this exchange knows")
    );
    assert_eq!(f.inputs[at("Company")].value(), "Globex");
    assert_eq!(f.inputs[at("Note")].value(), "call after 5");
    // A refusal with no field shows on the form; it can be sent again.
    update(
        &mut s,
        Msg::LeadSent(Err(LeadRefusal {
            field: None,
            message: "a lead for globex.example is already open: r_1".into(),
        })),
    );
    assert_eq!(
        form(&s).error.as_deref(),
        Some("a lead for globex.example is already open: r_1")
    );
    assert_eq!(update(&mut s, ctrl_s()).len(), 1);
}

#[test]
fn esc_discards_the_draft_and_says_so() {
    let mut s = opened();
    update(&mut s, code(KeyCode::Esc));
    assert!(s.popup.is_none());
    assert_eq!(status(&s), "", "an empty form closes silently");
    let mut s = opened();
    type_str(&mut s, "ho");
    // `q` is text here, not quit.
    type_str(&mut s, "q");
    assert_eq!(form(&s).inputs[TO].value(), "hoq");
    // One Esc on a draft only asks; any other key goes on editing.
    update(&mut s, code(KeyCode::Esc));
    assert!(form(&s).discard_armed, "the first Esc asks");
    type_str(&mut s, "x");
    assert!(!form(&s).discard_armed);
    assert_eq!(form(&s).inputs[TO].value(), "hoqx", "nothing was lost");
    update(&mut s, code(KeyCode::Esc));
    update(&mut s, code(KeyCode::Esc));
    assert!(s.popup.is_none());
    assert_eq!(status(&s), "draft discarded");
}

#[test]
fn leaving_the_form_for_a_moment_goes_on_editing() {
    let mut s = opened();
    type_str(&mut s, "ho");
    update(&mut s, code(KeyCode::Esc));
    assert!(form(&s).discard_armed);
    // Ctrl-Z (handled before the form sees it) puts the question away.
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL)),
    );
    assert!(!form(&s).discard_armed, "the question outlived Ctrl-Z");
    update(&mut s, code(KeyCode::Esc));
    assert!(
        s.popup.is_some(),
        "one Esc after coming back discarded the draft"
    );
}

#[test]
fn the_discard_question_at_80x24() {
    let mut s = opened();
    fill(&mut s, "Company", "Globex");
    update(&mut s, code(KeyCode::Esc));
    insta::assert_snapshot!(drawn(&s));
}

#[test]
fn the_form_at_80x24() {
    let mut s = opened();
    fill(&mut s, "To", "hostly");
    fill(&mut s, "Company", "Globex");
    fill(&mut s, "Email", "hank");
    update(&mut s, ctrl_s());
    insta::assert_snapshot!(drawn(&s));
}

#[test]
fn ctrl_e_edits_the_summary_and_the_note_in_the_editor() {
    use crate::inbox::msg::{TermDone, TermEffect};
    let mut s = opened();
    let ctrl_e = Msg::Key(KeyEvent::new(KeyCode::Char('e'), KeyModifiers::CONTROL));
    // Not on a one-line field.
    update(&mut s, ctrl_e.clone());
    assert!(
        status(&s).contains("this field is not one"),
        "{}",
        status(&s)
    );
    fill(&mut s, "Note", "call");
    let fx = update(&mut s, ctrl_e);
    assert!(
        matches!(fx.as_slice(), [Effect::Terminal(TermEffect::EditNote(t))] if t == "call"),
        "{fx:?}"
    );
    update(
        &mut s,
        Msg::Terminal(TermDone::Edited(Ok("call\nafter five\n".into()))),
    );
    assert_eq!(form(&s).inputs[at("Note")].value(), "call after five");
}
