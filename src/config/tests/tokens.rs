//! The token: inline or from a token file (its mode, its problems, its
//! path), by layer, what is said when there is none, and never in errors.

use super::*;

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
