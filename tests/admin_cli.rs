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

/// `leadx ARGV` with no `--db` added.
fn leadx_raw(argv: &[&str], env: &[(&str, &str)]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_leadx"))
        .args(argv)
        .env_remove("RUST_LOG")
        .env_remove("LEADX_DB")
        .envs(env.iter().copied())
        .output()
        .expect("leadx runs");
    Out {
        code: out.status.code().expect("exited") as u8,
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

#[test]
fn db_is_taken_anywhere_after_admin_and_from_leadx_db() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let db = db.to_str().unwrap();
    let o = leadx_raw(
        &[
            "admin", "partner", "add", "acme-web", "--name", "Acme", "--db", db,
        ],
        &[],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = leadx_raw(&["admin", "partner", "--db", db, "list"], &[]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("acme-web"), "{}", o.stdout);
    let o = leadx_raw(&["admin", "partner", "list"], &[("LEADX_DB", db)]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("acme-web"), "{}", o.stdout);
    assert_bad_input(&leadx_raw(&["admin", "partner", "list"], &[]), "LEADX_DB");
    // A connection flag before `admin` is refused, not ignored.
    let o = leadx_raw(
        &["--server", "http://x", "admin", "partner", "list"],
        &[("LEADX_DB", db)],
    );
    assert_bad_input(&o, "--server does not apply to `leadx admin`");
}

#[test]
fn partner_edit_remove_and_user_rotate_and_out() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    for id in ["acme-web", "harbor-host"] {
        assert_eq!(admin(&db, &["partner", "add", id, "--name", id]).code, 0);
    }
    let o = admin(
        &db,
        &[
            "partner",
            "edit",
            "acme-web",
            "--name",
            "Acme Web Studio",
            "--kind",
            "affiliate",
            "--categories",
            "design,services",
            "--regions",
            "US-West,EU",
        ],
    );
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "updated partner acme-web\n"),
        "{}",
        o.stderr
    );
    let list = admin(&db, &["partner", "list"]).stdout;
    let row = list.lines().find(|l| l.starts_with("acme-web")).unwrap();
    for part in [
        "affiliate",
        "Acme Web Studio",
        "design,services",
        "US-West,EU",
    ] {
        assert!(row.contains(part), "{row:?} lacks {part:?}");
    }
    assert_bad_input(
        &admin(&db, &["partner", "edit", "acme-web"]),
        "nothing to change",
    );
    assert_bad_input(
        &admin(&db, &["partner", "edit", "nobody", "--name", "N"]),
        "no partner \"nobody\"",
    );
    assert_bad_input(
        &admin(&db, &["partner", "edit", "acme-web", "--kind", "carrier"]),
        "unknown partner kind",
    );

    // user add --out: the token in a file only its owner can read.
    let token_file = dir.path().join("dana.token");
    let o = admin(
        &db,
        &[
            "user",
            "add",
            "--partner",
            "acme-web",
            "--name",
            "Dana",
            "--role",
            "agent",
            "--out",
            token_file.to_str().unwrap(),
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.is_empty(),
        "the token is not printed: {:?}",
        o.stdout
    );
    assert!(o.stderr.contains("dana.token (mode 0600)"), "{}", o.stderr);
    let meta = std::fs::metadata(&token_file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let old = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_owned();
    let s = store::sqlite::SqliteStore::open(&db, clock::system()).unwrap();
    let dana = s
        .authenticate(&old)
        .unwrap()
        .expect("the written token works");
    drop(s);
    // --out into a folder that does not exist fails before any user exists.
    let o = admin(
        &db,
        &[
            "user",
            "add",
            "--partner",
            "acme-web",
            "--name",
            "Lost",
            "--role",
            "agent",
            "--out",
            dir.path().join("missing/x.token").to_str().unwrap(),
        ],
    );
    assert_bad_input(&o, "cannot write a token into");
    assert!(!admin(&db, &["user", "list"]).stdout.contains("Lost"));

    // rotate: a new token over the old file; the old token stops working.
    let o = admin(
        &db,
        &[
            "user",
            "rotate",
            &dana.user_id,
            "--out",
            token_file.to_str().unwrap(),
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr.contains("the old one no longer works"),
        "{}",
        o.stderr
    );
    let new = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_owned();
    assert_ne!(new, old);
    let meta = std::fs::metadata(&token_file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let s = store::sqlite::SqliteStore::open(&db, clock::system()).unwrap();
    assert!(s.authenticate(&old).unwrap().is_none());
    assert_eq!(s.authenticate(&new).unwrap().unwrap().user_id, dana.user_id);
    drop(s);
    let o = admin(&db, &["user", "rotate", &dana.user_id]);
    assert_eq!(o.code, 0);
    assert!(o.stdout.trim().starts_with("lx_") && o.stdout.lines().count() == 1);
    assert_bad_input(
        &admin(&db, &["user", "rotate", "u_nobody"]),
        "no active user",
    );

    // remove: refused while a user is active, done once revoked.
    assert_bad_input(
        &admin(&db, &["partner", "remove", "acme-web"]),
        "revoke them first",
    );
    assert_eq!(admin(&db, &["user", "revoke", &dana.user_id]).code, 0);
    let o = admin(&db, &["partner", "remove", "acme-web"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "removed partner acme-web\n"),
        "{}",
        o.stderr
    );
    assert_bad_input(
        &admin(&db, &["partner", "remove", "acme-web"]),
        "no partner",
    );
    let list = admin(&db, &["partner", "list"]).stdout;
    assert!(
        !list.contains("acme-web") && list.contains("harbor-host"),
        "{list}"
    );
}

#[test]
fn a_missing_database_folder_is_named_once_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("missing/leadx.db");
    let db = db.to_str().unwrap();
    for argv in [
        &["serve", "--db", db][..],
        &["admin", "--db", db, "partner", "list"][..],
    ] {
        let o = leadx_raw(argv, &[]);
        assert_bad_input(&o, "does not exist (create it with `mkdir -p");
        assert_eq!(o.stderr.matches("leadx.db").count(), 1, "{:?}", o.stderr);
    }
}

// -- SSH keys (`user add-key|keys|remove-key`) --------------------------

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl dana@laptop";
const FP: &str = "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU";

#[test]
fn keys_are_added_listed_and_removed_one_user_each() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    assert_eq!(
        admin(&db, &["partner", "add", "acme-web", "--name", "Acme"]).code,
        0
    );
    let user = |name: &str| {
        let o = admin(
            &db,
            &[
                "user",
                "add",
                "--partner",
                "acme-web",
                "--name",
                name,
                "--role",
                "agent",
            ],
        );
        assert_eq!(o.code, 0, "{}", o.stderr);
        o.stderr
            .split_whitespace()
            .find(|w| w.starts_with("u_"))
            .expect("the new user's id")
            .to_owned()
    };
    let dana = user("Dana");
    let lee = user("Lee");

    let o = admin(&db, &["user", "add-key", &dana, "--key", KEY]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.contains(FP) && o.stdout.contains("dana@laptop"),
        "{}",
        o.stdout
    );
    let o = admin(&db, &["user", "keys", &dana]);
    assert_eq!(o.code, 0);
    let row = o.stdout.lines().nth(1).expect("one key");
    assert!(
        row.starts_with(FP) && row.contains("never") && row.contains("dana@laptop"),
        "{row}"
    );

    // One key, one user; a key file works as --key does.
    let file = dir.path().join("id_ed25519.pub");
    std::fs::write(&file, format!("{KEY}\n")).unwrap();
    assert_bad_input(
        &admin(
            &db,
            &[
                "user",
                "add-key",
                &lee,
                "--key-file",
                file.to_str().unwrap(),
            ],
        ),
        "registered already",
    );
    assert_bad_input(
        &admin(&db, &["user", "add-key", &lee, "--key", "ssh-ed25519 nope"]),
        "not an OpenSSH public key",
    );
    assert_bad_input(
        &admin(&db, &["user", "add-key", "u_nobody", "--key", KEY]),
        "no active user",
    );
    assert_bad_input(
        &admin(
            &db,
            &["user", "add-key", &lee, "--key-file", "/no/such.pub"],
        ),
        "cannot read the key file",
    );
    let o = admin(&db, &["user", "add-key", &lee]);
    assert_eq!(o.code, 2, "{}", o.stderr);

    assert_bad_input(&admin(&db, &["user", "remove-key", &lee, FP]), "has no key");
    let o = admin(&db, &["user", "remove-key", &dana, FP]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        admin(&db, &["user", "keys", &dana]).stdout.lines().count(),
        1
    );
    // Free again: it may now go to another user.
    let o = admin(
        &db,
        &[
            "user",
            "add-key",
            &lee,
            "--key-file",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
}
