//! Reading a theme file: its `extends`, and each slot's style and colours.

use std::collections::BTreeSet;

use ratatui::style::{Color, Modifier, Style};

use super::{SLOTS, Theme};

/// A parsed theme file.
pub(super) struct ThemeFile {
    pub(super) extends: Option<String>,
    pub(super) slots: Vec<(String, Style)>,
}

impl ThemeFile {
    pub(super) fn apply(&self, theme: &mut Theme) {
        for (slot, style) in &self.slots {
            if let Some(s) = theme.slot_mut(slot) {
                *s = *style;
            }
        }
    }

    /// Applies a theme that extends nothing, so must give every slot.
    pub(super) fn apply_complete(&self, theme: &mut Theme, origin: &str) -> Result<(), String> {
        let given: BTreeSet<&str> = self.slots.iter().map(|(s, _)| s.as_str()).collect();
        let missing: Vec<&str> = SLOTS
            .iter()
            .copied()
            .filter(|s| !given.contains(s))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "{origin}: missing slots {}; give them, or add `extends = \"default\"` to inherit the rest",
                missing.join(", ")
            ));
        }
        self.apply(theme);
        Ok(())
    }
}

pub(super) fn parse_file(text: &str, origin: &str) -> Result<ThemeFile, String> {
    let table: toml::Table =
        toml::from_str(text).map_err(|e| format!("{origin}: not valid TOML: {e}"))?;
    let mut file = ThemeFile {
        extends: None,
        slots: Vec::new(),
    };
    for (key, value) in table {
        match key.as_str() {
            "name" => {
                value
                    .as_str()
                    .ok_or_else(|| format!("{origin}: key 'name': expected a string"))?;
            }
            "extends" => {
                let base = value.as_str().ok_or_else(|| {
                    format!("{origin}: key 'extends': expected a theme name (a string)")
                })?;
                file.extends = Some(base.to_string());
            }
            slot if SLOTS.contains(&slot) => {
                let style =
                    parse_style(&value).map_err(|e| format!("{origin}: slot '{slot}': {e}"))?;
                file.slots.push((key, style));
            }
            other => {
                let mut msg = format!("{origin}: unknown key '{other}'");
                if let Some(s) =
                    crate::suggest::closest(other, SLOTS.iter().copied().chain(["name", "extends"]))
                {
                    msg.push_str(&format!(" (did you mean '{s}'?)"));
                }
                return Err(msg);
            }
        }
    }
    Ok(file)
}

fn parse_style(value: &toml::Value) -> Result<Style, String> {
    let table = value.as_table().ok_or_else(|| {
        format!("expected a table like {{ fg = \"#c0c0c0\", bold = true }}, found {value}")
    })?;
    let mut style = Style::new();
    for (attr, v) in table {
        match attr.as_str() {
            "fg" => style.fg = parse_color(v).map_err(|e| format!("attribute 'fg': {e}"))?,
            "bg" => style.bg = parse_color(v).map_err(|e| format!("attribute 'bg': {e}"))?,
            "bold" | "italic" | "underlined" | "reversed" | "dim" => {
                let on = v.as_bool().ok_or_else(|| {
                    format!("attribute '{attr}': expected true or false, found {v}")
                })?;
                let m = match attr.as_str() {
                    "bold" => Modifier::BOLD,
                    "italic" => Modifier::ITALIC,
                    "underlined" => Modifier::UNDERLINED,
                    "reversed" => Modifier::REVERSED,
                    _ => Modifier::DIM,
                };
                if on {
                    style.add_modifier |= m;
                } else {
                    style.add_modifier -= m;
                }
            }
            other => {
                let mut msg = format!("unknown attribute '{other}'");
                if let Some(s) = crate::suggest::closest(
                    other,
                    [
                        "fg",
                        "bg",
                        "bold",
                        "italic",
                        "underlined",
                        "reversed",
                        "dim",
                    ],
                ) {
                    msg.push_str(&format!(" (did you mean '{s}'?)"));
                }
                return Err(msg);
            }
        }
    }
    Ok(style)
}

const COLOR_EXPECTED: &str =
    "expected a colour (\"#rrggbb\", a name like \"red\" or \"dark_gray\", \"reset\", or 0..255)";

/// `Ok(None)` for `"none"`: no colour, the terminal's own.
fn parse_color(v: &toml::Value) -> Result<Option<Color>, String> {
    if let Some(n) = v.as_integer() {
        return u8::try_from(n)
            .map(|n| Some(Color::Indexed(n)))
            .map_err(|_| format!("{COLOR_EXPECTED}, found {n}"));
    }
    let s = v
        .as_str()
        .ok_or_else(|| format!("{COLOR_EXPECTED}, found {v}"))?;
    if let Some(hex) = s.strip_prefix('#') {
        if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            let n = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
            return Ok(Some(Color::Rgb((n >> 16) as u8, (n >> 8) as u8, n as u8)));
        }
        return Err(format!("{COLOR_EXPECTED}, found {s:?}"));
    }
    let c = match s.to_ascii_lowercase().replace(['-', ' '], "_").as_str() {
        "none" => return Ok(None),
        "reset" | "default" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "grey" => Color::Gray,
        "dark_gray" | "dark_grey" | "darkgray" | "darkgrey" | "bright_black" => Color::DarkGray,
        "light_red" | "bright_red" => Color::LightRed,
        "light_green" | "bright_green" => Color::LightGreen,
        "light_yellow" | "bright_yellow" => Color::LightYellow,
        "light_blue" | "bright_blue" => Color::LightBlue,
        "light_magenta" | "bright_magenta" => Color::LightMagenta,
        "light_cyan" | "bright_cyan" => Color::LightCyan,
        "white" | "bright_white" => Color::White,
        _ => return Err(format!("{COLOR_EXPECTED}, found {s:?}")),
    };
    Ok(Some(c))
}
