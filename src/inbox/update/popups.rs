//! The reject, forward and close popups.

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use tui_input::Input;

use crate::inbox::command::Command;
use crate::inbox::format;
use crate::inbox::msg::Effect;
use crate::inbox::state::{ClosePopup, CloseStep, ForwardPopup, Level, Popup, RejectPopup, State};
use crate::inbox::update::{actions::*, batch::*, shared::*};
use crate::wire::BatchAction;
use crate::wire::{
    CloseRequest, CloseStatus, ForwardRequest, MAX_LINE_CHARS, MAX_TEXT_CHARS, OutcomeInput,
    ReasonCode, ReasonInput, RejectRequest,
};

pub(crate) fn step(selected: usize, len: usize, cmd: Command) -> Option<usize> {
    if len == 0 {
        return Some(0);
    }
    let last = len - 1;
    Some(match cmd {
        Command::Up => selected.saturating_sub(1),
        Command::Down => (selected + 1).min(last),
        Command::Top => 0,
        Command::Bottom => last,
        Command::PageUp => selected.saturating_sub(10),
        Command::PageDown => (selected + 10).min(last),
        _ => return None,
    })
}

pub(crate) fn note_value(input: &Input) -> Option<String> {
    let t = input.value().trim();
    (!t.is_empty()).then(|| t.to_string())
}

pub(crate) fn on_popup_key(
    state: &mut State,
    cmd: Option<Command>,
    ev: &KeyEvent,
    fx: &mut Vec<Effect>,
) -> bool {
    if matches!(state.popup, Some(Popup::Yank { .. })) {
        return super::yank::on_menu_key(state, cmd, ev, fx);
    }
    let Some(popup) = state.popup.take() else {
        return false;
    };
    let (popup, changed) = match popup {
        Popup::Reject(p) => reject_key(state, p, cmd, ev, fx),
        Popup::Forward(p) => forward_key(state, p, cmd, ev, fx),
        Popup::Close(p) => close_key(state, p, cmd, ev, fx),
        other => (Some(other), false),
    };
    state.popup = popup;
    changed
}

pub(crate) type PopupStep = (Option<Popup>, bool);

pub(crate) fn reject_key(
    state: &mut State,
    mut p: RejectPopup,
    cmd: Option<Command>,
    ev: &KeyEvent,
    fx: &mut Vec<Effect>,
) -> PopupStep {
    match &mut p.note {
        None => {
            if let Some(s) = cmd.and_then(|c| step(p.selected, ReasonCode::ALL.len(), c)) {
                p.selected = s;
                return (Some(Popup::Reject(p)), true);
            }
            match ev.code {
                KeyCode::Esc => return (None, true),
                KeyCode::Enter => p.note = Some(Input::default()),
                KeyCode::Char(c @ '1'..='9') => {
                    let n = c as usize - '1' as usize;
                    if n >= ReasonCode::ALL.len() {
                        return (Some(Popup::Reject(p)), false);
                    }
                    p.selected = n;
                    p.note = Some(Input::default());
                }
                _ => return (Some(Popup::Reject(p)), false),
            }
            p.error = None;
            (Some(Popup::Reject(p)), true)
        }
        Some(input) => match ev.code {
            KeyCode::Esc => {
                p.note = None;
                p.error = None;
                (Some(Popup::Reject(p)), true)
            }
            KeyCode::Enter => {
                let note = note_value(input);
                let code = p.reason();
                if code == ReasonCode::Other && note.is_none() {
                    p.error = Some("a note is required with \"other\"".to_string());
                    return (Some(Popup::Reject(p)), true);
                }
                let req = BatchAction::Reject(RejectRequest {
                    version: p.version,
                    reason: ReasonInput { code, note },
                });
                if p.batch {
                    plan(state, req, fx);
                    return (state.popup.take(), true);
                }
                let words = format!("rejecting {} ({})…", p.company, code.label());
                hold(state, p.id.clone(), p.company.clone(), req, words, fx);
                (None, true)
            }
            _ => {
                let changed = edit(input, ev, MAX_TEXT_CHARS);
                // The complaint was about the empty note: typing answers it.
                if changed && note_value(input).is_some() {
                    p.error = None;
                }
                (Some(Popup::Reject(p)), changed)
            }
        },
    }
}

pub(crate) fn forward_key(
    state: &mut State,
    mut p: ForwardPopup,
    cmd: Option<Command>,
    ev: &KeyEvent,
    fx: &mut Vec<Effect>,
) -> PopupStep {
    match &mut p.picked {
        None => {
            if let Some(s) = cmd.and_then(|c| step(p.selected, p.matches.len(), c)) {
                p.selected = s;
                return (Some(Popup::Forward(p)), true);
            }
            match ev.code {
                KeyCode::Esc => (None, true),
                KeyCode::Enter => {
                    let Some(&i) = p.matches.get(p.selected) else {
                        return (Some(Popup::Forward(p)), false);
                    };
                    p.picked = Some((state.partners[i].id.clone(), Input::default()));
                    (Some(Popup::Forward(p)), true)
                }
                _ => {
                    let changed = edit(&mut p.query, ev, MAX_LINE_CHARS);
                    if changed {
                        p.selected = 0;
                        p.offset = 0;
                        refresh_matches(&state.partners, &mut p);
                    }
                    (Some(Popup::Forward(p)), changed)
                }
            }
        }
        Some((to, input)) => match ev.code {
            KeyCode::Esc => {
                p.picked = None;
                (Some(Popup::Forward(p)), true)
            }
            KeyCode::Enter => {
                let req = BatchAction::Forward(ForwardRequest {
                    version: p.version,
                    to_partner: to.clone(),
                    note: note_value(input),
                    commission_pct: None,
                    expires_in_hours: None,
                });
                let to = to.clone();
                if p.batch {
                    plan(state, req, fx);
                    return (state.popup.take(), true);
                }
                let words = format!("forwarding {} to {to}…", p.company);
                hold(state, p.id.clone(), p.company.clone(), req, words, fx);
                (None, true)
            }
            _ => {
                let changed = edit(input, ev, MAX_TEXT_CHARS);
                (Some(Popup::Forward(p)), changed)
            }
        },
    }
}

pub(crate) fn close_key(
    state: &mut State,
    mut p: ClosePopup,
    cmd: Option<Command>,
    ev: &KeyEvent,
    fx: &mut Vec<Effect>,
) -> PopupStep {
    match p.step {
        CloseStep::Choose => {
            if let Some(s) = cmd.and_then(|c| step(p.selected, 2, c)) {
                p.selected = s;
                return (Some(Popup::Close(p)), true);
            }
            match ev.code {
                KeyCode::Esc => (None, true),
                KeyCode::Enter => {
                    p.step = CloseStep::Value;
                    (Some(Popup::Close(p)), true)
                }
                _ => (Some(Popup::Close(p)), false),
            }
        }
        CloseStep::Value => match ev.code {
            KeyCode::Esc => {
                p.step = CloseStep::Choose;
                p.error = None;
                (Some(Popup::Close(p)), true)
            }
            KeyCode::Enter => {
                match format::parse_money(p.value.value()) {
                    Ok(_) => {
                        p.error = None;
                        p.step = CloseStep::Note;
                    }
                    Err(e) => p.error = Some(e),
                }
                (Some(Popup::Close(p)), true)
            }
            _ => {
                let changed = edit(&mut p.value, ev, 32);
                (Some(Popup::Close(p)), changed)
            }
        },
        CloseStep::Note => match ev.code {
            KeyCode::Esc => {
                p.step = CloseStep::Value;
                (Some(Popup::Close(p)), true)
            }
            KeyCode::Enter => {
                let value_cents = format::parse_money(p.value.value()).unwrap_or(None);
                let note = note_value(&p.note);
                let status = if p.selected == 0 {
                    CloseStatus::Won
                } else {
                    CloseStatus::Lost
                };
                let outcome = (value_cents.is_some() || note.is_some())
                    .then_some(OutcomeInput { value_cents, note });
                let req = BatchAction::Close(CloseRequest {
                    version: p.version,
                    status,
                    outcome,
                });
                send(state, p.id.clone(), req, fx);
                let word = if status == CloseStatus::Won {
                    "won"
                } else {
                    "lost"
                };
                say(
                    state,
                    Level::Info,
                    format!("closing {} as {word}…", p.company),
                );
                (None, true)
            }
            _ => {
                let changed = edit(&mut p.note, ev, MAX_TEXT_CHARS);
                (Some(Popup::Close(p)), changed)
            }
        },
    }
}

// ---------------------------------------------------------------- answers
