//! The status line's message and its level.

use crate::wire::Timestamp;

/// How a status-bar message is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Neutral.
    Info,
    /// Something worked.
    Success,
    /// Something did not (or may not) happen.
    Error,
}

/// The status bar's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMessage {
    /// The text (already safe).
    pub text: String,
    /// How to show it.
    pub level: Level,
    /// When it goes away by itself.
    pub until: Timestamp,
}

impl StatusMessage {
    /// A message said at `now`: errors stay 30 s, the rest 10 s (or until
    /// the next message replaces them).
    pub fn new(text: String, level: Level, now: Timestamp) -> Self {
        let secs = if level == Level::Error { 30 } else { 10 };
        Self {
            text,
            level,
            until: now + chrono::Duration::seconds(secs),
        }
    }
}

/// One message said during the session, for `:messages`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedMessage {
    /// When it was said.
    pub at: Timestamp,
    /// Its level.
    pub level: Level,
    /// The whole text (already safe).
    pub text: String,
}

/// How many messages the session keeps (the oldest go first).
pub const MESSAGE_LOG_MAX: usize = 500;

impl super::State {
    /// Keeps `text` in the log (the same message said again in a row is kept once,
    /// with its latest time).
    pub fn log_message(&mut self, level: Level, text: &str) {
        if let Some(last) = self.messages.last_mut()
            && last.level == level
            && last.text == text
        {
            last.at = self.now;
            return;
        }
        if self.messages.len() >= MESSAGE_LOG_MAX {
            self.messages.remove(0);
        }
        self.messages.push(LoggedMessage {
            at: self.now,
            level,
            text: text.to_string(),
        });
    }
}
