//! The server to talk to: profiles that select a whole server, which URLs
//! are allowed (plain HTTP only to loopback) and the demo, which needs none.

use super::*;

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
