//! The terminal is left as it was found: after `q`, SIGTERM and SIGHUP,
//! and untouched when a bad config stops the inbox before it starts.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_restores_the_terminal() {
    let (w, _) = world_with(&["Alpha Bakery"]).await;
    for (key, name) in [("q", "q"), ("\x03", "Ctrl-C")] {
        let (cols, rows) = SMALL;
        let mut t = Tui::spawn(&w.url, &w.t.acme, cols, rows);
        t.until_live("Alpha Bakery");
        assert!(
            t.raw_mode(),
            "raw mode while running: {:?}",
            t.local_flags()
        );
        assert!(t.alternate_screen() && t.cursor_hidden());
        t.send(key);
        let status = t.wait_exit();
        assert!(status.success(), "{name}: {status:?}");
        assert_restored(&t, name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_and_sighup_restore_the_terminal() {
    let (w, _) = world_with(&["Alpha Bakery"]).await;
    for signal in ["TERM", "HUP"] {
        let (cols, rows) = WIDE;
        let mut t = Tui::spawn(&w.url, &w.t.acme, cols, rows);
        t.until_live("Alpha Bakery");
        assert!(t.raw_mode());
        let pid = t.pid().to_string();
        let ok = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill");
        assert!(ok.success());
        let status = t.wait_exit();
        assert!(status.success(), "SIG{signal}: {status:?}");
        assert_restored(&t, &format!("SIG{signal}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_config_exits_2_before_touching_the_terminal() {
    let w = World::start().await;
    let cases = [
        ("readonly = \"maybe\"\n", "readonly"),
        ("theme = \"no-such-theme\"\n", "theme"),
        ("[keys]\naccept = [\"ctrl-\"]\n", "keys.accept"),
        // Two commands on one key: found only when the keymap is built.
        ("[keys]\naccept = [\"j\"]\n", "keys.accept"),
        ("[server\nurl = 1\n", "config.toml"),
    ];
    for (toml, key) in cases {
        let (cols, rows) = SMALL;
        let mut t = Tui::start(Options::new(&w.url, &w.t.acme, cols, rows).config(toml));
        let status = t.wait_exit();
        let raw = t.raw_bytes();
        let out = String::from_utf8_lossy(&raw).into_owned();
        assert_eq!(
            status.exit_code(),
            2,
            "{toml:?}: {status:?}, output {out:?}"
        );
        let file = t.dir.path().join("config/leadx/config.toml");
        assert!(
            out.contains(&file.display().to_string()) && out.contains(key),
            "{toml:?}: the message names the file and the key: {out:?}"
        );
        assert!(
            !contains(&raw, b"\x1b[?1049h"),
            "{toml:?}: alternate screen entered"
        );
        assert!(
            !contains(&raw, b"\x1b["),
            "{toml:?}: escape sequences written: {out:?}"
        );
        assert!(t.cooked_mode(), "{toml:?}: tty mode changed");
    }
    // A token file others may read is refused, saying how to fix it.
    let token_dir = tempfile::tempdir().unwrap();
    let token_file = token_dir.path().join("token");
    std::fs::write(&token_file, &w.t.acme).unwrap();
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut t = Tui::start(
        Options::new(&w.url, "", 80, 24)
            .arg("--token-file")
            .arg(token_file.to_str().unwrap()),
    );
    let status = t.wait_exit();
    let out = String::from_utf8_lossy(&t.raw_bytes()).into_owned();
    assert_eq!(status.exit_code(), 2, "{out:?}");
    assert!(out.contains("chmod 600"), "{out:?}");
    assert!(!contains(&t.raw_bytes(), b"\x1b[?1049h"));
    // A plain-http URL to a public host is refused the same way.
    let mut t = Tui::spawn("http://leads.example.com", &w.t.acme, 80, 24);
    let status = t.wait_exit();
    let out = String::from_utf8_lossy(&t.raw_bytes()).into_owned();
    assert_eq!(status.exit_code(), 2, "{out:?}");
    assert!(out.contains("allow_plain_http"), "{out:?}");
    assert!(!contains(&t.raw_bytes(), b"\x1b[?1049h"));
}
