//! Where settings come from and which wins: the defaults, the XDG and
//! home config files, `--config`, the environment and flags; `~` expanded.

use super::*;

#[test]
fn settings_default_matches_the_loaded_defaults() {
    let mut fx = Fx::new();
    fx.set("LEADX_SERVER__TOKEN", "t");
    let loaded = fx.ok(&none());
    let d = Settings::default();
    assert_eq!(d.server_url, loaded.server_url);
    assert_eq!(d.theme, loaded.theme);
    assert_eq!(d.batch, loaded.batch);
    assert_eq!(
        (d.readonly, d.allow_plain_http),
        (loaded.readonly, loaded.allow_plain_http)
    );
    assert!(d.token.is_empty() && d.keys.is_empty() && d.views.is_empty());
}

#[test]
fn defaults_when_nothing_is_configured() {
    let mut fx = Fx::new();
    fx.set("LEADX_SERVER__TOKEN", "tok-123");
    let s = fx.ok(&none());
    assert_eq!(s.server_url, "http://127.0.0.1:7878");
    assert_eq!(s.token, "tok-123");
    assert!(!s.allow_plain_http);
    assert_eq!(s.theme, "default");
    assert!(!s.readonly);
    assert_eq!(s.log_file, fx.home().join(".local/state/leadx/leadx.log"));
    assert!(s.keys.is_empty());
    assert!(s.views.is_empty());
    assert_eq!(
        s.batch,
        BatchSettings {
            confirm_over: 10,
            undo_seconds: 5,
            undo_single: true,
        }
    );
    assert_eq!(s.config_file, None);
}

#[test]
fn xdg_directories_win_over_home() {
    let mut fx = Fx::new();
    let xdg = fx.dir.path().join("xdg");
    fs::create_dir_all(xdg.join("leadx")).expect("mkdir");
    fs::write(
        xdg.join("leadx/config.toml"),
        "theme = \"light\"\n[server]\ntoken = \"t\"\n",
    )
    .expect("w");
    fx.config("theme = \"mono\"\n");
    let state = fx.dir.path().join("state");
    fx.set("XDG_CONFIG_HOME", &xdg.display().to_string());
    fx.set("XDG_STATE_HOME", &state.display().to_string());
    let s = fx.ok(&none());
    assert_eq!(s.theme, "light");
    assert_eq!(s.config_file, Some(xdg.join("leadx/config.toml")));
    assert_eq!(s.log_file, state.join("leadx/leadx.log"));
    // A relative XDG value is ignored, as the spec says.
    fx.set("XDG_CONFIG_HOME", "relative/dir");
    fx.set("LEADX_SERVER__TOKEN", "t");
    assert_eq!(fx.ok(&none()).theme, "mono");
}

#[test]
fn layering_defaults_file_env_flags() {
    let mut fx = Fx::new();
    fx.config(
        "theme = \"light\"\nreadonly = false\n[server]\nurl = \"https://file.example\"\ntoken = \"file-token\"\n\
         [batch]\nconfirm_over = 20\nundo_seconds = 9\n",
    );
    // File over defaults.
    let s = fx.ok(&none());
    assert_eq!(s.theme, "light");
    assert_eq!(s.server_url, "https://file.example");
    assert_eq!(s.token, "file-token");
    assert_eq!(
        s.batch,
        BatchSettings {
            confirm_over: 20,
            undo_seconds: 9,
            undo_single: true,
        }
    );
    assert_eq!(s.config_file, Some(fx.config_path()));
    // Environment over the file.
    fx.set("LEADX_THEME", "mono")
        .set("LEADX_BATCH__CONFIRM_OVER", "30")
        .set("LEADX_SERVER__URL", "https://env.example")
        .set("LEADX_READONLY", "true");
    let s = fx.ok(&none());
    assert_eq!(s.theme, "mono");
    assert_eq!(
        s.batch,
        BatchSettings {
            confirm_over: 30,
            undo_seconds: 9,
            undo_single: true,
        }
    );
    assert_eq!(s.server_url, "https://env.example");
    assert!(s.readonly);
    // Flags over the environment.
    let tf = fx.token_file("flag-token", "flag-secret\n", 0o600);
    let o = Overrides {
        server: Some("https://flag.example/".into()),
        token_file: Some(tf),
        theme: Some("high-contrast".into()),
        readonly: true,
        ..none()
    };
    let s = fx.ok(&o);
    assert_eq!(s.theme, "high-contrast");
    assert_eq!(s.server_url, "https://flag.example");
    assert_eq!(s.token, "flag-secret");
}

#[test]
fn explicit_config_file_must_exist() {
    let fx = Fx::new();
    let missing = fx.dir.path().join("nope.toml");
    let o = Overrides {
        config: Some(missing.clone()),
        ..none()
    };
    assert_eq!(
        fx.err(&o),
        format!(
            "config file {} (given by --config) does not exist",
            missing.display()
        )
    );
    let real = fx.dir.path().join("other.toml");
    fs::write(&real, "theme = \"mono\"\n[server]\ntoken = \"x\"\n").expect("w");
    fx.config("theme = \"light\"\n");
    let s = fx.ok(&Overrides {
        config: Some(real.clone()),
        ..none()
    });
    assert_eq!(s.theme, "mono");
    assert_eq!(s.config_file, Some(real));
}

#[test]
fn other_leadx_variables_are_left_alone() {
    let mut fx = Fx::new();
    fx.set("LEADX_LOG", "debug")
        .set("LEADX_DB", "/tmp/x.db")
        .set("LEADX_SERVER", "https://clap-handles-this.example")
        .set("LEADX_PROFILE", "work")
        .set("LEADX_SERVER__TOKEN", "t");
    let s = fx.ok(&none());
    assert_eq!(s.server_url, DEFAULT_SERVER_URL);
}

#[test]
fn expand_home_takes_tilde_and_tilde_slash_only() {
    let home = std::path::Path::new("/home/dana");
    assert_eq!(
        super::expand_home("~/x.json", Some(home)),
        std::path::PathBuf::from("/home/dana/x.json")
    );
    assert_eq!(super::expand_home("~", Some(home)), home.to_path_buf());
    assert_eq!(
        super::expand_home("~bob/x", Some(home)),
        std::path::PathBuf::from("~bob/x")
    );
    assert_eq!(
        super::expand_home("x.json", Some(home)),
        std::path::PathBuf::from("x.json")
    );
    assert_eq!(
        super::expand_home("~/x", None),
        std::path::PathBuf::from("~/x")
    );
}
