//! `n`: a new lead from the inbox. A form with the fields `leadx send`
//! takes ([`form::FIELDS`]), checked as the server checks them, with a
//! partner picker on `To` (type a prefix, Up/Down cycles the partners the
//! inbox loaded). Enter on the last field or Ctrl-S sends it through
//! [`Effect::SendLead`] with one idempotency key; a refusal comes back
//! into the form, on the field the server named, with the draft intact.

pub mod form;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::inbox::msg::{Effect, LeadRefusal};
use crate::inbox::state::{Level, Popup, State};
use crate::inbox::update::actions::may_not_act;
use crate::inbox::update::shared::{edit, say};
use crate::sanitize::clean_line;
use crate::wire::Referral;
pub use form::{ComposeForm, FIELDS, TO};

/// `n`: opens an empty form, unless this user may not send.
pub(crate) fn open(state: &mut State, fx: &mut Vec<Effect>) -> bool {
    if let Some(why) = may_not_act(state, "send") {
        say(
            state,
            Level::Error,
            format!("cannot write a new lead: {why}"),
        );
        return true;
    }
    if state.partners.is_empty() {
        fx.push(Effect::LoadPartners);
    }
    state.popup = Some(Popup::Compose(Box::new(ComposeForm::new())));
    true
}

/// A key that leaves the form for a moment (Ctrl-Z, Ctrl-E) goes on
/// editing too: the next Esc asks again.
pub(crate) fn disarm(state: &mut State) {
    if let Some(Popup::Compose(f)) = &mut state.popup {
        f.discard_armed = false;
    }
}

/// A key while the form is open.
pub(crate) fn on_key(state: &mut State, ev: &KeyEvent, fx: &mut Vec<Effect>) -> bool {
    let me = state.my_partner().map(str::to_string);
    let Some(Popup::Compose(f)) = &mut state.popup else {
        return false;
    };
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    let was_armed = f.discard_armed;
    if ev.code != KeyCode::Esc {
        f.discard_armed = false;
    }
    match ev.code {
        // A draft needs a second Esc: the first only asks.
        KeyCode::Esc if !f.is_blank() && !f.sending && !f.discard_armed => {
            f.discard_armed = true;
        }
        KeyCode::Esc => {
            let blank = f.is_blank();
            state.popup = None;
            if !blank {
                say(state, Level::Info, "draft discarded".to_string());
            }
            return true;
        }
        _ if f.sending => return false,
        KeyCode::Char('s') if ctrl => return submit(state, fx),
        KeyCode::Enter if f.focus + 1 == FIELDS.len() => return submit(state, fx),
        KeyCode::Enter | KeyCode::Tab => f.focus = (f.focus + 1) % FIELDS.len(),
        KeyCode::BackTab => f.focus = (f.focus + FIELDS.len() - 1) % FIELDS.len(),
        KeyCode::Up | KeyCode::Down if f.focus == TO => {
            let prefix = match &f.cycle {
                Some((p, _)) => p.clone(),
                None => f.inputs[TO].value().to_string(),
            };
            let ids = form::candidates(&state.partners, me.as_deref(), &prefix);
            if ids.is_empty() {
                f.errors[TO] = Some(format!("no partner id starts with {prefix:?}"));
                return true;
            }
            let n = ids.len();
            let at = match (&f.cycle, ev.code) {
                (None, KeyCode::Up) => n - 1,
                (None, _) => 0,
                (Some((_, i)), KeyCode::Up) => (i + n - 1) % n,
                (Some((_, i)), _) => (i + 1) % n,
            };
            f.inputs[TO] = tui_input::Input::new(ids[at].to_string());
            f.errors[TO] = None;
            f.cycle = Some((prefix, at));
        }
        KeyCode::Up => f.focus = f.focus.saturating_sub(1),
        KeyCode::Down => f.focus = (f.focus + 1).min(FIELDS.len() - 1),
        _ => {
            let i = f.focus;
            if !edit(&mut f.inputs[i], ev, FIELDS[i].limit) {
                // Nothing typed, but the discard question may have gone.
                return was_armed;
            }
            f.errors[i] = None;
            f.error = None;
            if i == TO {
                f.cycle = None;
            }
        }
    }
    true
}

/// Checks the form; sends it, or shows every field's error.
fn submit(state: &mut State, fx: &mut Vec<Effect>) -> bool {
    let me = state.my_partner().map(str::to_string);
    let key = format!("{}-n{}", state.key_prefix, state.next_op);
    let Some(Popup::Compose(f)) = &mut state.popup else {
        return false;
    };
    f.errors = vec![None; FIELDS.len()];
    f.error = None;
    match form::check(f, &state.partners, me.as_deref()) {
        Ok(request) => {
            f.sending = true;
            state.next_op += 1;
            fx.push(Effect::SendLead {
                request,
                idempotency_key: key,
            });
        }
        Err(errs) => {
            f.focus = errs[0].0;
            for (i, e) in errs {
                f.errors[i].get_or_insert(e);
            }
        }
    }
    true
}

/// The server's answer to [`Effect::SendLead`].
pub(crate) fn on_sent(state: &mut State, result: Result<Box<Referral>, LeadRefusal>) -> bool {
    match result {
        Ok(r) => {
            if matches!(state.popup, Some(Popup::Compose(_))) {
                state.popup = None;
            }
            let text = format!(
                "sent {} to {}: {}",
                clean_line(&r.lead.company),
                clean_line(&r.to_partner),
                clean_line(&r.id)
            );
            say(state, Level::Success, text);
        }
        Err(refusal) => {
            let message = clean_line(&refusal.message);
            match &mut state.popup {
                Some(Popup::Compose(f)) => {
                    f.sending = false;
                    f.blame(refusal.field.as_deref(), message);
                }
                _ => say(state, Level::Error, format!("new lead not sent: {message}")),
            }
        }
    }
    true
}

#[cfg(test)]
mod tests;
