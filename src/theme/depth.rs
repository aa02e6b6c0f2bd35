//! Colour depth: what the terminal can show, detected from the environment,
//! and [`Theme::degrade`], which maps a theme's colours to it.

use ratatui::style::{Color, Modifier, Style};

use super::Theme;

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

    /// This depth, at most what `[ui] colors` allows.
    pub fn capped(self, colors: crate::config::Colors) -> ColorDepth {
        use crate::config::Colors;
        let cap = match colors {
            Colors::Auto | Colors::TrueColor => return self,
            Colors::C256 => ColorDepth::Ansi256,
            Colors::C16 => ColorDepth::Ansi16,
            Colors::None => ColorDepth::Mono,
        };
        // The enum runs from the most colours to the fewest.
        if (cap as u8) > (self as u8) {
            cap
        } else {
            self
        }
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
pub(super) fn nearest_256(rgb: (u8, u8, u8)) -> u8 {
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

pub(super) fn nearest_16(rgb: (u8, u8, u8)) -> Color {
    ANSI16
        .iter()
        .min_by_key(|(_, c)| distance(rgb, *c))
        .map_or(Color::Reset, |(c, _)| *c)
}

pub(super) fn degrade_color(c: Color, depth: ColorDepth) -> Option<Color> {
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
    pub(super) fn ensure_readable(mut self) -> Theme {
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
}
