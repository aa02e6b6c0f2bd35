use super::*;

use std::fs;

/// A fake home with its own environment; nothing touches the real one.
pub(super) struct Fx {
    dir: tempfile::TempDir,
    pub(super) env: HashMap<String, String>,
}

impl Fx {
    pub(super) fn new() -> Fx {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        fs::create_dir_all(&home).expect("home");
        let mut env = HashMap::new();
        env.insert("HOME".to_string(), home.display().to_string());
        Fx { dir, env }
    }

    pub(super) fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub(super) fn config_path(&self) -> PathBuf {
        self.home().join(".config/leadx/config.toml")
    }

    /// Writes the default config file.
    pub(super) fn config(&self, text: &str) -> PathBuf {
        let p = self.config_path();
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(&p, text).expect("write config");
        p
    }

    pub(super) fn set(&mut self, k: &str, v: &str) -> &mut Fx {
        self.env.insert(k.to_string(), v.to_string());
        self
    }

    /// Writes a token file with the given mode.
    pub(super) fn token_file(&self, name: &str, content: &str, mode: u32) -> PathBuf {
        let p = self.dir.path().join(name);
        fs::write(&p, content).expect("write token");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&p, fs::Permissions::from_mode(mode)).expect("chmod");
        }
        #[cfg(not(unix))]
        let _ = mode;
        p
    }

    pub(super) fn load(&self, o: &Overrides) -> Result<Settings, ConfigError> {
        load_from(o, &self.env)
    }

    pub(super) fn ok(&self, o: &Overrides) -> Settings {
        self.load(o)
            .unwrap_or_else(|e| panic!("unexpected error: {e}"))
    }

    pub(super) fn err(&self, o: &Overrides) -> String {
        match self.load(o) {
            Ok(s) => panic!("expected an error, got {s:?}"),
            Err(e) => e.to_string(),
        }
    }
}

pub(super) fn none() -> Overrides {
    Overrides::default()
}

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
fn profiles_select_a_whole_server() {
    let mut fx = Fx::new();
    let work_token = fx.token_file("work-token", "  work-secret  \n", 0o600);
    fx.config(&format!(
        "[server]\nurl = \"https://home.example\"\ntoken = \"home-secret\"\n\n\
         [profiles.work]\nurl = \"https://work.example\"\ntoken_file = \"{}\"\n\n\
         [profiles.lab]\nurl = \"http://10.0.0.5:7878\"\nallow_plain_http = true\n",
        work_token.display()
    ));
    let s = fx.ok(&none());
    assert_eq!(
        (s.server_url.as_str(), s.token.as_str()),
        ("https://home.example", "home-secret")
    );
    let work = Overrides {
        profile: Some("work".into()),
        ..none()
    };
    let s = fx.ok(&work);
    assert_eq!(
        (s.server_url.as_str(), s.token.as_str()),
        ("https://work.example", "work-secret")
    );
    // The lab profile has no token: the home token is never sent there.
    let lab = Overrides {
        profile: Some("lab".into()),
        ..none()
    };
    let e = fx.err(&lab);
    assert!(e.starts_with("no token for http://10.0.0.5:7878"), "{e}");
    assert!(
        e.contains("LEADX_PROFILES__LAB__TOKEN_FILE") && e.contains("profiles.lab.token_file"),
        "{e}"
    );
    // ...not even the one from the environment.
    fx.set("LEADX_SERVER__TOKEN", "env-home-secret");
    assert!(fx.err(&lab).starts_with("no token"));
    // A profile's own variables do apply.
    fx.set("LEADX_PROFILES__LAB__TOKEN", "lab-secret");
    let s = fx.ok(&lab);
    assert_eq!((s.token.as_str(), s.allow_plain_http), ("lab-secret", true));
    // Flags still win over a profile.
    let flagged = Overrides {
        server: Some("https://other.example".into()),
        ..work.clone()
    };
    assert_eq!(fx.ok(&flagged).server_url, "https://other.example");
}

#[test]
fn unknown_profile_lists_the_known_ones() {
    let fx = Fx::new();
    fx.config(
        "[profiles.work]\nurl = \"https://w.example\"\n[profiles.home]\nurl = \"https://h.example\"\n",
    );
    let o = Overrides {
        profile: Some("wrok".into()),
        ..none()
    };
    assert_eq!(
        fx.err(&o),
        "unknown profile 'wrok' (given by --profile) (did you mean 'work'?); known profiles: home, work"
    );
    let fx = Fx::new();
    let e = fx.err(&Overrides {
        profile: Some("x".into()),
        ..none()
    });
    assert!(e.contains("no profiles are defined"), "{e}");
}

#[test]
fn profile_without_url_is_an_error() {
    let fx = Fx::new();
    let p = fx.config("[profiles.work]\ntoken = \"t\"\n");
    let e = fx.err(&Overrides {
        profile: Some("work".into()),
        ..none()
    });
    assert_eq!(
        e,
        format!(
            "{}: key 'profiles.work.url': expected a URL like https://leads.example.com or http://127.0.0.1:7878, found nothing",
            p.display()
        )
    );
}

#[cfg(unix)]
#[test]
fn token_file_modes() {
    let mut fx = Fx::new();
    let open = fx.token_file("open", "secret\n", 0o644);
    let o = Overrides {
        token_file: Some(open.clone()),
        ..none()
    };
    assert_eq!(
        fx.err(&o),
        format!(
            "token file {} is readable by its group and others (mode 0644); run: chmod 600 {}",
            open.display(),
            open.display()
        )
    );
    let group = fx.token_file("group", "secret\n", 0o640);
    assert!(
        fx.err(&Overrides {
            token_file: Some(group),
            ..none()
        })
        .contains("is readable by its group (mode 0640)")
    );
    let gw = fx.token_file("gw", "secret\n", 0o620);
    assert!(
        fx.err(&Overrides {
            token_file: Some(gw),
            ..none()
        })
        .contains("is accessible to its group (mode 0620)")
    );
    let private = fx.token_file("private", "\n  s3cr3t-token \n\n", 0o600);
    assert_eq!(
        fx.ok(&Overrides {
            token_file: Some(private.clone()),
            ..none()
        })
        .token,
        "s3cr3t-token"
    );
    let ro = fx.token_file("ro", "tok", 0o400);
    assert_eq!(
        fx.ok(&Overrides {
            token_file: Some(ro),
            ..none()
        })
        .token,
        "tok"
    );
    // Through the environment and the file too.
    fx.set("LEADX_SERVER__TOKEN_FILE", &open.display().to_string());
    assert!(fx.err(&none()).contains("readable by its group and others"));
    fx.env.remove("LEADX_SERVER__TOKEN_FILE");
    fx.config(&format!("[server]\ntoken_file = \"{}\"\n", open.display()));
    assert!(fx.err(&none()).contains("chmod 600"));
}

#[test]
fn token_file_problems() {
    let fx = Fx::new();
    let empty = fx.token_file("empty", "  \n", 0o600);
    let e = fx.err(&Overrides {
        token_file: Some(empty.clone()),
        ..none()
    });
    assert_eq!(
        e,
        format!(
            "token file {}: is empty (given by --token-file (key 'server.token_file'))",
            empty.display()
        )
    );
    let missing = fx.dir.path().join("missing");
    let e = fx.err(&Overrides {
        token_file: Some(missing.clone()),
        ..none()
    });
    assert!(
        e.starts_with(&format!("token file {}: cannot read", missing.display())),
        "{e}"
    );
    let two = fx.token_file("two", "one two\n", 0o600);
    assert!(
        fx.err(&Overrides {
            token_file: Some(two),
            ..none()
        })
        .contains("more than one word")
    );
    let e = fx.err(&Overrides {
        token_file: Some(fx.dir.path().to_path_buf()),
        ..none()
    });
    assert!(e.contains("not a regular file"), "{e}");
}

#[test]
fn token_file_paths_are_relative_to_the_config_file_and_expand_home() {
    let fx = Fx::new();
    let cfg = fx.config("[server]\ntoken_file = \"token\"\n");
    let beside = cfg.parent().expect("dir").join("token");
    fs::write(&beside, "beside").expect("w");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&beside, fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    assert_eq!(fx.ok(&none()).token, "beside");
    fx.config("[server]\ntoken_file = \"~/.config/leadx/token\"\n");
    assert_eq!(fx.ok(&none()).token, "beside");
}

#[test]
fn no_token_says_the_three_ways() {
    let fx = Fx::new();
    let e = fx.err(&none());
    assert_eq!(
        e,
        format!(
            "no token for http://127.0.0.1:7878: give one with --token-file PATH, with the environment variable \
             LEADX_SERVER__TOKEN_FILE (or LEADX_SERVER__TOKEN), or with server.token_file (or server.token) in {}",
            fx.config_path().display()
        )
    );
}

#[test]
fn token_and_token_file_by_layer() {
    let mut fx = Fx::new();
    let tf = fx.token_file("tf", "from-file", 0o600);
    let p = fx.config(&format!(
        "[server]\ntoken = \"inline\"\ntoken_file = \"{}\"\n",
        tf.display()
    ));
    assert_eq!(
        fx.err(&none()),
        format!(
            "{}: keys 'server.token' and 'server.token_file' are both set; keep only one",
            p.display()
        )
    );
    fx.config(&format!("[server]\ntoken_file = \"{}\"\n", tf.display()));
    fx.set("LEADX_SERVER__TOKEN", "from-env");
    assert_eq!(fx.ok(&none()).token, "from-env");
    // --token-file beats the environment's token.
    let tf2 = fx.token_file("tf2", "from-flag", 0o600);
    assert_eq!(
        fx.ok(&Overrides {
            token_file: Some(tf2),
            ..none()
        })
        .token,
        "from-flag"
    );
}

#[test]
fn secrets_never_appear_in_errors() {
    let fx = Fx::new();
    fx.config("[server]\ntoken = 123456789\n");
    let e = fx.err(&none());
    assert!(
        e.ends_with("key 'server.token': expected a token (a string), found a number"),
        "{e}"
    );
    assert!(!e.contains("123456789"));
    fx.config("[server]\ntoken = \"has space secret\"\n");
    let e = fx.err(&none());
    assert!(!e.contains("secret") && e.contains("server.token"), "{e}");
}

#[test]
fn plain_http_only_to_loopback_unless_allowed() {
    let mut fx = Fx::new();
    fx.set("LEADX_SERVER__TOKEN", "t");
    for ok in [
        "http://127.0.0.1:7878",
        "http://127.1.2.3",
        "http://localhost:7878",
        "http://LOCALHOST",
        "http://[::1]:7878",
        "https://leads.example.com",
        "https://10.0.0.5",
    ] {
        fx.set("LEADX_SERVER__URL", ok);
        assert!(fx.load(&none()).is_ok(), "{ok}");
    }
    fx.set("LEADX_SERVER__URL", "http://leads.example.com:7878");
    assert_eq!(
        fx.err(&none()),
        "environment variable LEADX_SERVER__URL: key 'server.url': refusing plain http:// to leads.example.com, \
         which is not a loopback address (the token would cross the network unencrypted); use https://, or set \
         server.allow_plain_http = true"
    );
    fx.set("LEADX_SERVER__URL", "http://10.0.0.5");
    assert!(
        fx.err(&none())
            .contains("refusing plain http:// to 10.0.0.5")
    );
    fx.set("LEADX_SERVER__ALLOW_PLAIN_HTTP", "true");
    assert_eq!(fx.ok(&none()).server_url, "http://10.0.0.5");
    // Per profile.
    let fx2 = Fx::new();
    fx2.config("[profiles.lab]\nurl = \"http://192.168.1.9\"\ntoken = \"t\"\n");
    let e = fx2.err(&Overrides {
        profile: Some("lab".into()),
        ..none()
    });
    assert!(
        e.contains("key 'profiles.lab.url'")
            && e.contains("set profiles.lab.allow_plain_http = true"),
        "{e}"
    );
}

#[test]
fn malformed_urls() {
    let mut fx = Fx::new();
    fx.set("LEADX_SERVER__TOKEN", "t");
    for bad in [
        "leads.example.com",
        "ftp://leads.example.com",
        "http://",
        "not a url",
    ] {
        let e = fx.err(&Overrides {
            server: Some(bad.into()),
            ..none()
        });
        assert_eq!(
            e,
            format!(
                "--server: key 'server.url': expected a URL like https://leads.example.com or http://127.0.0.1:7878, found {bad:?}"
            )
        );
    }
}

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
fn demo_needs_no_server_settings() {
    let fx = Fx::new();
    fx.config("theme = \"light\"\n[server]\nurl = \"http://far.example\"\n");
    let s = load_for_demo_from(&none(), &fx.env).expect("demo loads");
    assert_eq!(s.token, "");
    assert_eq!(s.theme, "light");
    // The rest is still checked.
    fx.config("[batch]\nconfirm_over = \"x\"\n");
    let e = load_for_demo_from(&none(), &fx.env).expect_err("a bad number");
    assert_eq!(
        e.to_string(),
        format!(
            "{}: key 'batch.confirm_over': expected a whole number, found \"x\"",
            fx.home().join(".config/leadx/config.toml").display()
        )
    );
}

/// `key = value` or `[table]`: a commented-out setting, not prose.
fn is_setting(line: &str) -> bool {
    line.strip_prefix('[')
        .and_then(|l| l.strip_suffix(']'))
        .is_some_and(|t| {
            t.chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
        })
        || line.split_once(" = ").is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        })
}

fn example() -> String {
    include_str!("../../config.example.toml").to_string()
}

#[test]
fn the_example_file_is_valid_as_is_and_uncommented() {
    let mut fx = Fx::new();
    fx.set("LEADX_SERVER__TOKEN", "t");
    let p = fx.dir.path().join("example.toml");
    fs::write(&p, example()).expect("w");
    let s = fx.ok(&Overrides {
        config: Some(p.clone()),
        ..none()
    });
    assert_eq!(s.server_url, DEFAULT_SERVER_URL);
    // Uncommenting every `# key = value` line must still give a valid file
    // with the documented defaults.
    let uncommented: String = example()
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if is_setting(rest) => rest.to_string(),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    fs::write(&p, &uncommented).expect("w");
    let tf = fx.token_file("example-token", "t", 0o600);
    // The example names ~/.config/leadx/token; put one there.
    let home_token = fx.home().join(".config/leadx/token");
    fs::create_dir_all(home_token.parent().expect("dir")).expect("mkdir");
    fs::copy(&tf, &home_token).expect("copy");
    fx.env.remove("LEADX_SERVER__TOKEN");
    let s = fx.ok(&Overrides {
        config: Some(p),
        ..none()
    });
    assert_eq!(s.server_url, DEFAULT_SERVER_URL);
    assert_eq!(s.theme, DEFAULT_THEME);
    assert_eq!(s.batch, BatchSettings::default());
    for cmd in COMMANDS {
        assert!(
            s.keys.contains_key(*cmd),
            "config.example.toml does not document keys.{cmd}"
        );
    }
    assert!(
        !s.views.is_empty(),
        "config.example.toml shows no [views.NAME]"
    );
    let doc: toml::Table = toml::from_str(&uncommented).expect("toml");
    for k in TOP_KEYS {
        assert!(
            doc.contains_key(*k),
            "config.example.toml does not document {k}"
        );
    }
    let section = |name: &str| {
        doc.get(name)
            .and_then(|v| v.as_table())
            .cloned()
            .unwrap_or_default()
    };
    for k in SERVER_KEYS.iter().filter(|k| **k != "token") {
        assert!(
            section("server").contains_key(*k),
            "server.{k} undocumented"
        );
    }
    assert!(
        example().contains("token = \"...\""),
        "server.token undocumented"
    );
    for k in BATCH_KEYS {
        assert!(section("batch").contains_key(*k), "batch.{k} undocumented");
    }
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

/// A saved view's query by name.
fn view<'a>(s: &'a Settings, name: &str) -> Option<&'a str> {
    s.views
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, q)| q.as_str())
}
