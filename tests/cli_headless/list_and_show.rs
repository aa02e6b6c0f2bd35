//! `leadx list` and `leadx show`: tables fitted and cleaned (on a
//! terminal too), JSON and CSV, and unknown ids refused.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_prints_a_fitted_clean_table_json_and_csv() {
    let f = Fixture::new().await;
    let a = f.send("acme-web", "Main Street Bakery").await;
    let b = f
        .send("acme-web", "Evil\u{1b}]0;pwned\u{7}\u{202e}Corp, \"Ltd\"")
        .await;
    let other = f.send("harbor-host", "Not For Acme").await;
    let acme = f.w.t.acme.clone();

    // Table: a header, one row per referral, nothing raw from the lead.
    let r = f.run(&acme, &["list"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{r:?}");
    assert!(lines[0].starts_with("ID "), "{r:?}");
    assert!(lines[0].contains("STATUS") && lines[0].contains("COMPANY"));
    assert!(r.stdout.contains(&id(&a)) && r.stdout.contains(&id(&b)));
    // At 100 columns AGE and EXPIRES take some of the company's room.
    assert!(
        lines[0].contains("AGE") && lines[0].contains("EXPIRES"),
        "{r:?}"
    );
    assert!(r.stdout.contains("Main Street"), "{r:?}");
    assert!(r.stdout.contains("12,000 USD"), "{r:?}");
    assert!(
        !r.stdout.contains(&id(&other)),
        "another partner's referral"
    );
    assert!(
        r.stdout.contains("Evil␛"),
        "escape shown as a placeholder: {r:?}"
    );
    assert!(
        !r.stdout
            .chars()
            .any(|c| c == '\u{1b}' || c == '\u{7}' || c == '\u{202e}'),
        "raw control characters reached stdout: {r:?}"
    );
    for line in &lines {
        assert!(
            leadx::sanitize::width(line) <= 100,
            "{line:?} wider than 100"
        );
    }

    // A narrow terminal: every line fits; the ids give up their start (a
    // time they share) and keep their distinct random ends.
    let mut cmd = leadx(f.home.path(), &f.w.url, Some(&acme), &["list"]);
    cmd.env("COLUMNS", "70");
    let r = f.run_cmd(cmd).await;
    assert_eq!(r.code, 0, "{r:?}");
    for line in r.stdout.lines() {
        assert!(leadx::sanitize::width(line) <= 70, "{line:?} wider than 70");
    }
    for r_ in [&a, &b] {
        let tail = &id(r_)[id(r_).len() - 10..];
        assert!(r.stdout.contains(tail), "{r:?}");
    }

    // JSON: one array, the referrals as the server sent them.
    let r = f.run(&acme, &["list", "--format", "json"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains('\u{1b}'), "JSON escapes controls: {r:?}");
    let items: Vec<Value> = serde_json::from_str(&r.stdout).expect("a JSON array");
    let ids: Vec<String> = items.iter().map(id).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&id(&a)) && ids.contains(&id(&b)));
    let evil = items.iter().find(|x| id(x) == id(&b)).unwrap();
    assert_eq!(
        evil["lead"]["company"], "Evil\u{1b}]0;pwned\u{7}\u{202e}Corp, \"Ltd\"",
        "JSON keeps the data exact"
    );

    // CSV: a header row and RFC 4180 quoting.
    let r = f.run(&acme, &["list", "--format", "csv"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let rows: Vec<&str> = r.stdout.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 3, "{r:?}");
    assert!(rows[0].starts_with("id,version,status,from_partner,to_partner,company,"));
    assert!(
        r.stdout
            .contains("\"Evil\u{1b}]0;pwned\u{7}\u{202e}Corp, \"\"Ltd\"\"\""),
        "{r:?}"
    );

    // --box and --query narrow it.
    let r = f.run(&acme, &["list", "--box", "outgoing"]).await;
    assert_eq!((r.code, r.stdout.lines().count()), (0, 1), "{r:?}");
    let r = f
        .run(&acme, &["list", "--query", "bakery", "--format", "json"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let items: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(items.iter().map(id).collect::<Vec<_>>(), vec![id(&a)]);

    // The query's sort orders the output.
    let mut body = common::lead_body("acme-web", "Big Deal", None);
    body["lead"]["est_value_cents"] = json!(500_000_000_i64);
    let big =
        f.w.post(&f.w.t.northwind, "/v1/referrals", &body)
            .await
            .ok();
    let order = |args: &'static [&'static str]| {
        let f = &f;
        let acme = acme.clone();
        async move {
            let r = f.run(&acme, args).await;
            assert_eq!(r.code, 0, "{r:?}");
            let items: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
            items.iter().map(id).collect::<Vec<_>>()
        }
    };
    let desc = order(&["list", "--query", "sort:-value", "--format", "json"]).await;
    assert_eq!(desc.first(), Some(&id(&big)), "{desc:?}");
    let asc = order(&["list", "--query", "sort:value", "--format", "json"]).await;
    assert_eq!(asc.last(), Some(&id(&big)), "{asc:?}");
    assert_eq!(asc.len(), 3);

    // A bad query is a usage error that points at the column.
    let r = f.run(&acme, &["list", "--query", "status:nope"]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.starts_with("leadx: bad query at column "), "{r:?}");
    assert!(r.stdout.is_empty(), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_prints_text_and_json_and_refuses_unknown_ids() {
    let f = Fixture::new().await;
    let a = f.send("acme-web", "Main Street Bakery").await;
    let acme = f.w.t.acme.clone();

    let r = f.run(&acme, &["show", &id(&a)]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&format!("id:             {}", id(&a))),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("status:         pending (version 1)"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("company:        Main Street Bakery"),
        "{r:?}"
    );
    assert!(r.stdout.contains("from:           northwind-net"), "{r:?}");
    assert!(r.stdout.contains("contact:        (masked)"), "{r:?}");
    assert!(
        r.stdout
            .contains("chain:          northwind-net → acme-web")
    );

    let r = f.run(&acme, &["show", &id(&a), "--format", "json"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).expect("one JSON object");
    assert_eq!(id(&v), id(&a));
    assert_eq!(v["lead"]["company"], "Main Street Bakery");

    let r = f.run(&acme, &["show", "r_NOSUCHREFERRAL"]).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr
            .starts_with("leadx: show r_NOSUCHREFERRAL: not found"),
        "{r:?}"
    );
    assert!(r.stdout.is_empty());

    // Another partner's referral does not exist for acme.
    let other = f.send("harbor-host", "Elsewhere").await;
    let r = f.run(&acme, &["show", &id(&other)]).await;
    assert_eq!(r.code, 1, "{r:?}");
}

/// Runs `leadx ARGS` on a pseudo-terminal of `cols` columns (no `COLUMNS`
/// in its environment); its output with the terminal's `\r\n` as `\n`.
fn run_on_pty(home: &Path, url: &str, token: &str, cols: u16, args: &[&str]) -> (u32, String) {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    use std::io::Read;
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 40,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("openpty");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_leadx"));
    cmd.args(args);
    cmd.env_clear();
    cmd.env("HOME", home);
    cmd.env("XDG_CONFIG_HOME", home.join("config"));
    cmd.env("XDG_STATE_HOME", home.join("state"));
    cmd.env("LEADX_SERVER__URL", url);
    cmd.env("LEADX_SERVER__TOKEN", token);
    let mut child = pair.slave.spawn_command(cmd).expect("spawn on pty");
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().expect("reader");
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break, // EOF, or EIO once the child has gone
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
        }
    }
    let status = child.wait().expect("wait");
    drop(pair.master);
    let text = String::from_utf8(bytes)
        .expect("UTF-8")
        .replace("\r\n", "\n");
    (status.exit_code(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_tables_fit_its_width_and_csv_is_cleaned() {
    let f = Fixture::new().await;
    let a = f.send("acme-web", "Main Street Bakery").await;
    let b = f.send("acme-web", "Evil\u{1b}]0;pwned\u{7}Corp").await;
    let (home, url, token) = (
        f.home.path().to_owned(),
        f.w.url.clone(),
        f.w.t.acme.clone(),
    );
    let (narrow, wide, csv) = tokio::task::spawn_blocking(move || {
        (
            run_on_pty(&home, &url, &token, 72, &["list"]),
            run_on_pty(&home, &url, &token, 140, &["list"]),
            run_on_pty(&home, &url, &token, 140, &["list", "--format", "csv"]),
        )
    })
    .await
    .unwrap();

    let (code, text) = narrow;
    assert_eq!(code, 0, "{text}");
    // At 72 columns the ids give up their start (a time the two share)
    // and keep their distinct random ends.
    let tail = |r: &Value| id(r)[id(r).len() - 10..].to_owned();
    assert!(
        text.contains(&tail(&a)) && text.contains(&tail(&b)),
        "{text}"
    );
    for line in text.lines() {
        assert!(leadx::sanitize::width(line) <= 72, "{line:?} wider than 72");
    }
    assert!(!text.contains("CATEGORY"), "no room for it at 72: {text}");

    let (code, text) = wide;
    assert_eq!(code, 0, "{text}");
    assert!(text.lines().next().unwrap().contains("CATEGORY"), "{text}");
    assert!(
        text.contains(&id(&a)) && text.contains(&id(&b)),
        "whole at 140: {text}"
    );
    assert!(text.contains("Main Street Bakery"), "{text}");
    for line in text.lines() {
        assert!(
            leadx::sanitize::width(line) <= 140,
            "{line:?} wider than 140"
        );
    }

    // CSV on a terminal: the same records, with the lead's controls shown
    // as placeholders instead of reaching the terminal.
    let (code, text) = csv;
    assert_eq!(code, 0, "{text}");
    assert!(text.starts_with("id,version,status,"), "{text}");
    assert!(text.contains("Evil␛"), "{text}");
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
}
