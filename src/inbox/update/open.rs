//! Leaving the app for a while: `o` / `O` open the lead's site or a mail
//! to its contact, `Ctrl-E` writes a note in `$EDITOR`, `Ctrl-Z` suspends
//! to the shell. The reducer only asks ([`TermEffect`]); the runtime's
//! terminal hook ([`crate::inbox::suspend`]) does it and answers with a
//! [`TermDone`].

use tui_input::Input;

use crate::inbox::msg::{Effect, TermDone, TermEffect};
use crate::inbox::state::{CloseStep, Level, Popup, State};
use crate::inbox::update::shared::say;
use crate::sanitize;
use crate::wire::MAX_TEXT_CHARS;

/// `https://DOMAIN/` for a lead's domain, once it is checked to be a host
/// name (letters, digits and `-` in dot-separated labels; a scheme, path
/// or anything else is refused rather than handed to the browser).
pub fn site_url(domain: &str) -> Result<String, String> {
    let host = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let labels: Vec<&str> = host.split('.').collect();
    if host.len() > 253 || labels.len() < 2 || !labels.iter().all(|l| label_ok(l)) {
        return Err(format!(
            "the lead's domain {domain:?} is not a host name such as example.com"
        ));
    }
    Ok(format!("https://{host}/"))
}

/// `mailto:ADDRESS` for a contact's email: checked as the server checks
/// it, its domain a host name, and every character that means something in
/// a URL (`?`, `&`, `#`, `%`, ...) percent-encoded, so the link carries the
/// address and nothing else.
pub fn mail_url(email: &str) -> Result<String, String> {
    let email = email.trim();
    if let Some(why) = crate::domain::validate::email_problem(email) {
        return Err(format!(
            "the contact's email {email:?} is not usable: {why}"
        ));
    }
    let (local, domain) = email.split_once('@').expect("checked");
    let host = site_url(domain).map_err(|_| {
        format!("the contact's email {email:?} is not usable: {domain:?} is not a host name")
    })?;
    let host = &host["https://".len()..host.len() - 1];
    let mut out = String::from("mailto:");
    for b in local.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$'*+=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.push('@');
    out.push_str(host);
    Ok(out)
}

/// `o`: the lead's domain in the browser.
pub(crate) fn open_site(state: &mut State, fx: &mut Vec<Effect>) -> bool {
    let Some(e) = state.current() else {
        say(state, Level::Error, "no referral selected".to_string());
        return true;
    };
    let r = match e.referral.lead.domain.as_deref() {
        None | Some("") => Err("this lead has no domain".to_string()),
        Some(d) => site_url(d),
    };
    ask_open(state, r, fx)
}

/// `O`: a mail to the lead's contact.
pub(crate) fn open_mail(state: &mut State, fx: &mut Vec<Effect>) -> bool {
    let Some(e) = state.current() else {
        say(state, Level::Error, "no referral selected".to_string());
        return true;
    };
    let r = match e.referral.lead.contact_email.as_deref() {
        _ if e.referral.contact_masked => {
            Err("the contact is shown once the referral is accepted".to_string())
        }
        None | Some("") => Err("this lead has no contact email".to_string()),
        Some(m) => mail_url(m),
    };
    ask_open(state, r, fx)
}

fn ask_open(state: &mut State, url: Result<String, String>, fx: &mut Vec<Effect>) -> bool {
    match url {
        Ok(url) => {
            say(state, Level::Info, format!("opening {url}…"));
            fx.push(Effect::Terminal(TermEffect::Open(url)));
        }
        Err(why) => say(state, Level::Error, why),
    }
    true
}

/// The note input the popup is on, if it is on one.
fn note_input(state: &mut State) -> Option<&mut Input> {
    match state.popup.as_mut()? {
        Popup::Reject(p) => p.note.as_mut(),
        Popup::Forward(p) => p.picked.as_mut().map(|(_, note)| note),
        Popup::Close(p) if p.step == CloseStep::Note => Some(&mut p.note),
        // The new-lead form's long fields (both 4000 characters).
        Popup::Compose(f) if super::compose::form::is_long(f.focus) => Some(&mut f.inputs[f.focus]),
        _ => None,
    }
}

/// `Ctrl-E` in a note: the runtime opens the editor on the note so far.
pub(crate) fn edit_note(state: &mut State, fx: &mut Vec<Effect>) -> bool {
    let Some(note) = note_input(state) else {
        say(
            state,
            Level::Error,
            "Ctrl-E edits a note; this field is not one".to_string(),
        );
        return true;
    };
    let text = note.value().to_string();
    fx.push(Effect::Terminal(TermEffect::EditNote(text)));
    true
}

/// `Ctrl-Z`: the runtime gives the terminal to the shell until `fg`.
pub(crate) fn suspend(fx: &mut Vec<Effect>) -> bool {
    fx.push(Effect::Terminal(TermEffect::Suspend));
    false
}

/// The editor's text as a note: sanitized, its lines joined (the note
/// field is one line), trailing blanks dropped, cut to the note's limit.
pub fn note_from_editor(text: &str) -> String {
    let joined = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    sanitize::clean_line(&joined)
        .chars()
        .take(MAX_TEXT_CHARS)
        .collect()
}

/// What came back from the terminal hook.
pub(crate) fn on_terminal(state: &mut State, done: TermDone) -> bool {
    match done {
        TermDone::Resumed(Ok(())) => {
            // The shell drew on the screen: draw it whole, and set the
            // title again (it was restored while away).
            state.repaint = true;
            state.title_shown = None;
        }
        TermDone::Resumed(Err(e)) => say(
            state,
            Level::Error,
            format!("cannot suspend: {}", sanitize::clean_line(&e)),
        ),
        TermDone::Edited(Ok(text)) => {
            state.repaint = true;
            let note = note_from_editor(&text);
            match note_input(state) {
                Some(input) => *input = Input::new(note),
                None => say(
                    state,
                    Level::Error,
                    "the note's popup was closed; the edited text is dropped".to_string(),
                ),
            }
        }
        TermDone::Edited(Err(e)) => {
            state.repaint = true;
            say(
                state,
                Level::Error,
                format!("editor: {}", sanitize::clean_line(&e)),
            );
        }
        TermDone::Opened(Ok(url)) => say(
            state,
            Level::Success,
            format!("opened {}", sanitize::clean_line(&url)),
        ),
        TermDone::Opened(Err(e)) => say(
            state,
            Level::Error,
            format!("cannot open: {}", sanitize::clean_line(&e)),
        ),
    }
    true
}
