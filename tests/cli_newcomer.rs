//! What a newcomer trips over on the command line (issue 9): queries that
//! start with `-`, connection flags before the subcommand, errors that say
//! where a setting came from. A real server in-process and the real
//! `leadx` binary.

#[macro_use]
mod common;
mod cli_support;

use std::process::Stdio;
use std::time::Duration;

use cli_support::{ids, leadx, run, token_file};
use common::{World, id};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_may_start_with_a_dash_everywhere() {
    let w = World::start().await;
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let bakery = w
        .send(&w.t.northwind, "acme-web", "Main Street Bakery", None)
        .await;
    let garage = w
        .send(&w.t.northwind, "acme-web", "Corner Garage", None)
        .await;
    let tf = token_file(home, "acme.token", &w.t.acme);
    let base = ["--server", w.url.as_str(), "--token-file", tf.as_str()];

    fn with<'a>(base: &[&'a str], rest: &[&'a str]) -> Vec<&'a str> {
        [base, rest].concat()
    }
    let args = |rest: &[&'static str]| with(&base, rest);
    let r = run(leadx(
        home,
        &args(&["list", "--query", "-company:bakery", "--format", "json"]),
    ))
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(ids(&r.stdout), vec![id(&garage)]);
    let r = run(leadx(
        home,
        &args(&["list", "-q", "-category:hosting", "--format", "json"]),
    ))
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(ids(&r.stdout).is_empty(), "{r:?}");
    // accept (a plan without --yes) and watch take it too.
    let r = run(leadx(
        home,
        &args(&["accept", "--query", "-company:garage", "--dry-run"]),
    ))
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&id(&bakery)) && !r.stdout.contains(&id(&garage)),
        "{r:?}"
    );
    let mut watch = leadx(home, &args(&["watch", "--query", "-status:expired"]));
    watch.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = watch.spawn().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "watch runs with a -query"
    );
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_flags_go_before_or_after_the_subcommand() {
    let w = World::start().await;
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let a = w.send(&w.t.northwind, "acme-web", "Flagged Co", None).await;
    let tf = token_file(home, "acme.token", &w.t.acme);

    // Before the subcommand.
    let r = run(leadx(
        home,
        &["--token-file", &tf, "--server", &w.url, "accept", &id(&a)],
    ))
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("accepted"), "{r:?}");
    let r = run(leadx(
        home,
        &[
            "--server",
            &w.url,
            "list",
            "--token-file",
            &tf,
            "--format",
            "json",
        ],
    ))
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(ids(&r.stdout), vec![id(&a)]);
    // After it wins over before it.
    let r = run(leadx(
        home,
        &[
            "--server",
            "http://127.0.0.1:9",
            "show",
            &id(&a),
            "--server",
            &w.url,
            "--token-file",
            &tf,
        ],
    ))
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    // Inbox-only flags before a headless command are refused, not ignored.
    let r = run(leadx(
        home,
        &["--theme", "mono", "list", "--server", &w.url],
    ))
    .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--theme goes with the inbox"), "{r:?}");
    let missing = home.join("missing/x.db");
    let missing = missing.to_str().unwrap();
    let r = run(leadx(home, &["--profile", "x", "serve", "--db", missing])).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("--profile does not apply to `leadx serve`"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typos_and_bad_values_are_refused_with_what_to_type() {
    let w = World::start().await;
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let tf = token_file(home, "northwind.token", &w.t.northwind);
    let a = w.send(&w.t.northwind, "acme-web", "Typo Co", None).await;
    let acme_tf = token_file(home, "acme.token", &w.t.acme);
    let send = |extra: &[&str]| {
        let mut args = vec![
            "--server",
            &w.url,
            "--token-file",
            &tf,
            "send",
            "--company",
            "Bakery",
            "--category",
            "hosting",
        ];
        args.extend_from_slice(extra);
        leadx(home, &args)
    };

    let r = run(send(&["--to", "acme-web", "--contact-email", "notanemail"])).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("not an email address (it has no @)"),
        "{r:?}"
    );
    for (value, needle) in [
        ("1,20", "for a decimal type 1.20, for thousands type 120"),
        ("12,5k", "for a decimal type 12.5k"),
        ("99999999999k", "above the largest amount accepted"),
    ] {
        let r = run(send(&["--to", "acme-web", "--value", value])).await;
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains(needle), "{value}: {r:?}");
    }
    let r = run(send(&["--to", "acme-wbe"])).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("(did you mean 'acme-web'?)"), "{r:?}");

    // --currency usd is USD.
    let r = run(send(&[
        "--to",
        "acme-web",
        "--currency",
        "usd",
        "--value",
        "12,500",
    ]))
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    let rid = r.stdout.trim().to_owned();
    let got = w
        .get(&w.t.northwind, &format!("/v1/referrals/{rid}"))
        .await
        .ok();
    assert_eq!(got["lead"]["currency"], "USD", "{got}");
    assert_eq!(got["lead"]["est_value_cents"], 1_250_000, "{got}");

    // A misspelt query field and partner id get a suggestion.
    let r = run(leadx(
        home,
        &[
            "--server",
            &w.url,
            "--token-file",
            &acme_tf,
            "list",
            "-q",
            "catgory:x",
        ],
    ))
    .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("unknown field 'catgory' (did you mean 'category'?)"),
        "{r:?}"
    );
    let r = run(leadx(
        home,
        &[
            "--server",
            &w.url,
            "--token-file",
            &acme_tf,
            "forward",
            &id(&a),
            "--to",
            "harbor-hots",
        ],
    ))
    .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("no partner \"harbor-hots\" on the exchange (did you mean 'harbor-host'?)"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_port_or_token_names_where_it_came_from() {
    let w = World::start().await;
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let tf = token_file(home, "acme.token", &w.t.acme);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = format!("http://127.0.0.1:{port}");

    let r = run(leadx(
        home,
        &["--server", &down, "--token-file", &tf, "list"],
    ))
    .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(r.stderr.lines().count(), 1, "one line: {r:?}");
    assert!(
        r.stderr.contains(&format!(
            "cannot reach the server at {down} (from --server)"
        )),
        "{r:?}"
    );
    assert!(r.stderr.contains("or change --server"), "{r:?}");

    let mut cmd = leadx(home, &["--token-file", &tf, "show", "r_X"]);
    cmd.env("LEADX_SERVER__URL", &down);
    let r = run(cmd).await;
    assert!(
        r.stderr
            .contains("(from environment variable LEADX_SERVER__URL)")
            && r.stderr
                .contains("or change environment variable LEADX_SERVER__URL"),
        "{r:?}"
    );

    let bad = token_file(home, "old.token", "lx_0000");
    let r = run(leadx(
        home,
        &["--server", &w.url, "--token-file", &bad, "list"],
    ))
    .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(r.stderr.lines().count(), 1, "one line: {r:?}");
    let bad_path = home.join("old.token");
    assert!(
        r.stderr.contains(&format!(
            "refused the token from the token file {} (from --token-file)",
            bad_path.display()
        )),
        "{r:?}"
    );
    assert!(
        r.stderr
            .trim_end()
            .ends_with("ask your exchange's admin for a new token"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_action_help_lists_only_its_own_options() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    for (action, shown, hidden) in [
        (
            "accept",
            &["--note", "--query"][..],
            &["--reason", "--to "][..],
        ),
        ("reject", &["--reason", "--note"][..], &["--to "][..]),
        ("forward", &["--to ", "--note"][..], &["--reason"][..]),
        (
            "withdraw",
            &["--query"][..],
            &["--reason", "--to ", "--note"][..],
        ),
    ] {
        let r = run(leadx(home, &[action, "--help"])).await;
        assert_eq!(r.code, 0, "{r:?}");
        for flag in shown {
            assert!(
                r.stdout.contains(flag),
                "{action} --help shows {flag}:\n{}",
                r.stdout
            );
        }
        for flag in hidden {
            assert!(
                !r.stdout.contains(flag),
                "{action} --help hides {flag}:\n{}",
                r.stdout
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_again_what_you_accepted_is_done() {
    let w = World::start().await;
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let tf = token_file(home, "acme.token", &w.t.acme);
    let a = w.send(&w.t.northwind, "acme-web", "Twice Co", None).await;
    let accept = |extra: &[&str]| {
        let mut args = vec![
            "--server",
            w.url.as_str(),
            "--token-file",
            tf.as_str(),
            "accept",
        ];
        args.extend_from_slice(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<String>>()
    };
    let rid = id(&a);
    let first = accept(&[&rid]);
    let r = run(leadx(
        home,
        &first.iter().map(String::as_str).collect::<Vec<_>>(),
    ))
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = run(leadx(
        home,
        &first.iter().map(String::as_str).collect::<Vec<_>>(),
    ))
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        format!("{rid} already accepted by you\n0 applied · 1 already done by you\n"),
        "{r:?}"
    );
    let json = accept(&[&rid, "--format", "json"]);
    let r = run(leadx(
        home,
        &json.iter().map(String::as_str).collect::<Vec<_>>(),
    ))
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    let items: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(items[0]["outcome"], "applied", "{r:?}");
    assert_eq!(items[0]["referral"]["status"], "accepted", "{r:?}");
}
