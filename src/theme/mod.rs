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
//!
//! - `builtins.rs`: the built-in themes compiled in;
//! - `load.rs`: finding a theme by name (user file or built-in) and
//!   following its `extends` chain;
//! - `parse.rs`: reading a theme file (slots, styles, colours);
//! - `depth.rs`: colour depth, its detection, and degrading a theme to it.

use ratatui::style::Style;

mod builtins;
mod depth;
mod load;
mod parse;

pub use builtins::{builtin, builtin_names};
pub use depth::{ColorDepth, detect};
pub use load::{available, load, load_from_env};

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

impl Default for Theme {
    /// The built-in `default` theme at full colour.
    fn default() -> Self {
        builtin("default").unwrap_or_else(|| Theme::blank("default").ensure_readable())
    }
}

impl Theme {
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
