//! Finding a theme by name: a user theme file if there is one (following
//! its `extends` chain), else a built-in one.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::parse::parse_file;
use super::{ColorDepth, Theme, builtin, builtin_names, detect};

/// How deep an `extends` chain may go.
const MAX_EXTENDS: usize = 8;

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
