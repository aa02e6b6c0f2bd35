//! How the configuration reports: every problem at once, the TOML
//! parser's message as lines, where the server and token came from, and a
//! theme that only the inbox refuses.

use super::tests::Fx;
use super::*;

#[test]
fn every_problem_is_reported_at_once() {
    let fx = Fx::new();
    let p = fx.config(
        "colours = 1\nlayout = \"wat\"\n[batch]\nconfirm_ovr = 3\n[server]\ntoken = \"t\"\n",
    );
    let e = fx.err(&Overrides::default());
    let p = p.display();
    assert_eq!(
        e,
        format!(
            "3 problems in the configuration:\n  {p}: unknown key 'colours'\n  \
             {p}: key 'layout': expected one of \"auto\", \"side-by-side\", \"stacked\", \
             \"single\", found \"wat\"\n  \
             {p}: unknown key 'batch.confirm_ovr' (did you mean 'batch.confirm_over'?)"
        )
    );
}

#[test]
fn a_toml_error_keeps_its_lines() {
    let fx = Fx::new();
    fx.config("[server]\nurl = \"http://x\ntoken = 3\n");
    let e = fx.err(&Overrides::default());
    let lines: Vec<&str> = e.lines().collect();
    assert!(lines.len() >= 3, "{e}");
    assert!(
        lines[0].contains("not valid TOML") && lines[0].contains("line 2"),
        "{e}"
    );
    assert!(!e.contains('␊'), "{e}");
}

#[test]
fn the_server_and_token_say_where_they_came_from() {
    let mut fx = Fx::new();
    fx.config("[server]\nurl = \"http://127.0.0.1:7000\"\ntoken = \"file-token\"\n");
    let s = fx.ok(&Overrides::default());
    let file = fx.config_path().display().to_string();
    assert_eq!(s.server_url_origin, format!("key 'server.url' in {file}"));
    assert_eq!(s.token_origin, format!("key 'server.token' in {file}"));

    fx.set("LEADX_SERVER__URL", "http://127.0.0.1:7001");
    let tf = fx.token_file("t.token", "flag-token\n", 0o600);
    let s = fx.ok(&Overrides {
        token_file: Some(tf.clone()),
        ..Overrides::default()
    });
    assert_eq!(
        s.server_url_origin,
        "environment variable LEADX_SERVER__URL"
    );
    assert_eq!(
        s.token_origin,
        format!("the token file {} (from --token-file)", tf.display())
    );
    let s = fx.ok(&Overrides {
        server: Some("http://127.0.0.1:7002".into()),
        ..Overrides::default()
    });
    assert_eq!(s.server_url_origin, "--server");
}

#[test]
fn only_the_inbox_refuses_an_unknown_theme() {
    let fx = Fx::new();
    fx.config("theme = \"solarised\"\n[server]\nurl = \"http://127.0.0.1:7000\"\ntoken = \"t\"\n");
    let e = fx.err(&Overrides::default());
    assert!(e.contains("key 'theme': unknown theme 'solarised'"), "{e}");
    let s = load_for_scripts_from(&Overrides::default(), &fx.env).expect("headless loads");
    let problem = s.theme_problem.expect("the problem is kept").to_string();
    assert!(problem.contains("unknown theme 'solarised'"), "{problem}");
    assert_eq!(s.token, "t");
}

#[test]
fn notify_and_mouse_are_read_and_a_bad_query_is_named_with_its_key() {
    let fx = Fx::new();
    fx.config(
        "[server]\ntoken = \"t\"\n[ui]\nmouse = false\n[notify]\ntitle = false\nalert = \"osc9\"\nquery = \"value:>50k\"\n",
    );
    let s = fx.ok(&Overrides::default());
    assert!(!s.mouse);
    assert!(!s.notify.title);
    assert_eq!(s.notify.alert, Alert::Osc9);
    assert_eq!(
        s.notify.query,
        Some(crate::query::Query::parse("value:>50k").unwrap())
    );
    let p =
        fx.config("[server]\ntoken = \"t\"\n[notify]\nalert = \"loud\"\nquery = \"value:>>\"\n");
    let e = fx.err(&Overrides::default());
    let p = p.display();
    assert!(e.starts_with("2 problems in the configuration:"), "{e}");
    assert!(
        e.contains(&format!("{p}: key 'notify.alert': expected one of \"off\", \"bell\", \"osc9\", \"osc777\", found \"loud\"")),
        "{e}"
    );
    assert!(
        e.contains(&format!(
            "{p}: key 'notify.query': expected a query (column "
        )),
        "{e}"
    );
    let defaults = Settings::default();
    assert!(defaults.mouse && defaults.notify.title);
    assert_eq!(defaults.notify.alert, Alert::Bell);
}
