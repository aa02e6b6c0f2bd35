//! Small helpers every feature of the reducer uses.

use ratatui::crossterm::event::{Event, KeyEvent};
use tui_input::Input;
use tui_input::InputRequest;
use tui_input::backend::crossterm::to_input_request;

use crate::inbox::command::Command;
use crate::inbox::msg::Effect;
use crate::inbox::state::{ForwardPopup, Level, State, StatusMessage};
use crate::sanitize;
use crate::wire::{Referral, Timestamp};

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

pub(crate) fn advance(state: &mut State, now: Timestamp) {
    if now > state.now {
        state.now = now;
    }
}

/// Shows `text` in the status bar and keeps it in the session's log.
pub(crate) fn say(state: &mut State, level: Level, text: String) {
    state.log_message(level, &text);
    state.status = Some(StatusMessage::new(text, level, state.now));
}

/// Moves a popup's `scroll` for a movement command (`page` rows a page, at
/// most `max`); false for any other command.
pub(crate) fn scroll_by(scroll: &mut usize, cmd: Command, max: usize, page: usize) -> bool {
    *scroll = match cmd {
        Command::Up => scroll.saturating_sub(1),
        Command::Down => (*scroll + 1).min(max),
        Command::PageUp => scroll.saturating_sub(page),
        Command::PageDown => (*scroll + page).min(max),
        Command::Top => 0,
        Command::Bottom => max,
        _ => return false,
    };
    true
}

/// The status while `R` lists again (replaced when the lists are in).
pub(crate) const RELOADING: &str = "reloading…";

pub(crate) fn clean_referral(r: Referral) -> Referral {
    sanitize::clean_referral(r)
}

// ---------------------------------------------------------------- loading

/// Feeds a key to a tui-input, refusing to grow past `limit` characters.
pub(crate) fn edit(input: &mut Input, ev: &KeyEvent, limit: usize) -> bool {
    let Some(req) = to_input_request(&Event::Key(*ev)) else {
        return false;
    };
    if let InputRequest::InsertChar(c) = req {
        // Typed text is shown as is: refuse what the sanitizer would replace.
        if sanitize::is_forbidden(c) || c.is_control() || input.value().chars().count() >= limit {
            return false;
        }
    }
    input.handle(req).is_some()
}

pub(crate) fn refresh_matches(partners: &[crate::wire::Partner], p: &mut ForwardPopup) {
    let q = p.query.value().to_lowercase();
    let q = q.trim();
    p.matches = partners
        .iter()
        .enumerate()
        .filter(|(_, x)| !p.excluded.contains(&x.id))
        .filter(|(_, x)| {
            q.is_empty()
                || x.id.to_lowercase().contains(q)
                || x.name.to_lowercase().contains(q)
                || x.categories.iter().any(|c| c.to_lowercase().contains(q))
                || x.regions.iter().any(|c| c.to_lowercase().contains(q))
        })
        .map(|(i, _)| i)
        .collect();
    p.selected = p.selected.min(p.matches.len().saturating_sub(1));
    p.offset = p.offset.min(p.selected);
}

pub(crate) fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The reducer's command dispatcher, handed to the `:` line so it can run
/// any key command by name without importing the dispatcher.
pub type Dispatch = fn(&mut State, Command, &mut Vec<Effect>) -> bool;
