//! Themes: named styles for every part of the inbox, read from TOML.
//!
//! The built-in themes (`themes/*.toml` at the repository top) are compiled
//! in. A user theme lives in `$XDG_CONFIG_HOME/leadx/themes/NAME.toml`; it
//! may say `extends = "default"` (or another theme) and then give only the
//! slots it changes. A slot given in a theme replaces the base's slot as a
//! whole. Each slot is a table:
//!
//! ```toml
//! cursor_row = { fg = "#d8dee9", bg = "#3b4252", bold = true }
//! marked_row = { fg = "yellow", underlined = true }
//! dim = { fg = 244 }
//! ```
//!
//! `fg`/`bg` take `"#rrggbb"`, a colour name (`black`, `red`, `green`,
//! `yellow`, `blue`, `magenta`, `cyan`, `gray`, `dark_gray`, `light_red`,
//! `light_green`, `light_yellow`, `light_blue`, `light_magenta`,
//! `light_cyan`, `white`, `reset`) or an xterm index 0..255; the modifiers
//! are `bold`, `italic`, `underlined`, `reversed`, `dim` (booleans).
//!
//! Colour depth is detected from the environment ([`ColorDepth::detect`]) and
//! [`Theme::degrade`] maps colours to what the terminal can show. Readability
//! never rests on colour alone: whatever the theme says, the cursor row is
//! reversed or bold and marked rows are bold or underlined at every depth,
//! and a highlight whose background is lost becomes reversed video.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};

const BUILTINS: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// How deep an `extends` chain may go.
const MAX_EXTENDS: usize = 8;

macro_rules! theme_slots {
    ($($(#[doc = $doc:literal])* $slot:ident,)*) => {
        /// Every style the views use, by purpose.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Theme {
            /// The theme's name (`default`, `light`, a user theme's file stem).
            pub name: String,
            $($(#[doc = $doc])* pub $slot: Style,)*
        }

        /// The slot names, as theme files spell them.
        pub const SLOTS: &[&str] = &[$(stringify!($slot),)*];

        impl Theme {
            /// A theme with every slot unstyled.
            fn blank(name: &str) -> Theme {
                Theme { name: name.to_string(), $($slot: Style::new(),)* }
            }

            fn slot_mut(&mut self, slot: &str) -> Option<&mut Style> {
                match slot {
                    $(stringify!($slot) => Some(&mut self.$slot),)*
                    _ => None,
                }
            }

            /// Every slot with its name.
            pub fn slots(&self) -> Vec<(&'static str, Style)> {
                vec![$((stringify!($slot), self.$slot),)*]
            }

            fn map_slots(mut self, f: impl Fn(&str, Style) -> Style) -> Theme {
                $(self.$slot = f(stringify!($slot), self.$slot);)*
                self
            }
        }
    };
}

theme_slots! {
    /// Ordinary text.
    text,
    /// Secondary text (ages, ids, hints of lesser importance).
    dim,
    /// The header line (partner, user, role, server).
    header,
    /// An inactive pane's title.
    pane_title,
    /// The focused pane's title.
    pane_title_active,
    /// Table column headings.
    table_header,
    /// The row under the cursor (patched over the row's own style).
    cursor_row,
    /// A marked (selected) row.
    marked_row,
    /// Status `pending`.
    status_pending,
    /// Status `accepted`.
    status_accepted,
    /// Status `won`.
    status_won,
    /// Status `lost`.
    status_lost,
    /// Statuses `rejected`, `forwarded`, `withdrawn`, `expired`.
    status_closed,
    /// Plenty of time before expiry.
    deadline_ok,
    /// Expiry approaching.
    deadline_soon,
    /// Expiry imminent.
    deadline_urgent,
    /// Labels in the detail pane.
    detail_label,
    /// The status bar.
    status_bar,
    /// `● live`.
    conn_live,
    /// `◌ reconnecting`.
    conn_reconnecting,
    /// `✕ offline`.
    conn_offline,
    /// A key in the hint line or help.
    hint_key,
    /// A key's description in the hint line or help.
    hint_text,
    /// Popup borders.
    popup_border,
    /// Popup titles.
    popup_title,
    /// Error messages.
    error,
    /// Success messages.
    success,
    /// A row or count of actions still in flight.
    in_flight,
    /// Sanitizer placeholders (`␛`, `�`, control pictures) inside lead text.
    placeholder,
}

/// How many colours the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColorDepth {
    /// 24-bit RGB.
    TrueColor,
    /// The xterm 256-colour palette.
    Ansi256,
    /// The 16 ANSI colours.
    Ansi16,
    /// No colour at all (modifiers only).
    Mono,
}

impl ColorDepth {
    /// Detects the depth from the environment: `NO_COLOR` set and non-empty
    /// or `TERM=dumb` → Mono; `COLORTERM` `truecolor`/`24bit` → TrueColor;
    /// `TERM` containing `256color` → Ansi256; else Ansi16.
    pub fn detect(env: &dyn Fn(&str) -> Option<String>) -> ColorDepth {
        detect(env)
    }
}

/// Detects the colour depth (see [`ColorDepth::detect`]). `TERM=dumb` wins
/// over `COLORTERM`: a dumb terminal shows no escape sequences at all.
pub fn detect(env: &dyn Fn(&str) -> Option<String>) -> ColorDepth {
    if env("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return ColorDepth::Mono;
    }
    let term = env("TERM").unwrap_or_default();
    if term == "dumb" {
        return ColorDepth::Mono;
    }
    let colorterm = env("COLORTERM").unwrap_or_default().to_ascii_lowercase();
    if colorterm == "truecolor" || colorterm == "24bit" {
        return ColorDepth::TrueColor;
    }
    if term.contains("256color") {
        return ColorDepth::Ansi256;
    }
    ColorDepth::Ansi16
}

/// The names of the built-in themes.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTINS.iter().map(|(n, _)| *n).collect()
}

/// A built-in theme at full colour, or None if there is no such theme.
pub fn builtin(name: &str) -> Option<Theme> {
    let (n, text) = BUILTINS.iter().find(|(n, _)| *n == name)?;
    let file = parse_file(text, &format!("built-in theme '{n}'")).ok()?;
    let mut theme = Theme::blank(n);
    file.apply_complete(&mut theme, &format!("built-in theme '{n}'"))
        .ok()?;
    Some(theme)
}

/// Loads theme `name`: a user theme file `user_dir/NAME.toml` if there is
/// one (which may extend another theme), else a built-in one; then degrades
/// it to `depth`. An unknown name gives a message listing the available ones.
pub fn load(name: &str, user_dir: Option<&Path>, depth: ColorDepth) -> Result<Theme, String> {
    let theme = resolve(name, user_dir, &mut Vec::new())?;
    Ok(theme.degrade(depth))
}

/// Loads theme `name` for this process: user themes from
/// `$XDG_CONFIG_HOME/leadx/themes`, colour depth detected from `NO_COLOR`,
/// `COLORTERM` and `TERM`.
pub fn load_from_env(name: &str) -> Result<Theme, String> {
    let env = crate::config::process_env();
    let depth = detect(&|k| env.get(k).cloned());
    load(name, crate::config::user_theme_dir(&env).as_deref(), depth)
}

/// The theme names available: the built-in ones and the user's.
pub fn available(user_dir: Option<&Path>) -> Vec<String> {
    let mut names: BTreeSet<String> = builtin_names().into_iter().map(String::from).collect();
    if let Some(dir) = user_dir
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "toml")
                && let Some(stem) = p.file_stem().and_then(|s| s.to_str())
                && valid_name(stem)
            {
                names.insert(stem.to_string());
            }
        }
    }
    names.into_iter().collect()
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn user_file(name: &str, user_dir: Option<&Path>) -> Option<PathBuf> {
    let p = user_dir?.join(format!("{name}.toml"));
    p.is_file().then_some(p)
}

/// `chain` holds the user themes being resolved, to catch cycles.
fn resolve(name: &str, user_dir: Option<&Path>, chain: &mut Vec<String>) -> Result<Theme, String> {
    if !valid_name(name) {
        return Err(format!(
            "theme name {name:?} is not valid (letters, digits, '-' and '_' only); available: {}",
            available(user_dir).join(", ")
        ));
    }
    // A user theme named like a built-in one overrides it, but one that
    // extends its own name extends the built-in.
    let user = if chain.iter().any(|n| n == name) {
        None
    } else {
        user_file(name, user_dir)
    };
    let Some(path) = user else {
        return builtin(name).ok_or_else(|| {
            let mut msg = format!(
                "unknown theme '{name}'; available: {}",
                available(user_dir).join(", ")
            );
            if let Some(s) =
                crate::suggest::closest(name, available(user_dir).iter().map(String::as_str))
            {
                msg.push_str(&format!(" (did you mean '{s}'?)"));
            }
            msg
        });
    };
    if chain.len() >= MAX_EXTENDS {
        return Err(format!(
            "theme '{name}': 'extends' chain longer than {MAX_EXTENDS}: {}",
            chain.join(" → ")
        ));
    }
    let origin = format!("theme file {}", path.display());
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{origin}: cannot read: {e}"))?;
    let file = parse_file(&text, &origin)?;
    match &file.extends {
        Some(base) => {
            chain.push(name.to_string());
            let mut theme = resolve(base, user_dir, chain)
                .map_err(|e| format!("{origin}: key 'extends': {e}"))?;
            chain.pop();
            theme.name = name.to_string();
            file.apply(&mut theme);
            Ok(theme)
        }
        None => {
            let mut theme = Theme::blank(name);
            file.apply_complete(&mut theme, &origin)?;
            Ok(theme)
        }
    }
}

/// A parsed theme file.
struct ThemeFile {
    extends: Option<String>,
    slots: Vec<(String, Style)>,
}

impl ThemeFile {
    fn apply(&self, theme: &mut Theme) {
        for (slot, style) in &self.slots {
            if let Some(s) = theme.slot_mut(slot) {
                *s = *style;
            }
        }
    }

    /// Applies a theme that extends nothing, so must give every slot.
    fn apply_complete(&self, theme: &mut Theme, origin: &str) -> Result<(), String> {
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

fn parse_file(text: &str, origin: &str) -> Result<ThemeFile, String> {
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

/// The 16 ANSI colours with their xterm default RGB values.
const ANSI16: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0, 0, 0)),
    (Color::Red, (205, 0, 0)),
    (Color::Green, (0, 205, 0)),
    (Color::Yellow, (205, 205, 0)),
    (Color::Blue, (0, 0, 238)),
    (Color::Magenta, (205, 0, 205)),
    (Color::Cyan, (0, 205, 205)),
    (Color::Gray, (229, 229, 229)),
    (Color::DarkGray, (127, 127, 127)),
    (Color::LightRed, (255, 0, 0)),
    (Color::LightGreen, (0, 255, 0)),
    (Color::LightYellow, (255, 255, 0)),
    (Color::LightBlue, (92, 92, 255)),
    (Color::LightMagenta, (255, 0, 255)),
    (Color::LightCyan, (0, 255, 255)),
    (Color::White, (255, 255, 255)),
];

const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// Perceptual-ish distance ("redmean").
fn distance(a: (u8, u8, u8), b: (u8, u8, u8)) -> u32 {
    let rm = (u32::from(a.0) + u32::from(b.0)) / 2;
    let dr = i64::from(a.0) - i64::from(b.0);
    let dg = i64::from(a.1) - i64::from(b.1);
    let db = i64::from(a.2) - i64::from(b.2);
    let rm = i64::from(rm);
    let d = (((512 + rm) * dr * dr) >> 8) + 4 * dg * dg + (((767 - rm) * db * db) >> 8);
    u32::try_from(d).unwrap_or(u32::MAX)
}

/// RGB of an xterm palette index.
fn index_rgb(i: u8) -> (u8, u8, u8) {
    match i {
        0..=15 => ANSI16[usize::from(i)].1,
        16..=231 => {
            let i = i - 16;
            (
                CUBE[usize::from(i / 36)],
                CUBE[usize::from(i / 6 % 6)],
                CUBE[usize::from(i % 6)],
            )
        }
        _ => {
            let v = 8 + 10 * (i - 232);
            (v, v, v)
        }
    }
}

/// The nearest xterm-256 index among 16..255 (the fixed part of the palette).
fn nearest_256(rgb: (u8, u8, u8)) -> u8 {
    let level = |v: u8| -> usize {
        CUBE.iter()
            .enumerate()
            .min_by_key(|(_, c)| (i32::from(**c) - i32::from(v)).abs())
            .map_or(0, |(i, _)| i)
    };
    let cube = 16 + 36 * level(rgb.0) + 6 * level(rgb.1) + level(rgb.2);
    let cube = cube as u8;
    let avg = (u32::from(rgb.0) + u32::from(rgb.1) + u32::from(rgb.2)) / 3;
    let gray_step = (avg.saturating_sub(3) / 10).min(23) as u8;
    let gray = 232 + gray_step;
    if distance(rgb, index_rgb(gray)) < distance(rgb, index_rgb(cube)) {
        gray
    } else {
        cube
    }
}

fn nearest_16(rgb: (u8, u8, u8)) -> Color {
    ANSI16
        .iter()
        .min_by_key(|(_, c)| distance(rgb, *c))
        .map_or(Color::Reset, |(c, _)| *c)
}

fn degrade_color(c: Color, depth: ColorDepth) -> Option<Color> {
    match (depth, c) {
        (ColorDepth::Mono, _) => None,
        (ColorDepth::TrueColor, c) => Some(c),
        (ColorDepth::Ansi256, Color::Rgb(r, g, b)) => Some(Color::Indexed(nearest_256((r, g, b)))),
        (ColorDepth::Ansi256, c) => Some(c),
        (ColorDepth::Ansi16, Color::Rgb(r, g, b)) => Some(nearest_16((r, g, b))),
        (ColorDepth::Ansi16, Color::Indexed(i)) => Some(if i < 16 {
            ANSI16[usize::from(i)].0
        } else {
            nearest_16(index_rgb(i))
        }),
        (ColorDepth::Ansi16, c) => Some(c),
    }
}

/// Slots whose background is their whole point: when the background is
/// lost, they turn to reversed video instead.
const HIGHLIGHTS: &[&str] = &["cursor_row", "header", "status_bar"];

impl Default for Theme {
    /// The built-in `default` theme at full colour.
    fn default() -> Self {
        builtin("default").unwrap_or_else(|| Theme::blank("default").ensure_readable())
    }
}

impl Theme {
    /// This theme mapped to what a terminal of `depth` can show: RGB to the
    /// nearest xterm-256 or 16-colour entry; in Mono every colour dropped,
    /// modifiers kept. At every depth the cursor row stays reversed or bold
    /// and marked rows bold or underlined.
    pub fn degrade(self, depth: ColorDepth) -> Theme {
        let theme = self.map_slots(|slot, s| {
            let mut out = Style::new();
            out.add_modifier = s.add_modifier;
            out.sub_modifier = s.sub_modifier;
            out.fg = s.fg.and_then(|c| degrade_color(c, depth));
            out.bg = s.bg.and_then(|c| degrade_color(c, depth));
            let had_bg = s.bg.is_some_and(|c| c != Color::Reset);
            let bg_lost = match depth {
                ColorDepth::Mono => had_bg,
                // On a dark terminal, black is no highlight at all.
                ColorDepth::Ansi16 => {
                    had_bg && out.bg == Some(Color::Black) && HIGHLIGHTS.contains(&slot)
                }
                _ => false,
            };
            if bg_lost {
                out.bg = None;
                out.add_modifier |= Modifier::REVERSED;
            }
            out
        });
        theme.ensure_readable()
    }

    /// Adds the modifiers that keep the cursor and marked rows visible
    /// without colour, when a theme did not give them.
    fn ensure_readable(mut self) -> Theme {
        if !self
            .cursor_row
            .add_modifier
            .intersects(Modifier::REVERSED | Modifier::BOLD)
        {
            self.cursor_row.add_modifier |= Modifier::REVERSED;
        }
        if !self
            .marked_row
            .add_modifier
            .intersects(Modifier::BOLD | Modifier::UNDERLINED)
        {
            self.marked_row.add_modifier |= Modifier::BOLD;
        }
        self
    }

    /// The style of a referral status.
    pub fn status(&self, status: crate::wire::Status) -> Style {
        use crate::wire::Status::*;
        match status {
            Pending => self.status_pending,
            Accepted => self.status_accepted,
            Won => self.status_won,
            Lost => self.status_lost,
            Rejected | Forwarded | Withdrawn | Expired => self.status_closed,
        }
    }
}

#[cfg(test)]
mod tests;
