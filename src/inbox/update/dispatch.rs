//! Where a key goes: the context, then the command, then the feature.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::Input;

use crate::inbox::command::{Command, Context};
use crate::inbox::msg::Effect;
use crate::inbox::state::{
    ClosePopup, CloseStep, ForwardPopup, Level, Pane, Popup, RejectPopup, State,
};
use crate::inbox::update::yank;
use crate::inbox::update::{
    actions::*, batch::*, detail::*, filter::*, loading::*, marks::*, messages::*, navigation::*,
    palette::*, popups::*, quit::*, rows::*, saved_views::*, shared::*, sort::*,
};
use crate::inbox::views::help;
use crate::wire::BatchAction;
use crate::wire::{AcceptRequest, ActionKind, MAX_LINE_CHARS, WithdrawRequest};

pub(crate) fn on_key(state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) -> bool {
    if ev.kind == KeyEventKind::Release {
        return false;
    }
    let ctx = state.context();
    let cmd = state.keymap.command_for(&ev, ctx);
    match cmd {
        Some(Command::Redraw) => return redraw(state),
        Some(Command::Suspend) => {
            super::compose::disarm(state);
            return super::open::suspend(fx);
        }
        Some(Command::EditNote) => {
            super::compose::disarm(state);
            return super::open::edit_note(state, fx);
        }
        _ => {}
    }
    if matches!(state.popup, Some(Popup::Compose(_))) {
        if cmd == Some(Command::Quit) {
            return quit(state, fx);
        }
        return super::compose::on_key(state, &ev, fx);
    }
    match ctx {
        Context::List => match cmd {
            Some(c) => {
                // The next action makes the last message stale: it goes
                // (the log keeps it), unless the key is to read it.
                if !matches!(c, Command::Messages | Command::Help) {
                    state.status = None;
                }
                on_list_command(state, c, fx)
            }
            None if ev.code == KeyCode::Esc
                && (!state.marks.is_empty() || state.range.is_some()) =>
            {
                clear_marks(state)
            }
            None if ev.code == KeyCode::Esc && state.view.is_some() => {
                select_view(state, None);
                true
            }
            None if ev.code == KeyCode::Esc && !state.filter_applied.is_empty() => {
                state.filter.reset();
                set_filter(state, String::new());
                true
            }
            None => false,
        },
        Context::CommandLine => {
            if cmd == Some(Command::Quit) {
                return quit(state, fx);
            }
            on_cmdline_key(state, &ev, fx, on_list_command)
        }
        Context::Batch => on_batch_key(state, &ev, fx),
        Context::Filter => {
            if cmd == Some(Command::Quit) {
                return quit(state, fx);
            }
            match ev.code {
                // With a parse error, Enter keeps the line open to fix it.
                KeyCode::Enter => state.filter_editing = state.filter_error.is_some(),
                KeyCode::Esc => {
                    state.filter_editing = false;
                    state.filter.reset();
                    state.view = None;
                    set_filter(state, String::new());
                }
                _ => {
                    if !edit(&mut state.filter, &ev, MAX_LINE_CHARS) {
                        return false;
                    }
                    let text = state.filter.value().to_string();
                    set_filter(state, text);
                }
            }
            true
        }
        Context::Help if matches!(state.popup, Some(Popup::Messages { .. })) => {
            on_messages_key(state, cmd, &ev)
        }
        Context::Help => on_help_key(state, cmd, &ev),
        Context::Confirm => match ev.code {
            KeyCode::Char('c') if ev.modifiers.contains(KeyModifiers::CONTROL) => {
                state.popup = None;
                state.quitting = true;
                fx.push(Effect::Quit);
                true
            }
            KeyCode::Char('y' | 'Y') => {
                state.popup = None;
                state.quitting = true;
                fx.push(Effect::Quit);
                true
            }
            KeyCode::Char('n' | 'N') | KeyCode::Esc => {
                state.popup = None;
                true
            }
            _ => false,
        },
        Context::Choice | Context::Picker | Context::Note => {
            if cmd == Some(Command::Quit) {
                return quit(state, fx);
            }
            on_popup_key(state, cmd, &ev, fx)
        }
    }
}

pub(crate) fn on_help_key(state: &mut State, cmd: Option<Command>, ev: &KeyEvent) -> bool {
    let max = help::max_scroll(&state.keymap, state.may_act(), state.size);
    let Some(Popup::Help { scroll }) = &mut state.popup else {
        return false;
    };
    match cmd {
        Some(Command::Help) => state.popup = None,
        // In the overlay, quit closes it first: a stray `q` never leaves the app.
        Some(Command::Quit) => state.popup = None,
        Some(c) if scroll_by(scroll, c, max, 10) => {}
        _ if ev.code == KeyCode::Esc => state.popup = None,
        _ => return false,
    }
    true
}

/// `Ctrl-L`: the runtime clears the screen and draws it all again.
pub(crate) fn redraw(state: &mut State) -> bool {
    state.repaint = true;
    true
}

pub(crate) fn on_list_command(state: &mut State, cmd: Command, fx: &mut Vec<Effect>) -> bool {
    let batchable = matches!(
        cmd,
        Command::Accept | Command::Reject | Command::Forward | Command::Withdraw
    );
    if batchable && !state.marks.is_empty() {
        return batch_command(state, cmd, fx);
    }
    match cmd {
        Command::ToggleMark => {
            let changed = toggle_mark(state);
            if changed {
                move_cursor(state, Command::Down);
            }
            return changed;
        }
        Command::MarkRange => return mark_range(state),
        Command::MarkAll => return mark_all(state),
        Command::InvertMarks => return invert_marks(state),
        Command::Undo => return undo(state),
        Command::Yank => return yank::yank_id(state, fx),
        Command::YankMenu => return yank::open_menu(state),
        Command::SortNext => return sort_next(state),
        Command::SortReverse => return sort_reverse(state),
        Command::NextView => return next_view(state),
        Command::OpenSite => return super::open::open_site(state, fx),
        Command::OpenMail => return super::open::open_mail(state, fx),
        Command::Messages => return open_messages(state),
        Command::DetailDown => return detail_scroll(state, 1),
        Command::DetailUp => return detail_scroll(state, -1),
        Command::DetailFull => return detail_full(state),
        Command::NewLead => return super::compose::open(state, fx),
        _ => {}
    }
    match cmd {
        Command::Up
        | Command::Down
        | Command::Top
        | Command::Bottom
        | Command::PageUp
        | Command::PageDown => {
            move_cursor(state, cmd);
            follow_range(state);
            true
        }
        Command::NextPane | Command::PrevPane => switch_pane(state, state.active.other()),
        Command::PaneIncoming => switch_pane(state, Pane::Incoming),
        Command::PaneOutgoing => switch_pane(state, Pane::Outgoing),
        Command::ToggleDetail => {
            state.show_detail = !state.show_detail;
            state.detail_full = false;
            state.detail_scroll = 0;
            for pane in [Pane::Incoming, Pane::Outgoing] {
                clamp_view(state, pane);
            }
            true
        }
        Command::Accept => {
            match check(state, ActionKind::Accept) {
                Ok((id, version, company)) => {
                    let req = BatchAction::Accept(AcceptRequest {
                        version,
                        note: None,
                    });
                    let words = format!("accepting {company}…");
                    hold(state, id, company, req, words, fx);
                }
                Err(why) => say(state, Level::Error, why),
            }
            true
        }
        Command::Withdraw => {
            match check(state, ActionKind::Withdraw) {
                Ok((id, version, company)) => {
                    let req = BatchAction::Withdraw(WithdrawRequest { version });
                    let words = format!("withdrawing {company}…");
                    hold(state, id, company, req, words, fx);
                }
                Err(why) => say(state, Level::Error, why),
            }
            true
        }
        Command::Reject => {
            match check(state, ActionKind::Reject) {
                Ok((id, version, company)) => {
                    state.popup = Some(Popup::Reject(RejectPopup {
                        id,
                        version,
                        company,
                        selected: 0,
                        note: None,
                        error: None,
                        batch: false,
                    }))
                }
                Err(why) => say(state, Level::Error, why),
            }
            true
        }
        Command::Forward => {
            match check(state, ActionKind::Forward) {
                Ok((id, version, company)) => {
                    let mut excluded: Vec<String> = state
                        .entry(&id)
                        .map(|e| e.referral.chain.iter().map(|c| c.to_string()).collect())
                        .unwrap_or_default();
                    excluded.extend(state.my_partner().map(str::to_string));
                    let mut p = ForwardPopup {
                        id,
                        version,
                        company,
                        excluded,
                        query: Input::default(),
                        matches: Vec::new(),
                        selected: 0,
                        offset: 0,
                        picked: None,
                        batch: false,
                    };
                    refresh_matches(&state.partners, &mut p);
                    if state.partners.is_empty() {
                        fx.push(Effect::LoadPartners);
                    }
                    state.popup = Some(Popup::Forward(p));
                }
                Err(why) => say(state, Level::Error, why),
            }
            true
        }
        Command::Close => {
            match check(state, ActionKind::Close) {
                Ok((id, version, company)) => {
                    state.popup = Some(Popup::Close(ClosePopup {
                        id,
                        version,
                        company,
                        selected: 0,
                        step: CloseStep::Choose,
                        value: Input::default(),
                        note: Input::default(),
                        error: None,
                    }))
                }
                Err(why) => say(state, Level::Error, why),
            }
            true
        }
        Command::Filter => {
            state.filter_editing = true;
            true
        }
        Command::Reload => {
            if state.me.is_none() {
                fx.push(Effect::LoadMe);
                say(state, Level::Info, "loading your account…".to_string());
            } else if state.listing.is_empty() {
                start_listing(state, fx);
                say(state, Level::Info, RELOADING.to_string());
            } else {
                say(state, Level::Info, "already loading".to_string());
            }
            true
        }
        Command::Redraw => redraw(state),
        Command::Help => {
            state.popup = Some(Popup::Help { scroll: 0 });
            true
        }
        Command::Quit => quit(state, fx),
        Command::Command => open_cmdline(state),
        Command::ToggleMark
        | Command::MarkRange
        | Command::MarkAll
        | Command::InvertMarks
        | Command::Undo
        | Command::SortNext
        | Command::SortReverse
        | Command::NextView
        | Command::Suspend
        | Command::OpenSite
        | Command::OpenMail
        | Command::EditNote
        | Command::Yank
        | Command::YankMenu
        | Command::Messages
        | Command::DetailDown
        | Command::DetailUp
        | Command::DetailFull
        | Command::NewLead => false,
    }
}

impl State {
    /// Where keys go now.
    pub fn context(&self) -> Context {
        match &self.popup {
            // The message log scrolls and closes as the help does.
            Some(Popup::Help { .. } | Popup::Messages { .. }) => Context::Help,
            Some(Popup::ConfirmQuit) => Context::Confirm,
            Some(Popup::BatchConfirm | Popup::BatchResults { .. }) => Context::Batch,
            Some(Popup::Yank { .. }) => Context::Choice,
            // Printable keys are typed into its fields.
            Some(Popup::Compose(_)) => Context::Note,
            Some(Popup::Reject(p)) => {
                if p.note.is_some() {
                    Context::Note
                } else {
                    Context::Choice
                }
            }
            Some(Popup::Forward(p)) => {
                if p.picked.is_some() {
                    Context::Note
                } else {
                    Context::Picker
                }
            }
            Some(Popup::Close(p)) => {
                if p.step == CloseStep::Choose {
                    Context::Choice
                } else {
                    Context::Note
                }
            }
            None if self.cmdline.is_some() => Context::CommandLine,
            None if self.filter_editing => Context::Filter,
            None => Context::List,
        }
    }
}
