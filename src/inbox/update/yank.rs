//! Copy: `y` yanks the cursor row's id, `Y` opens a menu (id, contact
//! email, phone, domain, the whole referral as text). The reducer only
//! asks ([`Effect::Copy`]); the runtime writes it to the terminal as an
//! OSC 52 sequence, which reaches the local clipboard over SSH and, with
//! `set-clipboard on`, through tmux. Terminals that ignore OSC 52 give no
//! sign, so the status bar says the copy may not arrive.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use crate::inbox::command::Command;
use crate::inbox::format;
use crate::inbox::msg::Effect;
use crate::inbox::state::{Level, Popup, State};
use crate::inbox::update::popups::step;
use crate::inbox::update::shared::say;
use crate::wire::Referral;

/// The menu's rows, in order (`1`..`5` pick directly).
pub const CHOICES: [&str; 5] = [
    "id",
    "contact email",
    "contact phone",
    "domain",
    "the whole referral as text",
];

/// What the status bar adds after every copy.
pub const MAY_NOT_ARRIVE: &str = "(OSC 52: some terminals ignore it; in tmux set-clipboard on)";

/// The most bytes put on the clipboard: some terminals drop longer OSC 52
/// sequences whole, so a longer text is refused with a clear message.
pub const MAX_COPY_BYTES: usize = 74_994;

/// `y`: the cursor row's id.
pub(crate) fn yank_id(state: &mut State, fx: &mut Vec<Effect>) -> bool {
    match state.current().map(|e| e.referral.id.clone()) {
        Some(id) => copy(state, "id", id, fx),
        None => say(
            state,
            Level::Error,
            "nothing to copy: no referral under the cursor".to_string(),
        ),
    }
    true
}

/// `Y`: the menu, on the cursor row.
pub(crate) fn open_menu(state: &mut State) -> bool {
    if state.current().is_none() {
        say(
            state,
            Level::Error,
            "nothing to copy: no referral under the cursor".to_string(),
        );
    } else {
        state.popup = Some(Popup::Yank { selected: 0 });
    }
    true
}

/// Keys in the menu: move, `Enter` or a number copies, `Esc` closes.
pub(crate) fn on_menu_key(
    state: &mut State,
    cmd: Option<Command>,
    ev: &KeyEvent,
    fx: &mut Vec<Effect>,
) -> bool {
    let Some(Popup::Yank { selected }) = &mut state.popup else {
        return false;
    };
    if let Some(s) = cmd.and_then(|c| step(*selected, CHOICES.len(), c)) {
        *selected = s;
        return true;
    }
    let pick = match ev.code {
        KeyCode::Esc => {
            state.popup = None;
            return true;
        }
        KeyCode::Enter => *selected,
        KeyCode::Char(c @ '1'..='5') => c as usize - '1' as usize,
        _ => return false,
    };
    state.popup = None;
    let Some(r) = state.current().map(|e| e.referral.clone()) else {
        return true;
    };
    match value(state, &r, pick) {
        Ok(text) => copy(state, CHOICES[pick], text, fx),
        Err(why) => say(state, Level::Error, why),
    }
    true
}

/// The text of menu row `pick` for `r`, or why there is none.
fn value(state: &State, r: &Referral, pick: usize) -> Result<String, String> {
    let hidden = |what: &str| {
        if r.contact_masked {
            format!("no {what} to copy: the contact is hidden until the lead is accepted")
        } else {
            format!("no {what} to copy: this lead has none")
        }
    };
    match pick {
        0 => Ok(r.id.clone()),
        1 | 2 => {
            let (what, v) = if pick == 1 {
                ("contact email", &r.lead.contact_email)
            } else {
                ("contact phone", &r.lead.contact_phone)
            };
            v.clone()
                .filter(|_| !r.contact_masked)
                .ok_or_else(|| hidden(what))
        }
        3 => r
            .lead
            .domain
            .clone()
            .ok_or_else(|| "no domain to copy: this lead has none".to_string()),
        _ => Ok(as_text(state, r)),
    }
}

/// The whole referral as plain text, one `label: value` a line, for a
/// mail or a ticket.
pub fn as_text(state: &State, r: &Referral) -> String {
    let l = &r.lead;
    let mut out = vec![
        format!("{} ({})", l.company, r.id),
        format!("status: {}", r.status.as_str()),
        format!("from: {}", r.from_partner),
        format!("to: {}", r.to_partner),
    ];
    if r.chain.len() > 2 {
        let chain: Vec<&str> = r.chain.iter().map(|c| c.as_str()).collect();
        out.push(format!("chain: {}", chain.join(" → ")));
    }
    out.push(format!("category: {}", l.category));
    if let Some(region) = &l.region {
        out.push(format!("region: {region}"));
    }
    if l.est_value_cents.is_some() {
        out.push(format!(
            "value: {} {}",
            format::money(l.est_value_cents, &l.currency),
            l.currency
        ));
    }
    if let Some(d) = &l.domain {
        out.push(format!("domain: {d}"));
    }
    if r.contact_masked {
        out.push("contact: hidden until accepted".to_string());
    } else {
        for (label, v) in [
            ("contact", &l.contact_name),
            ("email", &l.contact_email),
            ("phone", &l.contact_phone),
        ] {
            if let Some(v) = v {
                out.push(format!("{label}: {v}"));
            }
        }
    }
    out.push(format!(
        "created: {}",
        format::date_time(r.created_at, state.utc_offset)
    ));
    out.push(format!(
        "expires: {}",
        format::date_time(r.expires_at, state.utc_offset)
    ));
    if r.decided_by.is_some() || r.decided_at.is_some() {
        out.push(format!(
            "decided: {}",
            crate::inbox::update::actions::describe_decision(state, r)
        ));
    }
    for (label, v) in [
        ("summary", &l.summary),
        ("note", &r.note),
        ("decision note", &r.decision_note),
    ] {
        if let Some(v) = v {
            out.push(format!("{label}: {v}"));
        }
    }
    out.join("\n")
}

/// Asks the runtime to put `text` on the clipboard, and says so.
fn copy(state: &mut State, what: &str, text: String, fx: &mut Vec<Effect>) {
    if text.len() > MAX_COPY_BYTES {
        say(
            state,
            Level::Error,
            format!(
                "not copied: the {what} is {} bytes, more than terminals take over OSC 52 ({MAX_COPY_BYTES})",
                text.len()
            ),
        );
        return;
    }
    let shown = if text.contains('\n') {
        format!("{what} ({} lines)", text.lines().count())
    } else {
        text.clone()
    };
    say(
        state,
        Level::Success,
        format!("copied {shown} {MAY_NOT_ARRIVE}"),
    );
    fx.push(Effect::Copy(text));
}

/// The OSC 52 sequence that sets the system clipboard (`c`) to `text`,
/// as crossterm writes it (`CopyToClipboard`, feature `osc52`: base64,
/// ST-terminated, the form tmux, xterm, kitty, WezTerm, iTerm2, Windows
/// Terminal and foot read).
pub fn osc52(text: &str) -> String {
    use crossterm::Command;
    let mut out = String::new();
    crossterm::clipboard::CopyToClipboard::to_clipboard_from(text)
        .write_ansi(&mut out)
        .expect("writing to a String cannot fail");
    out
}
