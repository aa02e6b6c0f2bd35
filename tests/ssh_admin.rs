//! `leadx admin user add-key|keys|remove-key`: the real `leadx` binary on a
//! SQLite file; bad input is one line and exit 2.

use std::process::Command;

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
        .output()
        .expect("leadx runs");
    Out {
        code: out.status.code().expect("exited") as u8,
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

#[track_caller]
fn bad(o: &Out, needle: &str) {
    assert_eq!(o.code, 2, "stderr: {}", o.stderr);
    assert!(o.stdout.is_empty(), "stdout: {}", o.stdout);
    assert_eq!(o.stderr.lines().count(), 1, "one line: {:?}", o.stderr);
    assert!(o.stderr.contains(needle), "{:?} lacks {needle:?}", o.stderr);
}

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
    bad(
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
    bad(
        &admin(&db, &["user", "add-key", &lee, "--key", "ssh-ed25519 nope"]),
        "not an OpenSSH public key",
    );
    bad(
        &admin(&db, &["user", "add-key", "u_nobody", "--key", KEY]),
        "no active user",
    );
    bad(
        &admin(
            &db,
            &["user", "add-key", &lee, "--key-file", "/no/such.pub"],
        ),
        "cannot read the key file",
    );
    let o = admin(&db, &["user", "add-key", &lee]);
    assert_eq!(o.code, 2, "{}", o.stderr);

    bad(&admin(&db, &["user", "remove-key", &lee, FP]), "has no key");
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
