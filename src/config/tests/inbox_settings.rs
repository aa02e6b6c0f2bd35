//! The inbox's own settings: keys, saved views, batch, themes, read-only
//! mode, the log file and the layout.

use super::*;

#[test]
fn keys_views_and_batch() {
    let mut fx = Fx::new();
    fx.set("LEADX_SERVER__TOKEN", "t");
    fx.config(
        "[keys]\naccept = \"A\"\nreject = [\"r\", \"ctrl-r\"]\nquit = \"\"\nhelp = []\n\n\
         [views.hot]\nquery = \"status:pending value:>50k\"\n[views.Mine]\nquery = \"to:acme-web\"\n",
    );
    let s = fx.ok(&none());
    assert_eq!(s.keys.get("accept"), Some(&vec!["A".to_string()]));
    assert_eq!(
        s.keys.get("reject"),
        Some(&vec!["r".to_string(), "ctrl-r".to_string()])
    );
    assert_eq!(s.keys.get("quit"), Some(&Vec::new()));
    assert_eq!(s.keys.get("help"), Some(&Vec::new()));
    assert_eq!(s.keys.len(), 4);
    assert_eq!(view(&s, "hot"), Some("status:pending value:>50k"));
    assert_eq!(view(&s, "Mine"), Some("to:acme-web"));
    // The tabs keep the file's order, not the names' order.
    let names: Vec<&str> = s.views.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["hot", "Mine"]);
    // Several keys from one environment variable.
    fx.set("LEADX_KEYS__ACCEPT", "a  shift-a");
    assert_eq!(
        fx.ok(&none()).keys.get("accept"),
        Some(&vec!["a".to_string(), "shift-a".to_string()])
    );
}

#[test]
fn bad_keys_and_views() {
    let fx = Fx::new();
    fx.config("[keys]\naccept = \"ctrl-\"\n");
    let e = fx.err(&none());
    assert!(e.ends_with(
        "key 'keys.accept': expected a key like \"a\", \"ctrl-x\" or \"enter\", a list of them, or \"\" to unbind, found \"ctrl-\""
    ), "{e}");
    fx.config("[keys]\naccept = [\"a\", 5]\n");
    assert!(fx.err(&none()).contains("found 5"));
    fx.config("[keys]\naccept = true\n");
    assert!(fx.err(&none()).contains("found true"));
    let p = fx.config("[keys]\naccept = \"x\"\nreject = [\"r\", \"x\"]\n");
    assert_eq!(
        fx.err(&none()),
        format!(
            "{}: key 'keys.reject': x is already bound by 'keys.accept'; a key can run only one command",
            p.display()
        )
    );
    // Spelling does not hide a conflict.
    fx.config("[keys]\nquit = \"ctrl-c\"\nreload = \"C-c\"\n");
    assert!(
        fx.err(&none())
            .contains("C-c is already bound by 'keys.quit'")
    );
    fx.config("[views.hot]\nfilter = \"x\"\n");
    assert!(fx.err(&none()).contains("unknown key 'views.hot.filter'"));
    fx.config("[views.hot]\n");
    assert!(
        fx.err(&none())
            .ends_with("key 'views.hot.query': expected a query (a string), found nothing")
    );
    fx.config("[views]\nhot = \"status:pending\"\n");
    assert!(
        fx.err(&none())
            .ends_with("key 'views.hot': expected a table, found \"status:pending\"")
    );
}

#[test]
fn themes_are_checked() {
    let mut fx = Fx::new();
    fx.set("LEADX_SERVER__TOKEN", "t");
    let e = fx.err(&Overrides {
        theme: Some("solarized".into()),
        ..none()
    });
    assert!(
        e.starts_with("--theme: key 'theme': unknown theme 'solarized'; available: default"),
        "{e}"
    );
    let themes = fx.home().join(".config/leadx/themes");
    fs::create_dir_all(&themes).expect("mkdir");
    fs::write(themes.join("mine.toml"), "extends = \"light\"\n").expect("w");
    assert_eq!(
        fx.ok(&Overrides {
            theme: Some("mine".into()),
            ..none()
        })
        .theme,
        "mine"
    );
    fs::write(
        themes.join("broken.toml"),
        "extends = \"light\"\ntext = { fg = \"purple-ish\" }\n",
    )
    .expect("w");
    let e = fx.err(&Overrides {
        theme: Some("broken".into()),
        ..none()
    });
    assert!(
        e.contains("broken.toml") && e.contains("slot 'text'"),
        "{e}"
    );
}

#[test]
fn readonly_and_log_file() {
    let mut fx = Fx::new();
    fx.set("LEADX_SERVER__TOKEN", "t");
    fx.config("readonly = true\nlog_file = \"~/logs/leadx.log\"\n");
    let s = fx.ok(&none());
    assert!(s.readonly);
    assert_eq!(s.log_file, fx.home().join("logs/leadx.log"));
    fx.config("log_file = \"logs/rel.log\"\n");
    assert_eq!(
        fx.ok(&none()).log_file,
        fx.home().join(".config/leadx/logs/rel.log")
    );
    fx.set("LEADX_READONLY", "nah");
    assert!(fx.err(&none()).starts_with(
        "environment variable LEADX_READONLY: key 'readonly': expected true or false"
    ));
}

#[test]
fn layout_from_the_file_or_the_environment() {
    use super::Layout;
    let mut fx = Fx::new();
    fx.set("LEADX_SERVER__TOKEN", "t");
    assert_eq!(fx.ok(&none()).layout, Layout::Auto);
    fx.config("layout = \"stacked\"\n");
    assert_eq!(fx.ok(&none()).layout, Layout::Stacked);
    fx.set("LEADX_LAYOUT", "single");
    assert_eq!(fx.ok(&none()).layout, Layout::Single, "env over file");
    fx.env.remove("LEADX_LAYOUT");
    let p = fx.config("layout = \"sideways\"\n");
    assert_eq!(
        fx.err(&none()),
        format!(
            "{}: key 'layout': expected one of \"auto\", \"side-by-side\", \"stacked\", \"single\", found \"sideways\"",
            p.display()
        )
    );
    for name in Layout::NAMES {
        assert!(Layout::parse(name).is_some(), "{name}");
    }
}

/// A saved view's query by name.
fn view<'a>(s: &'a Settings, name: &str) -> Option<&'a str> {
    s.views
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, q)| q.as_str())
}
