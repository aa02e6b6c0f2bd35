//! Where the CLI finds its server and token (flags, token file, profile),
//! and exit status 2 for a bad config, no token or a server that is down.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_config_and_no_token_exit_two() {
    let f = Fixture::new().await;
    let home = f.home.path();

    // --config naming no file.
    let r = f
        .run(
            &f.w.t.acme,
            &["list", "--config", "/nonexistent/leadx.toml"],
        )
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.starts_with("leadx: "), "{r:?}");
    assert!(r.stderr.contains("/nonexistent/leadx.toml"), "{r:?}");
    assert!(r.stdout.is_empty());

    // A config file with a mistake names the file and the key.
    let bad = home.join("bad.toml");
    std::fs::write(&bad, "[server]\nurll = \"http://127.0.0.1:1\"\n").unwrap();
    let r = f
        .run(
            &f.w.t.acme,
            &["accept", "r_X", "--config", bad.to_str().unwrap()],
        )
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("bad.toml") && r.stderr.contains("url"),
        "{r:?}"
    );

    // A read-only configuration refuses to act, but still reads.
    let ro = home.join("ro.toml");
    std::fs::write(&ro, "readonly = true\n").unwrap();
    let a = f.send("acme-web", "Read Only Co").await;
    let r = f
        .run(
            &f.w.t.acme,
            &["accept", &id(&a), "--config", ro.to_str().unwrap()],
        )
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("read-only"), "{r:?}");
    assert_eq!(f.get(&f.w.t.acme, &id(&a)).await["status"], "pending");
    let r = f
        .run(&f.w.t.acme, &["list", "--config", ro.to_str().unwrap()])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains(&id(&a)), "{r:?}");

    // No token at all.
    let r = f.run_cmd(leadx(home, &f.w.url, None, &["list"])).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.starts_with("leadx: "), "{r:?}");

    // A token the server does not know.
    let r = f.run("not-a-real-token", &["list"]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("unauthenticated"), "{r:?}");

    // Usage: accept with neither ids nor --query.
    let r = f.run(&f.w.t.acme, &["accept"]).await;
    assert_eq!(r.code, 2, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_down_exits_two() {
    let home = tempfile::tempdir().unwrap();
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    for args in [
        vec!["list"],
        vec!["show", "r_X"],
        vec!["accept", "r_X"],
        vec!["watch"],
        vec![
            "send",
            "--to",
            "acme-web",
            "--company",
            "X",
            "--category",
            "hosting",
            "--retry-for",
            "1",
        ],
    ] {
        let out = output(leadx(home.path(), &url, Some("tok"), &args)).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("leadx: "), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot reach the server"),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_token_file_and_profile_flags_reach_the_config() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new().await;
    let a = f.send("acme-web", "Flagged Co").await;
    let home = f.home.path();
    let nowhere = "http://127.0.0.1:9";

    // --server and --token-file win over the environment's server.
    let token_file = home.join("token");
    std::fs::write(&token_file, format!("{}\n", f.w.t.acme)).unwrap();
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = f
        .run_cmd(leadx(
            home,
            nowhere,
            None,
            &[
                "show",
                &id(&a),
                "--server",
                &f.w.url,
                "--token-file",
                token_file.to_str().unwrap(),
            ],
        ))
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("Flagged Co"), "{r:?}");

    // A token file others can read is refused: exit 2.
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = f
        .run_cmd(leadx(
            home,
            &f.w.url,
            None,
            &["list", "--token-file", token_file.to_str().unwrap()],
        ))
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.starts_with("leadx: "), "{r:?}");

    // --profile takes server and token from [profiles.NAME].
    let config = home.join("profiles.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.work]\nurl = \"{}\"\ntoken = \"{}\"\n",
            f.w.url, f.w.t.acme
        ),
    )
    .unwrap();
    let r = f
        .run_cmd(leadx(
            home,
            nowhere,
            None,
            &[
                "list",
                "--format",
                "json",
                "--config",
                config.to_str().unwrap(),
                "--profile",
                "work",
            ],
        ))
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let items: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(items.iter().map(id).collect::<Vec<_>>(), vec![id(&a)]);
    // An unknown profile is a configuration error.
    let r = f
        .run_cmd(leadx(
            home,
            nowhere,
            None,
            &[
                "list",
                "--config",
                config.to_str().unwrap(),
                "--profile",
                "home",
            ],
        ))
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("home"), "{r:?}");
}
