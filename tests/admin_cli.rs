//! `leadx admin`: partners and users, bad input as one line and exit 2.
//! Runs the real `leadx` binary.

use std::process::Command;

use leadx::{clock, domain, store, wire};

struct Out {
    code: u8,
    stdout: String,
    stderr: String,
}

fn admin(db: &std::path::Path, argv: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_leadx"))
        .arg("admin")
        .arg("--db")
        .arg(db)
        .args(argv)
        .env_remove("RUST_LOG")
        .output()
        .expect("leadx runs");
    Out {
        code: out.status.code().expect("exited") as u8,
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn assert_bad_input(o: &Out, needle: &str) {
    assert_eq!(o.code, 2, "stderr: {}", o.stderr);
    assert!(o.stdout.is_empty(), "stdout: {}", o.stdout);
    assert_eq!(o.stderr.lines().count(), 1, "one line: {:?}", o.stderr);
    assert!(o.stderr.starts_with("leadx: "), "{:?}", o.stderr);
    assert!(o.stderr.contains(needle), "{:?} lacks {needle:?}", o.stderr);
}

#[test]
fn partners_users_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let o = admin(
        &db,
        &[
            "partner",
            "add",
            "acme-web",
            "--name",
            "Acme Web",
            "--categories",
            "design,hosting",
            "--regions",
            "US-West",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = admin(
        &db,
        &[
            "partner",
            "add",
            "northwind-net",
            "--name",
            "Northwind",
            "--kind",
            "provider",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);

    let o = admin(&db, &["partner", "list"]);
    assert_eq!(o.code, 0);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", o.stdout);
    assert!(lines[1].starts_with("acme-web") && lines[1].contains("integrator"));
    assert!(lines[1].contains("design,hosting") && lines[1].contains("US-West"));
    assert!(lines[2].starts_with("northwind-net") && lines[2].contains("provider"));

    let o = admin(
        &db,
        &[
            "user",
            "add",
            "--partner",
            "acme-web",
            "--name",
            "Dana Reyes",
            "--role",
            "agent",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let token = o.stdout.strip_suffix('\n').expect("one line");
    assert!(
        !token.contains('\n') && token.starts_with("lx_"),
        "{:?}",
        o.stdout
    );

    // The token works against the same database.
    let s = store::sqlite::SqliteStore::open(&db, clock::system()).unwrap();
    let actor = s.authenticate(token).unwrap().expect("token authenticates");
    assert_eq!(actor.partner_id, "acme-web");
    assert_eq!(actor.role, wire::Role::Agent);
    drop(s);

    let o = admin(&db, &["user", "list"]);
    assert_eq!(o.code, 0);
    assert!(o.stdout.contains(&actor.user_id) && o.stdout.contains("active"));
    assert!(!o.stdout.contains(token), "never print tokens in lists");

    let o = admin(&db, &["user", "revoke", &actor.user_id]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let s = store::sqlite::SqliteStore::open(&db, clock::system()).unwrap();
    assert!(s.authenticate(token).unwrap().is_none());
    drop(s);
    let o = admin(&db, &["user", "list"]);
    assert!(o.stdout.contains("revoked"));
    assert_bad_input(
        &admin(&db, &["user", "revoke", &actor.user_id]),
        "no active user",
    );
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    assert_eq!(
        admin(&db, &["partner", "add", "acme-web", "--name", "Acme"]).code,
        0
    );
    assert_bad_input(
        &admin(&db, &["partner", "add", "acme-web", "--name", "Again"]),
        "already exists",
    );
    assert_bad_input(
        &admin(&db, &["partner", "add", "Acme_Web", "--name", "A"]),
        "bad partner id",
    );
    assert_bad_input(
        &admin(&db, &["partner", "add", "x", "--name", "A"]),
        "bad partner id",
    );
    assert_bad_input(
        &admin(
            &db,
            &[
                "partner", "add", "ok-id", "--name", "A", "--kind", "carrier",
            ],
        ),
        "unknown partner kind",
    );
    assert_bad_input(
        &admin(
            &db,
            &[
                "user",
                "add",
                "--partner",
                "nobody",
                "--name",
                "N",
                "--role",
                "agent",
            ],
        ),
        "nobody",
    );
    assert_bad_input(
        &admin(
            &db,
            &[
                "user",
                "add",
                "--partner",
                "acme-web",
                "--name",
                "N",
                "--role",
                "boss",
            ],
        ),
        "unknown role",
    );
    // Hostile text is never echoed raw.
    let o = admin(&db, &["partner", "add", "evil\u{1b}[2J", "--name", "E"]);
    assert_bad_input(&o, "bad partner id");
    assert!(!o.stderr.contains('\u{1b}'));
    let o = admin(
        &db,
        &["partner", "add", "shady", "--name", "Sh\u{202e}ady\u{7}"],
    );
    assert_eq!(o.code, 0);
    let list = admin(&db, &["partner", "list"]).stdout;
    assert!(
        !list.contains('\u{202e}') && !list.contains('\u{7}'),
        "{list:?}"
    );
    assert!(list.contains("\\u{202e}"));
    // Nothing of the refused ones was added.
    let s = store::sqlite::SqliteStore::open(&db, clock::system()).unwrap();
    let ids: Vec<String> = s
        .list_partners(None)
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, ["acme-web", "shady"]);
    assert!(s.list_users().unwrap().is_empty());
    assert!(domain::validate::is_slug("shady"));
}

#[test]
fn run_with_writes_to_the_given_streams() {
    use clap::Parser;
    use leadx::cli::admin;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: admin::AdminArgs,
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let parse = |argv: &[&str]| {
        let mut full = vec!["leadx-admin", "--db", db.to_str().unwrap()];
        full.extend_from_slice(argv);
        Cli::try_parse_from(full).unwrap().args
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = admin::run_with(
        parse(&["partner", "add", "ab", "--name", "AB"]),
        &mut out,
        &mut err,
    );
    assert_eq!(code, 0);
    assert_eq!(String::from_utf8(out).unwrap(), "added partner ab\n");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = admin::run_with(
        parse(&[
            "user",
            "add",
            "--partner",
            "ab",
            "--name",
            "N",
            "--role",
            "x",
        ]),
        &mut out,
        &mut err,
    );
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        String::from_utf8(err)
            .unwrap()
            .starts_with("leadx: unknown role")
    );
}
