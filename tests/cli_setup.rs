//! Setting up and checking the CLI (issue 9): configuration problems,
//! the inbox without a terminal, --retry-for and --listen, completions and
//! the manual page, `leadx doctor`. A real server in-process and the real
//! `leadx` binary.

#[macro_use]
mod common;
mod cli_support;

use std::process::Stdio;
use std::time::Duration;

use cli_support::{leadx, run, token_file};
use common::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_problems_read_well_and_the_inbox_asks_for_a_terminal() {
    let w = World::start().await;
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let tf = token_file(home, "acme.token", &w.t.acme);
    let config = home.join("leadx.toml");
    let config_s = config.to_str().unwrap();

    // An unknown theme: headless commands warn and go on.
    std::fs::write(&config, "theme = \"solarised\"\n").unwrap();
    let r = run(leadx(
        home,
        &[
            "--config",
            config_s,
            "--server",
            &w.url,
            "--token-file",
            &tf,
            "list",
        ],
    ))
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.starts_with("leadx: warning: "), "{r:?}");
    assert!(r.stderr.contains("unknown theme 'solarised'"), "{r:?}");

    // A TOML error is printed as the parser's lines; every problem is listed.
    std::fs::write(&config, "[server]\nurl = \"http://x\n").unwrap();
    let r = run(leadx(home, &["--config", config_s, "list"])).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        !r.stderr.contains('␊') && r.stderr.lines().count() > 2,
        "{r:?}"
    );
    std::fs::write(&config, "colour = 1\nlayout = \"wat\"\n").unwrap();
    let r = run(leadx(
        home,
        &["--config", config_s, "--token-file", &tf, "list"],
    ))
    .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .starts_with("leadx: 2 problems in the configuration:"),
        "{r:?}"
    );
    assert!(
        r.stderr.contains("unknown key 'colour'") && r.stderr.contains("'layout'"),
        "{r:?}"
    );

    // The inbox without a terminal says so and names the headless commands.
    std::fs::write(&config, "").unwrap();
    let r = run(leadx(
        home,
        &[
            "--config",
            config_s,
            "--server",
            &w.url,
            "--token-file",
            &tf,
        ],
    ))
    .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("the inbox needs a terminal"), "{r:?}");
    assert!(r.stderr.contains("for scripts use `leadx list`"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_for_covers_the_first_read_and_listen_takes_host_names() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let tf = token_file(home, "t.token", "lx_nothing");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    let r = run(leadx(
        home,
        &[
            "--server",
            &down,
            "--token-file",
            &tf,
            "accept",
            "r_X",
            "--retry-for",
            "2",
        ],
    ))
    .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("leadx: reading, attempt 1:"), "{r:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        started.elapsed()
    );

    let db = home.join("x.db");
    let mut serve = leadx(
        home,
        &[
            "serve",
            "--db",
            db.to_str().unwrap(),
            "--listen",
            "localhost:0",
        ],
    );
    serve.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = serve.spawn().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(
        Duration::from_secs(30),
        tokio::io::AsyncBufReadExt::read_line(&mut lines, &mut line),
    )
    .await
    .expect("serve prints its address")
    .unwrap();
    assert!(
        line.starts_with("listening on http://127.0.0.1:"),
        "{line:?}"
    );
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_and_the_manual_page() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    for (shell, marker) in [
        ("bash", "complete -F _leadx"),
        ("zsh", "#compdef leadx"),
        ("fish", "complete -c leadx"),
    ] {
        let r = run(leadx(home, &["completions", shell])).await;
        assert_eq!(r.code, 0, "{shell}: {r:?}");
        assert!(
            r.stdout.contains(marker),
            "{shell}: {}",
            &r.stdout[..200.min(r.stdout.len())]
        );
        for sub in ["list", "accept", "admin", "doctor"] {
            assert!(r.stdout.contains(sub), "{shell} completes {sub}");
        }
    }
    let r = run(leadx(home, &["completions", "tcsh"])).await;
    assert_eq!(r.code, 2, "{r:?}");
    let r = run(leadx(home, &["man"])).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains(".TH leadx 1"), "{}", &r.stdout[..200]);
    assert!(
        r.stdout.contains(".SH SUBCOMMANDS") && r.stdout.contains("completions"),
        "roff"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_shows_the_setup_and_checks_the_server_and_token() {
    let w = World::start().await;
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let tf = token_file(home, "acme.token", &w.t.acme);

    let r = run(leadx(
        home,
        &["doctor", "--server", &w.url, "--token-file", &tf],
    ))
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains(&format!("server       {} (from --server)", w.url)),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("(from the token file") && r.stdout.contains("(from --token-file))"),
        "{r:?}"
    );
    assert!(
        !r.stdout.contains(&w.t.acme),
        "the token is never shown whole"
    );
    assert!(
        r.stdout.contains("log file     ") && r.stdout.contains("leadx.log"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("✓ GET /healthz: the server answers"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("✓ GET /v1/me: the token is accepted: ")
            && r.stdout.contains("of acme-web"),
        "{r:?}"
    );

    let bad = token_file(home, "old.token", "lx_0000");
    let r = run(leadx(
        home,
        &["--token-file", &bad, "--server", &w.url, "doctor"],
    ))
    .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains("✓ GET /healthz"), "{r:?}");
    assert!(
        r.stdout.contains("✗ GET /v1/me: the server at")
            && r.stdout
                .contains("ask your exchange's admin for a new token"),
        "{r:?}"
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = leadx(home, &["doctor", "--token-file", &tf]);
    cmd.env("LEADX_SERVER__URL", format!("http://127.0.0.1:{port}"));
    let r = run(cmd).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout
            .contains("(from environment variable LEADX_SERVER__URL)"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("✗ GET /healthz: cannot reach the server at"),
        "{r:?}"
    );
    assert!(!r.stdout.contains("/v1/me"), "{r:?}");

    // A configuration that cannot be used is shown, every problem.
    let config = home.join("bad.toml");
    std::fs::write(&config, "colour = 1\n").unwrap();
    let r = run(leadx(
        home,
        &[
            "doctor",
            "--config",
            config.to_str().unwrap(),
            "--token-file",
            &tf,
        ],
    ))
    .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains("✗ the configuration cannot be used:")
            && r.stdout.contains("unknown key 'colour'"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_every_server_of_the_list() {
    let w = World::start().await;
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let tf = token_file(home, "acme.token", &w.t.acme);
    let port = w.server.as_ref().unwrap().addr.port();
    let other = format!("http://localhost:{port}");
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{dead}");

    // Two names of one live server: both checked, both fine.
    let both = format!("{},{other}", w.url);
    let r = run(leadx(
        home,
        &["doctor", "--server", &both, "--token-file", &tf],
    ))
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    for url in [&w.url, &other] {
        assert!(r.stdout.contains(&format!("server {url}\n")), "{r:?}");
    }
    assert_eq!(r.stdout.matches("✓ GET /healthz").count(), 2, "{r:?}");
    assert_eq!(r.stdout.matches("✓ GET /v1/me").count(), 2, "{r:?}");

    // A dead second server is found although the first one answers.
    let list = format!("{},{dead}", w.url);
    let r = run(leadx(
        home,
        &["doctor", "--server", &list, "--token-file", &tf],
    ))
    .await;
    assert_eq!(r.code, 2, "{r:?}");
    let (first, second) = r
        .stdout
        .split_once(&format!("server {dead}\n"))
        .unwrap_or_else(|| panic!("no section for {dead}: {r:?}"));
    assert!(
        first.contains("✓ GET /healthz") && first.contains("✓ GET /v1/me"),
        "{r:?}"
    );
    assert!(second.contains("✗ GET /healthz"), "{r:?}");
}
