//! How a bad setting is reported: the documented format naming the file
//! or the variable and the key, suggestions for unknown keys, TOML syntax
//! errors, and tables without values.

use super::*;

#[test]
fn the_documented_error_format() {
    let fx = Fx::new();
    let p = fx.config("[batch]\nconfirm_over = \"ten\"\n");
    assert_eq!(
        fx.err(&none()),
        format!(
            "{}: key 'batch.confirm_over': expected a whole number, found \"ten\"",
            p.display()
        )
    );
    fx.config("[batch]\nundo_seconds = -1\n");
    assert!(
        fx.err(&none())
            .ends_with("key 'batch.undo_seconds': expected a whole number, found -1")
    );
    let p = fx.config("[ui]\nmax_fps = 0\n");
    assert_eq!(
        fx.err(&none()),
        format!(
            "{}: key 'ui.max_fps': expected a whole number of frames a second, 1 to 100, found 0",
            p.display()
        )
    );
    fx.config("[ui]\nmax_fps = \"fast\"\n");
    assert!(fx.err(&none()).ends_with(
        "key 'ui.max_fps': expected a whole number of frames a second, 1 to 100, found \"fast\""
    ));
    fx.config("[ui]\nmax_fps = 101\n");
    assert!(fx.err(&none()).contains("key 'ui.max_fps'"));
    fx.config("[ui]\nmax_fps = 12\n[server]\ntoken = \"t\"\n");
    assert_eq!(fx.ok(&none()).max_fps, Some(12));
    fx.config("[ui]\nlink_baud = 9600\n[server]\ntoken = \"t\"\n");
    assert_eq!(fx.ok(&none()).link_baud, Some(9600));
    fx.config("[ui]\nlink_baud = 56\n");
    assert!(fx.err(&none()).ends_with(
        "key 'ui.link_baud': expected a whole number of bits a second, 300 to 100000000, found 56"
    ));
    fx.config("[server]\ntoken = \"t\"\n");
    assert_eq!(fx.ok(&none()).colors, crate::config::Colors::Auto);
    fx.config("[ui]\ncolors = \"256\"\n[server]\ntoken = \"t\"\n");
    assert_eq!(fx.ok(&none()).colors, crate::config::Colors::C256);
    fx.config("[ui]\ncolors = 16\n[server]\ntoken = \"t\"\n");
    assert_eq!(fx.ok(&none()).colors, crate::config::Colors::C16);
    fx.config("[ui]\ncolors = \"88\"\n");
    assert!(fx.err(&none()).ends_with(
        "key 'ui.colors': expected one of \"auto\", \"truecolor\", \"256\", \"16\", \"none\", found \"88\""
    ));
    fx.config("[ui]\nmax_fp = 12\n");
    assert!(fx.err(&none()).contains("ui.max_fp"), "{}", fx.err(&none()));
    fx.config("readonly = \"maybe\"\n");
    assert!(
        fx.err(&none())
            .ends_with("key 'readonly': expected true or false, found \"maybe\"")
    );
    fx.config("theme = 3\n");
    assert!(
        fx.err(&none())
            .ends_with("key 'theme': expected a theme name (a string), found 3")
    );
    fx.config("server = \"https://x.example\"\n");
    assert!(
        fx.err(&none())
            .ends_with("key 'server': expected a table, found \"https://x.example\"")
    );
}

#[test]
fn environment_errors_name_the_variable() {
    let mut fx = Fx::new();
    fx.set("LEADX_BATCH__CONFIRM_OVER", "ten");
    assert_eq!(
        fx.err(&none()),
        "environment variable LEADX_BATCH__CONFIRM_OVER: key 'batch.confirm_over': expected a whole number, found \"ten\""
    );
    let mut fx = Fx::new();
    fx.set("LEADX_SERVER__URLL", "https://x.example");
    assert_eq!(
        fx.err(&none()),
        "environment variable LEADX_SERVER__URLL: unknown key 'server.urll' (did you mean 'server.url'?)"
    );
}

#[test]
fn unknown_keys_are_errors_with_suggestions() {
    let fx = Fx::new();
    let p = fx.config("themes = \"light\"\n");
    assert_eq!(
        fx.err(&none()),
        format!(
            "{}: unknown key 'themes' (did you mean 'theme'?)",
            p.display()
        )
    );
    fx.config("[batch]\nconfirm_ovr = 3\n");
    assert!(
        fx.err(&none())
            .ends_with("unknown key 'batch.confirm_ovr' (did you mean 'batch.confirm_over'?)")
    );
    fx.config("[server]\ntoken_fil = \"x\"\n");
    assert!(
        fx.err(&none())
            .ends_with("unknown key 'server.token_fil' (did you mean 'server.token_file'?)")
    );
    fx.config("[profiles.work]\nurl = \"https://w.example\"\ncolour = 1\n");
    assert!(
        fx.err(&none())
            .ends_with("unknown key 'profiles.work.colour'")
    );
    fx.config("[keys]\naccpet = \"a\"\n");
    assert!(
        fx.err(&none())
            .ends_with("unknown key 'keys.accpet' (did you mean 'keys.accept'?)")
    );
    fx.config("[views.hot]\nquery = \"x\"\nsort = \"value\"\n");
    assert!(fx.err(&none()).ends_with("unknown key 'views.hot.sort'"));
    fx.config("completely_unrelated = 1\n");
    assert!(
        fx.err(&none())
            .ends_with("unknown key 'completely_unrelated'")
    );
}

#[test]
fn toml_syntax_errors_name_the_file() {
    let fx = Fx::new();
    let p = fx.config("theme = \"light\n");
    let e = fx.err(&none());
    assert!(
        e.starts_with(&format!("{}: not valid TOML", p.display())),
        "{e}"
    );
}

#[test]
fn tables_without_values_are_blamed_on_the_file() {
    let fx = Fx::new();
    let p = fx.config("[views.hot]\n");
    assert_eq!(
        fx.err(&none()),
        format!(
            "{}: key 'views.hot.query': expected a query (a string), found nothing",
            p.display()
        )
    );
    fx.config("[colours]\ntext = \"red\"\n");
    assert_eq!(
        fx.err(&none()),
        format!("{}: unknown key 'colours'", p.display())
    );
    fx.config("[colours]\n");
    assert_eq!(
        fx.err(&none()),
        format!("{}: unknown key 'colours'", p.display())
    );
}
