//! Key specifications as the config writes them (`j`, `ctrl-c`, `shift-tab`,
//! `pgdn`, `f5`) and as the help shows them (`j`, `C-c`, `S-Tab`, `PgDn`,
//! `F5`).
//!
//! Grammar: zero or more modifier prefixes (`ctrl-`/`c-`, `alt-`/`meta-`/`m-`,
//! `shift-`/`s-`, case-insensitive) followed by a key: a single character
//! (case-sensitive: `J` is shift-j) or a name (case-insensitive): `space`,
//! `enter`/`return`, `esc`/`escape`, `tab`, `backtab`, `up`/`↑`, `down`/`↓`,
//! `left`/`←`, `right`/`→`, `pgup`/`pageup`, `pgdn`/`pagedown`, `home`,
//! `end`, `insert`/`ins`, `delete`/`del`, `backspace`/`bksp`, `f1`..`f12`,
//! `minus` (for `-`). `shift-tab` is BackTab; `shift-x` is `X`; with `ctrl`,
//! a letter is always lowercase (terminals cannot tell `ctrl-C` from `ctrl-c`).

use std::fmt;
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// One key with its modifiers, as bound to a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeySpec {
    /// The key.
    pub code: KeyCode,
    /// CONTROL and/or ALT (SHIFT only for non-character keys such as `S-↑`).
    pub mods: KeyModifiers,
}

/// Modifiers compared when matching (SHIFT is folded into the character or BackTab).
const COMPARED: KeyModifiers = KeyModifiers::CONTROL
    .union(KeyModifiers::ALT)
    .union(KeyModifiers::SUPER)
    .union(KeyModifiers::HYPER)
    .union(KeyModifiers::META);

impl KeySpec {
    /// A key with no modifiers.
    pub const fn plain(code: KeyCode) -> KeySpec {
        KeySpec {
            code,
            mods: KeyModifiers::NONE,
        }
    }

    /// A key with modifiers, normalised as [`parse`] would.
    pub fn new(code: KeyCode, mods: KeyModifiers) -> KeySpec {
        normalise(code, mods)
    }

    /// Parses `j`, `G`, `?`, `space`, `enter`, `shift-tab`, `ctrl-c`, `alt-x`, `f5`, ...
    pub fn parse(s: &str) -> Result<KeySpec, String> {
        parse(s)
    }

    /// True when `ev` is a press (or repeat) of this key. Uppercase letters
    /// match with or without SHIFT reported; SHIFT on other characters (`?`,
    /// `:`) is ignored, as terminals differ in reporting it.
    pub fn matches(&self, ev: &KeyEvent) -> bool {
        if ev.kind == KeyEventKind::Release {
            return false;
        }
        let pressed = normalise(ev.code, ev.modifiers);
        pressed.code == self.code && (pressed.mods & COMPARED) == (self.mods & COMPARED) && {
            // SHIFT only matters on keys it does not fold into.
            let shift_matters = !matches!(self.code, KeyCode::Char(_) | KeyCode::BackTab);
            !shift_matters
                || pressed.mods.contains(KeyModifiers::SHIFT)
                    == self.mods.contains(KeyModifiers::SHIFT)
        }
    }
}

/// Folds SHIFT into the key where terminals do (`shift-j` is `J`, `shift-tab`
/// is BackTab) and lowercases letters under CONTROL.
fn normalise(code: KeyCode, mods: KeyModifiers) -> KeySpec {
    let shift = mods.contains(KeyModifiers::SHIFT);
    let ctrl = mods.contains(KeyModifiers::CONTROL);
    match code {
        KeyCode::Char(c) => {
            let c = if ctrl && c.is_ascii_alphabetic() {
                c.to_ascii_lowercase()
            } else if shift && c.is_lowercase() {
                c.to_uppercase().next().unwrap_or(c)
            } else {
                c
            };
            KeySpec {
                code: KeyCode::Char(c),
                mods: mods - KeyModifiers::SHIFT,
            }
        }
        KeyCode::Tab if shift => KeySpec {
            code: KeyCode::BackTab,
            mods: mods - KeyModifiers::SHIFT,
        },
        KeyCode::BackTab => KeySpec {
            code: KeyCode::BackTab,
            mods: mods - KeyModifiers::SHIFT,
        },
        _ => KeySpec { code, mods },
    }
}

/// Parses a key specification (see the module doc for the grammar).
pub fn parse(s: &str) -> Result<KeySpec, String> {
    let original = s;
    let s = s.trim();
    if s.is_empty() {
        return Err("empty key".to_string());
    }
    let mut mods = KeyModifiers::NONE;
    let mut rest = s;
    loop {
        // A single remaining character is the key itself, even `-` or `s`.
        if rest.chars().count() <= 1 {
            break;
        }
        let lower = rest.to_ascii_lowercase();
        let prefix = [
            ("ctrl-", KeyModifiers::CONTROL),
            ("control-", KeyModifiers::CONTROL),
            ("c-", KeyModifiers::CONTROL),
            ("alt-", KeyModifiers::ALT),
            ("meta-", KeyModifiers::ALT),
            ("m-", KeyModifiers::ALT),
            ("shift-", KeyModifiers::SHIFT),
            ("s-", KeyModifiers::SHIFT),
        ]
        .into_iter()
        .find(|(p, _)| lower.starts_with(p) && rest.len() > p.len());
        match prefix {
            Some((p, m)) => {
                mods |= m;
                rest = &rest[p.len()..];
            }
            None => break,
        }
    }
    let mut chars = rest.chars();
    let code = match (chars.next(), chars.next()) {
        (Some(c), None) if !c.is_control() && !matches!(c, '↑' | '↓' | '←' | '→') => {
            KeyCode::Char(c)
        }
        _ => named(&rest.to_ascii_lowercase()).ok_or_else(|| {
            format!(
                "unknown key {original:?} (expected a character like \"j\" or \"?\", a name like \
                 \"enter\", \"esc\", \"space\", \"tab\", \"up\", \"pgdn\", \"home\", \"f5\", \
                 optionally after \"ctrl-\", \"alt-\" or \"shift-\")"
            )
        })?,
    };
    Ok(normalise(code, mods))
}

fn named(name: &str) -> Option<KeyCode> {
    Some(match name {
        "space" | "spc" => KeyCode::Char(' '),
        "minus" => KeyCode::Char('-'),
        "enter" | "return" | "ret" | "cr" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "up" | "↑" => KeyCode::Up,
        "down" | "↓" => KeyCode::Down,
        "left" | "←" => KeyCode::Left,
        "right" | "→" => KeyCode::Right,
        "pgup" | "pageup" | "page-up" | "page_up" => KeyCode::PageUp,
        "pgdn" | "pgdown" | "pagedown" | "page-down" | "page_down" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "insert" | "ins" => KeyCode::Insert,
        "delete" | "del" => KeyCode::Delete,
        "backspace" | "bksp" | "bs" => KeyCode::Backspace,
        _ => {
            let n: u8 = name.strip_prefix('f')?.parse().ok()?;
            if (1..=12).contains(&n) {
                KeyCode::F(n)
            } else {
                return None;
            }
        }
    })
}

impl FromStr for KeySpec {
    type Err = String;

    fn from_str(s: &str) -> Result<KeySpec, String> {
        parse(s)
    }
}

impl fmt::Display for KeySpec {
    /// The short form used in help and hints: `j`, `Space`, `Enter`, `Esc`,
    /// `Tab`, `S-Tab`, `↑`, `PgUp`, `C-c`, `M-x`, `F5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("C-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("M-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) || self.code == KeyCode::BackTab {
            f.write_str("S-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab | KeyCode::BackTab => f.write_str("Tab"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::Insert => f.write_str("Ins"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Backspace => f.write_str("Bksp"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventState;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    fn p(s: &str) -> KeySpec {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_every_documented_form() {
        let cases: &[(&str, KeyCode, KeyModifiers)] = &[
            ("j", KeyCode::Char('j'), KeyModifiers::NONE),
            ("J", KeyCode::Char('J'), KeyModifiers::NONE),
            ("G", KeyCode::Char('G'), KeyModifiers::NONE),
            ("?", KeyCode::Char('?'), KeyModifiers::NONE),
            ("/", KeyCode::Char('/'), KeyModifiers::NONE),
            ("-", KeyCode::Char('-'), KeyModifiers::NONE),
            ("s", KeyCode::Char('s'), KeyModifiers::NONE),
            ("space", KeyCode::Char(' '), KeyModifiers::NONE),
            ("enter", KeyCode::Enter, KeyModifiers::NONE),
            ("Enter", KeyCode::Enter, KeyModifiers::NONE),
            ("esc", KeyCode::Esc, KeyModifiers::NONE),
            ("tab", KeyCode::Tab, KeyModifiers::NONE),
            ("shift-tab", KeyCode::BackTab, KeyModifiers::NONE),
            ("S-Tab", KeyCode::BackTab, KeyModifiers::NONE),
            ("up", KeyCode::Up, KeyModifiers::NONE),
            ("down", KeyCode::Down, KeyModifiers::NONE),
            ("left", KeyCode::Left, KeyModifiers::NONE),
            ("right", KeyCode::Right, KeyModifiers::NONE),
            ("↑", KeyCode::Up, KeyModifiers::NONE),
            ("pgup", KeyCode::PageUp, KeyModifiers::NONE),
            ("pgdn", KeyCode::PageDown, KeyModifiers::NONE),
            ("home", KeyCode::Home, KeyModifiers::NONE),
            ("end", KeyCode::End, KeyModifiers::NONE),
            ("ctrl-c", KeyCode::Char('c'), KeyModifiers::CONTROL),
            ("C-c", KeyCode::Char('c'), KeyModifiers::CONTROL),
            ("ctrl-C", KeyCode::Char('c'), KeyModifiers::CONTROL),
            ("alt-x", KeyCode::Char('x'), KeyModifiers::ALT),
            ("M-x", KeyCode::Char('x'), KeyModifiers::ALT),
            (
                "ctrl-alt-x",
                KeyCode::Char('x'),
                KeyModifiers::CONTROL.union(KeyModifiers::ALT),
            ),
            ("ctrl--", KeyCode::Char('-'), KeyModifiers::CONTROL),
            ("shift-j", KeyCode::Char('J'), KeyModifiers::NONE),
            ("shift-up", KeyCode::Up, KeyModifiers::SHIFT),
            ("f1", KeyCode::F(1), KeyModifiers::NONE),
            ("F12", KeyCode::F(12), KeyModifiers::NONE),
            ("backspace", KeyCode::Backspace, KeyModifiers::NONE),
            ("delete", KeyCode::Delete, KeyModifiers::NONE),
            ("ctrl-space", KeyCode::Char(' '), KeyModifiers::CONTROL),
        ];
        for (s, code, mods) in cases {
            assert_eq!(
                p(s),
                KeySpec {
                    code: *code,
                    mods: *mods
                },
                "{s}"
            );
        }
    }

    #[test]
    fn rejects_nonsense() {
        for s in [
            "", "  ", "f13", "f0", "ctrl-", "hyper-x", "enterr", "\x07", "jj",
        ] {
            let e = parse(s).expect_err(s);
            if s.trim().is_empty() {
                assert_eq!(e, "empty key");
            } else {
                assert!(e.starts_with(&format!("unknown key {s:?} (")), "{e}");
            }
        }
        let e = parse("enterr").expect_err("bad");
        assert!(e.contains("\"enterr\"") && e.contains("ctrl-"), "{e}");
    }

    #[test]
    fn display_is_the_short_form() {
        let cases = [
            ("j", "j"),
            ("J", "J"),
            ("space", "Space"),
            ("enter", "Enter"),
            ("esc", "Esc"),
            ("tab", "Tab"),
            ("shift-tab", "S-Tab"),
            ("up", "↑"),
            ("down", "↓"),
            ("pgup", "PgUp"),
            ("pgdn", "PgDn"),
            ("ctrl-c", "C-c"),
            ("alt-x", "M-x"),
            ("f5", "F5"),
            ("shift-up", "S-↑"),
            ("backspace", "Bksp"),
            ("delete", "Del"),
        ];
        for (s, shown) in cases {
            assert_eq!(p(s).to_string(), shown, "{s}");
        }
    }

    #[test]
    fn display_parses_back() {
        for s in [
            "j",
            "J",
            "?",
            "-",
            "space",
            "enter",
            "esc",
            "tab",
            "shift-tab",
            "up",
            "down",
            "left",
            "right",
            "pgup",
            "pgdn",
            "home",
            "end",
            "ctrl-c",
            "alt-x",
            "ctrl-alt-x",
            "f1",
            "f12",
            "backspace",
            "delete",
            "insert",
            "shift-up",
            "ctrl-space",
            "ctrl--",
        ] {
            let k = p(s);
            assert_eq!(p(&k.to_string()), k, "{s} -> {k}");
        }
    }

    #[test]
    fn uppercase_matches_with_or_without_shift() {
        let g = p("G");
        assert!(g.matches(&ev(KeyCode::Char('G'), KeyModifiers::NONE)));
        assert!(g.matches(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)));
        assert!(g.matches(&ev(KeyCode::Char('g'), KeyModifiers::SHIFT)));
        assert!(!g.matches(&ev(KeyCode::Char('g'), KeyModifiers::NONE)));
        let lower = p("g");
        assert!(lower.matches(&ev(KeyCode::Char('g'), KeyModifiers::NONE)));
        assert!(!lower.matches(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)));
        assert!(!lower.matches(&ev(KeyCode::Char('G'), KeyModifiers::NONE)));
    }

    #[test]
    fn shifted_symbols_match_either_way() {
        let q = p("?");
        assert!(q.matches(&ev(KeyCode::Char('?'), KeyModifiers::NONE)));
        assert!(q.matches(&ev(KeyCode::Char('?'), KeyModifiers::SHIFT)));
    }

    #[test]
    fn modifiers_must_agree() {
        let cc = p("ctrl-c");
        assert!(cc.matches(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)));
        assert!(!cc.matches(&ev(KeyCode::Char('c'), KeyModifiers::NONE)));
        assert!(!cc.matches(&ev(
            KeyCode::Char('c'),
            KeyModifiers::CONTROL | KeyModifiers::ALT
        )));
        assert!(!p("c").matches(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)));
        assert!(p("alt-x").matches(&ev(KeyCode::Char('x'), KeyModifiers::ALT)));
        assert!(!p("up").matches(&ev(KeyCode::Up, KeyModifiers::SHIFT)));
        assert!(p("shift-up").matches(&ev(KeyCode::Up, KeyModifiers::SHIFT)));
        assert!(p("enter").matches(&ev(KeyCode::Enter, KeyModifiers::NONE)));
        assert!(!p("enter").matches(&ev(KeyCode::Esc, KeyModifiers::NONE)));
    }

    #[test]
    fn backtab_in_all_its_reported_forms() {
        let st = p("shift-tab");
        assert!(st.matches(&ev(KeyCode::BackTab, KeyModifiers::SHIFT)));
        assert!(st.matches(&ev(KeyCode::BackTab, KeyModifiers::NONE)));
        assert!(st.matches(&ev(KeyCode::Tab, KeyModifiers::SHIFT)));
        assert!(!st.matches(&ev(KeyCode::Tab, KeyModifiers::NONE)));
        assert!(!p("tab").matches(&ev(KeyCode::BackTab, KeyModifiers::SHIFT)));
    }

    #[test]
    fn releases_do_not_match() {
        let j = p("j");
        let release = KeyEvent {
            code: KeyCode::Char('j'),
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Release,
            state: KeyEventState::NONE,
        };
        assert!(!j.matches(&release));
        let repeat = KeyEvent {
            kind: KeyEventKind::Repeat,
            ..release
        };
        assert!(j.matches(&repeat));
    }

    #[test]
    fn from_str_and_new_agree_with_parse() {
        assert_eq!("ctrl-c".parse::<KeySpec>(), Ok(p("ctrl-c")));
        assert_eq!(
            KeySpec::new(KeyCode::Char('j'), KeyModifiers::SHIFT),
            p("J")
        );
        assert_eq!(KeySpec::plain(KeyCode::Enter), p("enter"));
    }
}
