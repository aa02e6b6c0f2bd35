//! The `:` command line: typing, history, completion.

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use tui_input::Input;

use crate::inbox::command::{COMMANDS, Command};
use crate::inbox::msg::Effect;
use crate::inbox::state::State;
use crate::inbox::update::{
    actions::*, batch::*, filter::*, quit::*, saved_views::*, shared::*, sort::*,
};
use crate::query::{self, SortField};
use crate::wire::{MAX_LINE_CHARS, ReasonCode};

mod run;
pub use run::*;

/// The `:` command line while open.
#[derive(Debug, Clone, Default)]
pub struct CmdLine {
    /// What is typed (without the `:`).
    pub input: Input,
    /// Candidates of the last Tab, when more than one.
    pub completions: Vec<String>,
    /// Position in the history while browsing it with Up/Down.
    pub history_pos: Option<usize>,
}

/// Names of the `:` commands, for completion and errors.
pub const LINE_COMMANDS: &[&str] = &[
    "accept", "reject", "forward", "withdraw", "select", "filter", "sort", "view", "theme",
    "export", "help", "quit",
];

/// The `:` commands for the help overlay: usage, what it does, and
/// whether it acts (hidden in a read-only monitor).
pub const LINE_HELP: &[(&str, &str, bool)] = &[
    (":accept", "Accept the selection, else the row", true),
    (
        ":reject CODE [note]",
        "Reject with a reason code (Tab completes)",
        true,
    ),
    (
        ":forward PARTNER [note]",
        "Forward to a partner (Tab completes)",
        true,
    ),
    (":withdraw", "Withdraw the selection, else the row", true),
    (
        ":select QUERY",
        "Mark every row of the pane the query matches",
        false,
    ),
    (":filter QUERY", "Filter the panes with a query", false),
    (
        ":sort [-]FIELD",
        "Sort (age, expires, value, company, …)",
        false,
    ),
    (
        ":view [NAME]",
        "Show a saved view (none: every referral)",
        false,
    ),
    (":theme NAME", "Switch the theme", false),
    (":export PATH", "Write the view as .csv or .json", false),
    (":help  :quit", "This help; leave", false),
];

/// A row of the command table `:NAME` runs (not the ones the line
/// handles itself, nor `command`).
pub(crate) fn palette_command(name: &str) -> Option<&'static crate::inbox::command::CommandInfo> {
    COMMANDS.iter().find(|c| {
        c.name == name
            && c.command != Command::Command
            && !LINE_COMMANDS.contains(&c.name)
            && c.contexts.contains(&crate::inbox::command::Context::List)
    })
}

/// `:` opens the command line.
pub fn open_cmdline(state: &mut State) -> bool {
    state.cmdline = Some(CmdLine::default());
    true
}

/// Keys while the command line is open.
pub fn on_cmdline_key(
    state: &mut State,
    ev: &KeyEvent,
    fx: &mut Vec<Effect>,
    run: Dispatch,
) -> bool {
    let Some(mut line) = state.cmdline.take() else {
        return false;
    };
    match ev.code {
        KeyCode::Esc => return true,
        KeyCode::Enter => {
            let text = line.input.value().trim().to_string();
            if !text.is_empty() {
                if state.history.last() != Some(&text) {
                    state.history.push(text.clone());
                    fx.push(Effect::SaveHistory(text.clone()));
                }
                run_line(state, &text, fx, run);
            }
            return true;
        }
        KeyCode::Tab => {
            complete(state, &mut line);
        }
        KeyCode::Up | KeyCode::Down => {
            let n = state.history.len();
            if n > 0 {
                let pos = match (ev.code, line.history_pos) {
                    (KeyCode::Up, None) => Some(n - 1),
                    (KeyCode::Up, Some(p)) => Some(p.saturating_sub(1)),
                    (_, Some(p)) if p + 1 < n => Some(p + 1),
                    _ => None,
                };
                line.history_pos = pos;
                let text = pos.map(|p| state.history[p].clone()).unwrap_or_default();
                line.input = Input::new(text);
                line.completions.clear();
            }
        }
        KeyCode::Backspace if line.input.value().is_empty() => return true,
        _ => {
            if !edit(&mut line.input, ev, MAX_LINE_CHARS) {
                state.cmdline = Some(line);
                return false;
            }
            line.completions.clear();
        }
    }
    state.cmdline = Some(line);
    true
}

/// Tab: completes the word being typed.
pub(crate) fn complete(state: &State, line: &mut CmdLine) {
    let text = line.input.value().to_string();
    let (head, word) = match text.rfind(' ') {
        Some(i) => (&text[..=i], &text[i + 1..]),
        None => ("", text.as_str()),
    };
    let cmd = text.split_whitespace().next().unwrap_or("");
    let args_before = head.split_whitespace().count();
    let candidates: Vec<String> = if head.is_empty() {
        // Read-only (viewer, operator, --readonly): no actions offered.
        let line_acts = |name: &str| {
            LINE_HELP
                .iter()
                .any(|(usage, _, acts)| *acts && usage[1..].split(' ').next() == Some(name))
        };
        let names = LINE_COMMANDS
            .iter()
            .copied()
            .filter(|n| state.may_act() || !line_acts(n))
            .chain(
                COMMANDS
                    .iter()
                    .filter(|c| palette_command(c.name).is_some())
                    .filter(|c| state.may_act() || !c.acts)
                    .map(|c| c.name),
            );
        prefixed(names.map(str::to_string), word)
    } else {
        match (cmd, args_before) {
            ("reject", 1) => prefixed(ReasonCode::ALL.iter().map(|c| c.as_str().into()), word),
            ("forward", 1) => prefixed(state.partners.iter().map(|p| p.id.clone()), word),
            ("view", 1) => prefixed(state.views.iter().map(|v| v.0.clone()), word),
            ("theme", 1) => prefixed(state.themes.iter().cloned(), word),
            ("sort", 1) => {
                let (dash, name) = match word.strip_prefix('-') {
                    Some(r) => ("-", r),
                    None => ("", word),
                };
                prefixed(
                    SortField::ALL
                        .iter()
                        .map(|f| format!("{dash}{}", f.as_str())),
                    &format!("{dash}{name}"),
                )
            }
            ("select" | "filter", _) => {
                let neg = word
                    .chars()
                    .next()
                    .filter(|c| *c == '-' || *c == '!')
                    .map(String::from)
                    .unwrap_or_default();
                let w = &word[neg.len()..];
                match w.split_once(':') {
                    Some((field, value))
                        if matches!(
                            field.to_ascii_lowercase().as_str(),
                            "from" | "to" | "partner"
                        ) =>
                    {
                        prefixed(state.partners.iter().map(|p| p.id.clone()), value)
                            .into_iter()
                            .map(|v| format!("{neg}{field}:{v}"))
                            .collect()
                    }
                    Some((field, value)) => query::complete_value(field, value)
                        .into_iter()
                        .map(|v| format!("{neg}{field}:{v}"))
                        .collect(),
                    None => query::complete_field(w)
                        .into_iter()
                        .map(|f| format!("{neg}{f}:"))
                        .collect(),
                }
            }
            _ => Vec::new(),
        }
    };
    match candidates.len() {
        0 => line.completions.clear(),
        1 => {
            let c = &candidates[0];
            let space = if c.ends_with(':') { "" } else { " " };
            line.input = Input::new(format!("{head}{c}{space}"));
            line.completions.clear();
        }
        _ => {
            let common = common_prefix(&candidates);
            if common.len() > word.len() {
                line.input = Input::new(format!("{head}{common}"));
            }
            line.completions = candidates;
        }
    }
}

pub(crate) fn prefixed(all: impl Iterator<Item = String>, word: &str) -> Vec<String> {
    let lw = word.to_lowercase();
    all.filter(|s| s.to_lowercase().starts_with(&lw)).collect()
}

pub(crate) fn common_prefix(v: &[String]) -> String {
    let first = &v[0];
    let mut n = first.len();
    for s in &v[1..] {
        n = n.min(
            first
                .char_indices()
                .zip(s.chars())
                .take_while(|((_, a), b)| a == b)
                .last()
                .map_or(0, |((i, a), _)| i + a.len_utf8()),
        );
    }
    first[..n].to_string()
}
