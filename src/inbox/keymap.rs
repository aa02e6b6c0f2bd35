//! Keys → commands, built from [`COMMANDS`] and the config's `[keys]`.
//!
//! `[keys] NAME = ["x", "ctrl-x"]` replaces the default keys of command
//! NAME; `NAME = []` unbinds it. Unknown names, bad key strings and one key
//! bound to two commands that apply in the same context are errors naming
//! `keys.NAME`: the caller prints them and exits 2.

use std::collections::BTreeMap;
use std::fmt;

use ratatui::crossterm::event::{KeyEvent, KeyEventKind, KeyModifiers};

use super::command::{COMMANDS, Command, CommandInfo, Context};
use crate::keyspec::KeySpec;

/// A `[keys]` entry that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeymapError {
    /// The config key to blame, `keys.NAME`.
    pub key: String,
    /// What was wrong and what was expected.
    pub message: String,
}

impl fmt::Display for KeymapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

impl std::error::Error for KeymapError {}

/// The keys bound to each command.
#[derive(Debug, Clone)]
pub struct KeyMap {
    /// Parallel to [`COMMANDS`].
    bound: Vec<Vec<KeySpec>>,
}

fn index_of(cmd: Command) -> usize {
    COMMANDS
        .iter()
        .position(|c| c.command == cmd)
        .expect("every command has a row in COMMANDS")
}

impl Default for KeyMap {
    fn default() -> Self {
        Self::defaults()
    }
}

impl KeyMap {
    /// The default bindings.
    pub fn defaults() -> Self {
        let bound = COMMANDS
            .iter()
            .map(|c| {
                c.default_keys
                    .iter()
                    .map(|k| match KeySpec::parse(k) {
                        Ok(spec) => spec,
                        Err(e) => panic!("default key {k:?} of {} does not parse: {e}", c.name),
                    })
                    .collect()
            })
            .collect();
        Self { bound }
    }

    /// The defaults with `[keys]` applied (command name → key strings).
    pub fn from_config(keys: &BTreeMap<String, Vec<String>>) -> Result<Self, KeymapError> {
        let mut map = Self::defaults();
        for (name, strings) in keys {
            let cmd = Command::from_name(name).ok_or_else(|| KeymapError {
                key: format!("keys.{name}"),
                message: format!(
                    "unknown command; expected one of: {}",
                    COMMANDS
                        .iter()
                        .map(|c| c.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?;
            let mut specs = Vec::with_capacity(strings.len());
            for s in strings {
                let spec = KeySpec::parse(s).map_err(|e| KeymapError {
                    key: format!("keys.{name}"),
                    message: format!("bad key {s:?}: {e} (expected e.g. \"j\", \"ctrl-d\", \"shift-tab\", \"pagedown\")"),
                })?;
                specs.push(spec);
            }
            map.bound[index_of(cmd)] = specs;
        }
        map.check_conflicts()?;
        Ok(map)
    }

    fn check_conflicts(&self) -> Result<(), KeymapError> {
        for (i, a) in COMMANDS.iter().enumerate() {
            for (j, b) in COMMANDS.iter().enumerate().skip(i + 1) {
                if !a.contexts.iter().any(|c| b.contexts.contains(c)) {
                    continue;
                }
                for ka in &self.bound[i] {
                    if self.bound[j]
                        .iter()
                        .any(|kb| kb.to_string() == ka.to_string())
                    {
                        let (blame, other) = if self.bound[i].len()
                            == COMMANDS[i].default_keys.len()
                            && same_as_default(&self.bound[i], a)
                        {
                            (b, a)
                        } else {
                            (a, b)
                        };
                        return Err(KeymapError {
                            key: format!("keys.{}", blame.name),
                            message: format!(
                                "key {ka} is also bound to `{}`; unbind it there (`{} = []`) or pick another key",
                                other.name, other.name
                            ),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// The keys bound to `cmd` (empty when unbound).
    pub fn keys_of(&self, cmd: Command) -> &[KeySpec] {
        &self.bound[index_of(cmd)]
    }

    /// The keys of `cmd` for display (`j/Down`), or `None` when unbound.
    pub fn label_of(&self, cmd: Command) -> Option<String> {
        let keys = self.keys_of(cmd);
        if keys.is_empty() {
            return None;
        }
        Some(
            keys.iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
                .join("/"),
        )
    }

    /// The keys of `cmd` that work in `ctx` (printable ones are text where
    /// `ctx` takes text), for display, or `None` when there are none.
    pub fn label_in(&self, cmd: Command, ctx: Context) -> Option<String> {
        let keys: Vec<String> = self
            .keys_of(cmd)
            .iter()
            .filter(|k| !(ctx.takes_text() && is_text_key(&KeyEvent::new(k.code, k.mods))))
            .map(|k| k.to_string())
            .collect();
        (!keys.is_empty()).then(|| keys.join("/"))
    }

    /// The command a key press means in `ctx`. In contexts that take text,
    /// printable keys (no Ctrl or Alt) are text, never commands.
    pub fn command_for(&self, ev: &KeyEvent, ctx: Context) -> Option<Command> {
        if ev.kind == KeyEventKind::Release {
            return None;
        }
        if ctx.takes_text() && is_text_key(ev) {
            return None;
        }
        COMMANDS.iter().enumerate().find_map(|(i, c)| {
            (c.contexts.contains(&ctx) && self.bound[i].iter().any(|k| k.matches(ev)))
                .then_some(c.command)
        })
    }

    /// The hint line for `ctx`: `(keys, label)` of the commands with a hint,
    /// bound, applying in `ctx`, and not acting when `may_act` is false.
    pub fn hints(&self, ctx: Context, may_act: bool) -> Vec<(String, &'static str)> {
        self.hints_where(ctx, may_act, |_| true)
    }

    /// [`KeyMap::hints`] for the commands `keep` accepts.
    pub fn hints_where(
        &self,
        ctx: Context,
        may_act: bool,
        keep: impl Fn(Command) -> bool,
    ) -> Vec<(String, &'static str)> {
        COMMANDS
            .iter()
            .filter(|c| c.contexts.contains(&ctx) && (may_act || !c.acts))
            .filter(|c| keep(c.command))
            .filter_map(|c| Some((self.label_in(c.command, ctx)?, c.hint?)))
            .collect()
    }

    /// Every command with its keys, for the help overlay.
    pub fn help_rows(&self) -> Vec<(String, &'static CommandInfo)> {
        COMMANDS
            .iter()
            .map(|c| {
                (
                    self.label_of(c.command)
                        .unwrap_or_else(|| "(unbound)".into()),
                    c,
                )
            })
            .collect()
    }
}

fn same_as_default(keys: &[KeySpec], info: &CommandInfo) -> bool {
    keys.iter().zip(info.default_keys).all(|(k, d)| {
        KeySpec::parse(d)
            .map(|d| d.to_string() == k.to_string())
            .unwrap_or(false)
    })
}

/// Whether a key press types a character (no Ctrl, no Alt).
pub fn is_text_key(ev: &KeyEvent) -> bool {
    matches!(ev.code, ratatui::crossterm::event::KeyCode::Char(_))
        && !ev
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SUPER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyCode;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn defaults_cover_the_issue_keys() {
        let m = KeyMap::defaults();
        let cases = [
            (key(KeyCode::Char('j')), Command::Down),
            (key(KeyCode::Down), Command::Down),
            (key(KeyCode::Char('k')), Command::Up),
            (key(KeyCode::Up), Command::Up),
            (key(KeyCode::Char('g')), Command::Top),
            (key(KeyCode::Home), Command::Top),
            (
                KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT),
                Command::Bottom,
            ),
            (key(KeyCode::End), Command::Bottom),
            (key(KeyCode::PageUp), Command::PageUp),
            (key(KeyCode::PageDown), Command::PageDown),
            (key(KeyCode::Enter), Command::ToggleDetail),
            (key(KeyCode::Char('a')), Command::Accept),
            (key(KeyCode::Char('r')), Command::Reject),
            (key(KeyCode::Char('f')), Command::Forward),
            (key(KeyCode::Char('w')), Command::Withdraw),
            (key(KeyCode::Char('c')), Command::Close),
            (key(KeyCode::Char('/')), Command::Filter),
            (
                KeyEvent::new(KeyCode::Char('R'), KeyModifiers::SHIFT),
                Command::Reload,
            ),
            (key(KeyCode::Char('?')), Command::Help),
            (key(KeyCode::Char('q')), Command::Quit),
            (
                KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
                Command::Quit,
            ),
            (key(KeyCode::Tab), Command::NextPane),
            (
                KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT),
                Command::PrevPane,
            ),
            (key(KeyCode::Char('1')), Command::PaneIncoming),
            (key(KeyCode::Char('2')), Command::PaneOutgoing),
            (key(KeyCode::Char(':')), Command::Command),
        ];
        for (ev, want) in cases {
            assert_eq!(m.command_for(&ev, Context::List), Some(want), "{ev:?}");
        }
    }

    #[test]
    fn text_contexts_keep_printable_keys_as_text() {
        let m = KeyMap::defaults();
        assert_eq!(
            m.command_for(&key(KeyCode::Char('q')), Context::Filter),
            None
        );
        assert_eq!(
            m.command_for(&key(KeyCode::Char('j')), Context::Picker),
            None
        );
        assert_eq!(
            m.command_for(&key(KeyCode::Down), Context::Picker),
            Some(Command::Down)
        );
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(m.command_for(&ctrl_c, Context::Note), Some(Command::Quit));
        assert_eq!(
            m.command_for(&key(KeyCode::Char('j')), Context::Choice),
            Some(Command::Down)
        );
        assert_eq!(m.command_for(&key(KeyCode::Char('a')), Context::Help), None);
    }

    #[test]
    fn config_remaps_and_unbinds() {
        let mut keys = BTreeMap::new();
        keys.insert("accept".to_string(), vec!["A".to_string()]);
        keys.insert("reload".to_string(), vec![]);
        let m = KeyMap::from_config(&keys).expect("valid keys");
        assert_eq!(m.command_for(&key(KeyCode::Char('a')), Context::List), None);
        let big_a = KeyEvent::new(KeyCode::Char('A'), KeyModifiers::SHIFT);
        assert_eq!(m.command_for(&big_a, Context::List), Some(Command::Accept));
        assert!(m.keys_of(Command::Reload).is_empty());
        assert_eq!(m.label_of(Command::Reload), None);
        let hints = m.hints(Context::List, true);
        assert!(
            hints.iter().any(|(k, l)| k == "A" && *l == "accept"),
            "{hints:?}"
        );
        let help = m.help_rows();
        assert!(
            help.iter()
                .any(|(k, c)| k == "(unbound)" && c.name == "reload")
        );
    }

    #[test]
    fn bad_config_names_the_key() {
        let mut keys = BTreeMap::new();
        keys.insert("accept".to_string(), vec!["ctrl-nosuchkey".to_string()]);
        let e = KeyMap::from_config(&keys).unwrap_err();
        assert_eq!(e.key, "keys.accept");
        assert!(e.to_string().starts_with("keys.accept: bad key"), "{e}");

        let mut keys = BTreeMap::new();
        keys.insert("launch".to_string(), vec!["x".to_string()]);
        let e = KeyMap::from_config(&keys).unwrap_err();
        assert_eq!(e.key, "keys.launch");
        assert!(e.message.contains("unknown command"));
    }

    #[test]
    fn one_key_for_two_commands_is_refused() {
        let mut keys = BTreeMap::new();
        keys.insert("accept".to_string(), vec!["r".to_string()]);
        let e = KeyMap::from_config(&keys).unwrap_err();
        assert_eq!(e.key, "keys.accept");
        assert!(e.message.contains("reject"), "{e}");
        // Moving reject away first makes it valid.
        keys.insert("reject".to_string(), vec!["x".to_string()]);
        assert!(KeyMap::from_config(&keys).is_ok());
    }

    #[test]
    fn hints_hide_actions_when_read_only() {
        let m = KeyMap::defaults();
        let all = m.hints(Context::List, true);
        let ro = m.hints(Context::List, false);
        assert!(all.iter().any(|(_, l)| *l == "accept"));
        assert!(!ro.iter().any(|(_, l)| *l == "accept" || *l == "reject"));
        assert!(ro.iter().any(|(_, l)| *l == "quit"));
    }
}
