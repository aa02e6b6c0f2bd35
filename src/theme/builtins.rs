//! The built-in themes (`themes/*.toml` at the repository top), compiled in.

use super::Theme;
use super::parse::parse_file;

pub(super) const BUILTINS: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

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
