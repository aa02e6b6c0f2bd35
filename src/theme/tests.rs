//! Tests of theme loading, validation and color depth.

use ratatui::style::{Color, Modifier, Style};

use super::builtins::BUILTINS;
use super::depth::{degrade_color, nearest_16, nearest_256};
use super::parse::parse_file;
use super::*;

fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |k| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

fn has_colour(t: &Theme) -> bool {
    t.slots()
        .iter()
        .any(|(_, s)| s.fg.is_some() || s.bg.is_some())
}

fn readable(t: &Theme) {
    assert!(
        t.cursor_row
            .add_modifier
            .intersects(Modifier::REVERSED | Modifier::BOLD),
        "{}: cursor row",
        t.name
    );
    assert!(
        t.marked_row
            .add_modifier
            .intersects(Modifier::BOLD | Modifier::UNDERLINED),
        "{}: marked row",
        t.name
    );
}

#[test]
fn every_builtin_parses_complete_and_readable() {
    assert_eq!(
        builtin_names(),
        vec!["default", "light", "high-contrast", "mono"]
    );
    for name in builtin_names() {
        let t = builtin(name).unwrap_or_else(|| panic!("{name} does not parse"));
        assert_eq!(t.name, name);
        // The file itself is readable without the safety net.
        readable(&t);
        assert_eq!(
            t.clone().ensure_readable(),
            t,
            "{name} relies on ensure_readable"
        );
        for depth in [
            ColorDepth::TrueColor,
            ColorDepth::Ansi256,
            ColorDepth::Ansi16,
            ColorDepth::Mono,
        ] {
            readable(&t.clone().degrade(depth));
        }
    }
    assert!(builtin("nope").is_none());
}

#[test]
fn builtin_files_are_strictly_valid() {
    for (name, text) in BUILTINS {
        let f = parse_file(text, name).unwrap_or_else(|e| panic!("{e}"));
        assert!(f.extends.is_none(), "{name} must be complete on its own");
        assert_eq!(f.slots.len(), SLOTS.len(), "{name}");
    }
}

#[test]
fn mono_has_no_colour_at_all() {
    let mono = builtin("mono").expect("mono");
    assert!(!has_colour(&mono));
    for name in builtin_names() {
        let t = load(name, None, ColorDepth::Mono).expect("loads");
        assert!(!has_colour(&t), "{name} keeps colour in mono");
        readable(&t);
        assert_ne!(
            t.cursor_row.add_modifier, t.marked_row.add_modifier,
            "{name}: cursor vs marked"
        );
        // A highlight that had a background is reversed instead.
        assert!(
            t.status_bar
                .add_modifier
                .intersects(Modifier::REVERSED | Modifier::BOLD),
            "{name}"
        );
    }
}

#[test]
fn degrade_256_maps_rgb_into_the_palette() {
    let t = builtin("default")
        .expect("default")
        .degrade(ColorDepth::Ansi256);
    for (slot, s) in t.slots() {
        for c in [s.fg, s.bg].into_iter().flatten() {
            assert!(!matches!(c, Color::Rgb(..)), "{slot} kept {c:?}");
        }
    }
    assert_eq!(nearest_256((255, 0, 0)), 196);
    assert_eq!(nearest_256((0, 0, 0)), 16);
    assert_eq!(nearest_256((128, 128, 128)), 244);
    assert_eq!(nearest_256((0x5f, 0x87, 0xaf)), 67);
    assert_eq!(
        degrade_color(Color::Red, ColorDepth::Ansi256),
        Some(Color::Red)
    );
    assert_eq!(
        degrade_color(Color::Indexed(100), ColorDepth::Ansi256),
        Some(Color::Indexed(100))
    );
}

#[test]
fn degrade_16_uses_named_colours_only() {
    for name in builtin_names() {
        let t = builtin(name).expect("theme").degrade(ColorDepth::Ansi16);
        for (slot, s) in t.slots() {
            for c in [s.fg, s.bg].into_iter().flatten() {
                assert!(
                    !matches!(c, Color::Rgb(..) | Color::Indexed(_)),
                    "{name}.{slot} kept {c:?}"
                );
            }
        }
    }
    assert_eq!(nearest_16((250, 10, 10)), Color::LightRed);
    assert_eq!(nearest_16((190, 20, 20)), Color::Red);
    assert_eq!(nearest_16((10, 10, 10)), Color::Black);
    assert_eq!(nearest_16((250, 250, 250)), Color::White);
    assert_eq!(
        degrade_color(Color::Indexed(9), ColorDepth::Ansi16),
        Some(Color::LightRed)
    );
    assert_eq!(
        degrade_color(Color::Indexed(196), ColorDepth::Ansi16),
        Some(Color::LightRed)
    );
    // The default cursor background stays a visible grey...
    let t = builtin("default")
        .expect("default")
        .degrade(ColorDepth::Ansi16);
    assert_eq!(t.cursor_row.bg, Some(Color::DarkGray));
    // ...but one that would turn black (no highlight at all on a dark
    // terminal) becomes reversed video.
    let mut dark = builtin("default").expect("default");
    dark.cursor_row = Style::new().bg(Color::Rgb(16, 16, 24));
    dark.marked_row = Style::new().bg(Color::Rgb(16, 16, 24));
    let t = dark.degrade(ColorDepth::Ansi16);
    assert!(t.cursor_row.add_modifier.contains(Modifier::REVERSED));
    assert_eq!(t.cursor_row.bg, None);
    // Not a highlight slot: kept as it is, but made readable.
    assert_eq!(t.marked_row.bg, Some(Color::Black));
    assert!(t.marked_row.add_modifier.contains(Modifier::BOLD));
}

#[test]
fn truecolor_is_unchanged() {
    let t = builtin("light").expect("light");
    assert_eq!(t.clone().degrade(ColorDepth::TrueColor), t);
}

#[test]
fn detection() {
    assert_eq!(
        detect(&env(&[("NO_COLOR", "1"), ("COLORTERM", "truecolor")])),
        ColorDepth::Mono
    );
    assert_eq!(
        detect(&env(&[("NO_COLOR", ""), ("COLORTERM", "truecolor")])),
        ColorDepth::TrueColor
    );
    assert_eq!(
        detect(&env(&[("COLORTERM", "24bit"), ("TERM", "xterm")])),
        ColorDepth::TrueColor
    );
    assert_eq!(
        detect(&env(&[("TERM", "tmux-256color")])),
        ColorDepth::Ansi256
    );
    assert_eq!(
        detect(&env(&[("TERM", "xterm-256color"), ("COLORTERM", "")])),
        ColorDepth::Ansi256
    );
    assert_eq!(detect(&env(&[("TERM", "dumb")])), ColorDepth::Mono);
    assert_eq!(
        detect(&env(&[("TERM", "dumb"), ("COLORTERM", "truecolor")])),
        ColorDepth::Mono
    );
    assert_eq!(detect(&env(&[("TERM", "xterm")])), ColorDepth::Ansi16);
    assert_eq!(detect(&env(&[])), ColorDepth::Ansi16);
    assert_eq!(
        ColorDepth::detect(&env(&[("NO_COLOR", "yes")])),
        ColorDepth::Mono
    );
}

#[test]
fn partial_user_override() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("mine.toml"),
        "extends = \"default\"\ncursor_row = { bg = \"#ff0000\", bold = true }\nerror = { fg = 1 }\n",
    )
    .expect("write");
    let t = load("mine", Some(dir.path()), ColorDepth::TrueColor).expect("loads");
    let base = builtin("default").expect("default");
    assert_eq!(t.name, "mine");
    assert_eq!(t.cursor_row.bg, Some(Color::Rgb(255, 0, 0)));
    assert_eq!(t.error.fg, Some(Color::Indexed(1)));
    assert_eq!(t.text, base.text);
    assert_eq!(t.marked_row, base.marked_row);
    // Listed among the available themes.
    assert!(available(Some(dir.path())).contains(&"mine".to_string()));
}

#[test]
fn user_theme_can_override_a_builtin_of_the_same_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("default.toml"),
        "extends = \"default\"\ntext = { fg = \"white\" }\n",
    )
    .expect("write");
    let t = load("default", Some(dir.path()), ColorDepth::TrueColor).expect("loads");
    assert_eq!(t.text.fg, Some(Color::White));
    assert_eq!(t.dim, builtin("default").expect("d").dim);
}

#[test]
fn user_theme_without_extends_must_be_complete() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("half.toml"), "text = { fg = \"white\" }\n").expect("write");
    let e = load("half", Some(dir.path()), ColorDepth::TrueColor).expect_err("incomplete");
    assert!(
        e.contains("half.toml") && e.contains("missing slots") && e.contains("extends"),
        "{e}"
    );
}

#[test]
fn user_theme_errors_name_file_slot_and_expectation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(
        d.join("a.toml"),
        "extends = \"default\"\ncursor_rwo = { bold = true }\n",
    )
    .expect("w");
    let e = load("a", Some(d), ColorDepth::TrueColor).expect_err("typo");
    assert!(
        e.contains("a.toml")
            && e.contains("'cursor_rwo'")
            && e.contains("did you mean 'cursor_row'"),
        "{e}"
    );
    std::fs::write(
        d.join("b.toml"),
        "extends = \"default\"\ntext = { fg = \"#12345\" }\n",
    )
    .expect("w");
    let e = load("b", Some(d), ColorDepth::TrueColor).expect_err("bad colour");
    assert!(
        e.contains("slot 'text'")
            && e.contains("'fg'")
            && e.contains("#rrggbb")
            && e.contains("\"#12345\""),
        "{e}"
    );
    std::fs::write(
        d.join("c.toml"),
        "extends = \"default\"\ntext = { fg = 300 }\n",
    )
    .expect("w");
    assert!(
        load("c", Some(d), ColorDepth::TrueColor)
            .expect_err("range")
            .contains("300")
    );
    std::fs::write(
        d.join("e.toml"),
        "extends = \"default\"\ntext = { bold = \"yes\" }\n",
    )
    .expect("w");
    assert!(
        load("e", Some(d), ColorDepth::TrueColor)
            .expect_err("bool")
            .contains("true or false")
    );
    std::fs::write(d.join("f.toml"), "extends = \"nosuch\"\n").expect("w");
    let e = load("f", Some(d), ColorDepth::TrueColor).expect_err("base");
    assert!(
        e.contains("f.toml") && e.contains("'extends'") && e.contains("unknown theme 'nosuch'"),
        "{e}"
    );
    std::fs::write(d.join("g.toml"), "extends = \"h\"\n").expect("w");
    std::fs::write(d.join("h.toml"), "extends = \"g\"\n").expect("w");
    // g → h → g: the inner g is not a user theme again, nor a built-in.
    let e = load("g", Some(d), ColorDepth::TrueColor).expect_err("a loop");
    let cut = format!(
        "theme file {}: key 'extends': theme file {}: key 'extends': unknown theme 'g';",
        d.join("g.toml").display(),
        d.join("h.toml").display()
    );
    assert!(e.starts_with(&cut), "{e}");
    std::fs::write(
        d.join("i.toml"),
        "extends = \"default\"\ntext = { colour = \"red\" }\n",
    )
    .expect("w");
    let e = load("i", Some(d), ColorDepth::TrueColor).expect_err("attr");
    assert!(e.contains("unknown attribute 'colour'"), "{e}");
}

#[test]
fn unknown_theme_lists_available() {
    let e = load("solarised", None, ColorDepth::TrueColor).expect_err("unknown");
    assert!(e.contains("unknown theme 'solarised'"), "{e}");
    for n in builtin_names() {
        assert!(e.contains(n), "{e}");
    }
    let e = load("defualt", None, ColorDepth::TrueColor).expect_err("typo");
    assert!(e.contains("did you mean 'default'"), "{e}");
    assert!(
        load("../etc/passwd", None, ColorDepth::TrueColor)
            .expect_err("path")
            .contains("not valid")
    );
}

#[test]
fn user_theme_mono_still_readable() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("flat.toml"),
        "extends = \"default\"\ncursor_row = { bg = \"#444444\" }\nmarked_row = { fg = \"yellow\" }\n",
    )
    .expect("write");
    let t = load("flat", Some(dir.path()), ColorDepth::Mono).expect("loads");
    assert!(!has_colour(&t));
    readable(&t);
    assert_ne!(t.cursor_row.add_modifier, t.marked_row.add_modifier);
}

#[test]
fn default_is_the_default_builtin() {
    assert_eq!(Theme::default(), builtin("default").expect("default"));
    assert_ne!(Theme::default().text, Style::new());
}

#[test]
fn status_styles() {
    let t = builtin("default").expect("default");
    assert_eq!(t.status(crate::wire::Status::Pending), t.status_pending);
    assert_eq!(t.status(crate::wire::Status::Expired), t.status_closed);
    assert_eq!(t.status(crate::wire::Status::Won), t.status_won);
}

#[test]
fn ui_colors_caps_the_detected_depth_and_never_raises_it() {
    use crate::config::Colors;
    use ColorDepth::*;
    assert_eq!(TrueColor.capped(Colors::Auto), TrueColor);
    assert_eq!(TrueColor.capped(Colors::C256), Ansi256);
    assert_eq!(TrueColor.capped(Colors::C16), Ansi16);
    assert_eq!(TrueColor.capped(Colors::None), Mono);
    assert_eq!(Ansi16.capped(Colors::C256), Ansi16);
    assert_eq!(Ansi256.capped(Colors::TrueColor), Ansi256);
    assert_eq!(Mono.capped(Colors::C16), Mono);
}
