//! The session's message log: every status-bar message is kept (up to
//! [`MESSAGE_LOG_MAX`](crate::inbox::state::MESSAGE_LOG_MAX)) so one cut short at 80 columns, or replaced before
//! it was read, can be read whole with `:messages` (or `M`), newest first.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use crate::inbox::command::Command;
use crate::inbox::state::{Popup, State};
use crate::inbox::update::shared::scroll_by;

/// Opens the log, newest first.
pub(crate) fn open_messages(state: &mut State) -> bool {
    state.popup = Some(Popup::Messages { scroll: 0 });
    true
}

/// Keys while the log is open: scroll by message, close with the same key,
/// `q` or `Esc`.
pub(crate) fn on_messages_key(state: &mut State, cmd: Option<Command>, ev: &KeyEvent) -> bool {
    let max = state.messages.len().saturating_sub(1);
    let Some(Popup::Messages { scroll }) = &mut state.popup else {
        return false;
    };
    match cmd {
        Some(Command::Messages | Command::Quit | Command::Help) => state.popup = None,
        Some(c) if scroll_by(scroll, c, max, 5) => {}
        _ if ev.code == KeyCode::Esc => state.popup = None,
        _ => return false,
    }
    true
}
