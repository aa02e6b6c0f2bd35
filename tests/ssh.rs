//! The SSH front end with the system's OpenSSH client: the real server and
//! store in-process, `ssh` as a child (in a pseudo-terminal for the inbox),
//! keys made by `ssh-keygen`. Skipped, saying so, where `ssh` is missing.

mod common;
mod e2e;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use chrono::Utc;
use common::{World, id};
use e2e::{Options, Tui, cursor_row};
use leadx::ssh::{RunningSsh, SshConfig};
use serde_json::Value;

/// A world with the SSH front end, and keys for its users.
struct Ssh {
    w: World,
    ssh: RunningSsh,
    dir: tempfile::TempDir,
}

fn have_ssh() -> bool {
    let ok = ["ssh", "ssh-keygen"]
        .iter()
        .all(|p| std::process::Command::new(p).arg("-V").output().is_ok());
    if !ok {
        eprintln!("skipped: no OpenSSH client (ssh, ssh-keygen) on this machine");
    }
    ok
}

impl Ssh {
    async fn start(tweak: impl FnOnce(&mut SshConfig)) -> Ssh {
        let w = World::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut config = SshConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            dir.path().join("host_ed25519"),
        );
        config.exe = PathBuf::from(env!("CARGO_BIN_EXE_leadx"));
        config.auth_failures_per_minute = 0;
        tweak(&mut config);
        let ssh = leadx::ssh::start(config, w.store.clone(), w.server.as_ref().unwrap())
            .await
            .expect("ssh starts");
        Ssh { w, ssh, dir }
    }

    async fn user_of(&self, token: &str) -> String {
        self.w
            .store
            .authenticate(token)
            .await
            .unwrap()
            .expect("user")
            .user_id
    }

    /// A new ed25519 key pair; the private key's path.
    fn keygen(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        let out = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        path
    }

    /// Registers `key` for the user of `token`; its fingerprint.
    async fn register(&self, token: &str, key: &Path) -> String {
        let text = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        let new = leadx::ssh::keys::parse_public_key(&text).unwrap();
        let user = self.user_of(token).await;
        self.w.store.add_key(&user, &new).await.unwrap().fingerprint
    }

    fn args(&self, key: &Path) -> Vec<String> {
        self.args_at(key, "ERROR")
    }

    /// As [`Ssh::args`], with the client saying more (`INFO`) or less.
    fn args_at(&self, key: &Path, log_level: &str) -> Vec<String> {
        [
            "-F",
            "/dev/null",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            &format!("LogLevel={log_level}"),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "IdentityAgent=none",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=10",
            "-i",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([
            key.display().to_string(),
            "-p".into(),
            self.ssh.addr.port().to_string(),
        ])
        .collect()
    }

    /// `ssh [extra] 127.0.0.1 [command]`, to its end.
    async fn run(&self, key: &Path, extra: &[&str], command: &[&str]) -> Output {
        let mut cmd = tokio::process::Command::new("ssh");
        cmd.args(self.args(key))
            .args(extra)
            .arg("127.0.0.1")
            .args(command)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        tokio::time::timeout(Duration::from_secs(60), cmd.output())
            .await
            .expect("ssh finished in time")
            .unwrap()
    }

    /// The inbox over `ssh -t` in a pseudo-terminal.
    fn tui(&self, key: &Path, cols: u16, rows: u16) -> Tui {
        let mut o = Options::new(&self.w.url, "unused", cols, rows);
        o.program = Some("ssh".into());
        for a in self.args(key) {
            o = o.arg(&a);
        }
        Tui::start(o.arg("-t").arg("127.0.0.1"))
    }
}

/// A world where acme-web's Dana has a key and her inbox is open over SSH
/// (live, with "Alpha Bakery" from northwind-net in it).
async fn dana_inbox(tweak: impl FnOnce(&mut SshConfig)) -> (Ssh, PathBuf, Tui) {
    let s = Ssh::start(tweak).await;
    s.w.send(&s.w.t.northwind, "acme-web", "Alpha Bakery", None)
        .await;
    let dana = s.keygen("dana");
    s.register(&s.w.t.acme, &dana).await;
    let mut t = s.tui(&dana, 100, 30);
    t.until_live("Alpha Bakery");
    (s, dana, t)
}

/// Waits (up to 10 s) until no session holds a slot or a credential.
async fn until_freed(s: &Ssh) {
    let sessions = &s.w.server.as_ref().unwrap().sessions;
    let deadline = Instant::now() + Duration::from_secs(10);
    while (s.ssh.slots.open() > 0 || !sessions.is_empty()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(s.ssh.slots.open(), 0, "the slot was given back");
    assert!(sessions.is_empty(), "the credential is gone");
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_runs_the_headless_set_for_the_key_user_and_refuses_the_rest() {
    if !have_ssh() {
        return;
    }
    let s = Ssh::start(|_| {}).await;
    let ids = [
        id(&s
            .w
            .send(&s.w.t.northwind, "acme-web", "Alpha Bakery", None)
            .await),
        id(&s
            .w
            .send(&s.w.t.acme, "harbor-host", "Harbor Only", None)
            .await),
        id(&s
            .w
            .send(&s.w.t.blue, "harbor-host", "Not Acme's", None)
            .await),
    ];
    let dana = s.keygen("dana");
    s.register(&s.w.t.acme, &dana).await;
    let nia = s.keygen("nia");
    s.register(&s.w.t.northwind, &nia).await;

    // list as JSON: only acme-web's referrals, exit 0.
    let o = s
        .run(
            &dana,
            &[],
            &["list", "--query", "'status:pending'", "--format", "json"],
        )
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let items: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    let got: Vec<&str> = items.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.contains(&ids[0].as_str()) && got.contains(&ids[1].as_str()));
    for r in &items {
        assert!(
            r["from_partner"] == "acme-web" || r["to_partner"] == "acme-web",
            "{r}"
        );
    }
    // Another user sees only their own partner's.
    let o = s.run(&nia, &[], &["list", "--format", "json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let items: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], ids[0].as_str());

    // accept runs for that user; show tells the server's state.
    let o = s.run(&dana, &[], &["accept", &ids[0]]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r =
        s.w.get(&s.w.t.acme, &format!("/v1/referrals/{}", ids[0]))
            .await
            .ok();
    assert_eq!(r["status"], "accepted");
    assert_eq!(r["decided_by"]["name"], "Dana Reyes");
    // A refusal by the server: exit 1, as the CLI.
    let o = s
        .run(&dana, &[], &["show", "r_00000000000000000000000000"])
        .await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));

    // Anything else: refused with a reason and exit 2.
    for cmd in [
        vec!["serve"],
        vec!["admin", "user", "list"],
        vec!["sh", "-c", "id"],
        vec!["list", "--token-file", "/etc/passwd"],
        vec!["list", "--server", "http://elsewhere"],
    ] {
        let o = s.run(&dana, &[], &cmd).await;
        assert_eq!(code(&o), 2, "{cmd:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("leadx:"), "{cmd:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{cmd:?}");
    }
    // No terminal and no command: said, not hung.
    let o = s.run(&dana, &["-T"], &[]).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("needs a terminal"), "{}", stderr(&o));
    // Every session's credential is gone with it.
    assert!(s.w.server.as_ref().unwrap().sessions.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_keys_passwords_revoked_users_and_removed_keys_are_refused() {
    if !have_ssh() {
        return;
    }
    let s = Ssh::start(|_| {}).await;
    let dana = s.keygen("dana");
    let fp = s.register(&s.w.t.acme, &dana).await;
    let stranger = s.keygen("stranger");
    let denied = |o: &Output| code(o) == 255 && stderr(o).contains("Permission denied (publickey)");

    assert_eq!(code(&s.run(&dana, &[], &["list"]).await), 0);
    let o = s.run(&stranger, &[], &["list"]).await;
    assert!(denied(&o), "{}", stderr(&o));
    // A password is not even offered as a method.
    let o = s
        .run(
            &dana,
            &[
                "-o",
                "PubkeyAuthentication=no",
                "-o",
                "PreferredAuthentications=password,keyboard-interactive",
            ],
            &["list"],
        )
        .await;
    assert!(denied(&o), "{}", stderr(&o));

    // A removed key stops working.
    let user = s.user_of(&s.w.t.acme).await;
    assert!(s.w.store.remove_key(&user, &fp).await.unwrap());
    let o = s.run(&dana, &[], &["list"]).await;
    assert!(denied(&o), "{}", stderr(&o));
    // A revoked user's keys stop working.
    let nia = s.keygen("nia");
    s.register(&s.w.t.northwind, &nia).await;
    assert_eq!(code(&s.run(&nia, &[], &["list"]).await), 0);
    let nia_user = s.user_of(&s.w.t.northwind).await;
    assert!(s.w.store.revoke_user(&nia_user).await.unwrap());
    let o = s.run(&nia, &[], &["list"]).await;
    assert!(denied(&o), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_attempts_are_throttled_per_address() {
    if !have_ssh() {
        return;
    }
    let s = Ssh::start(|c| c.auth_failures_per_minute = 2).await;
    let dana = s.keygen("dana");
    s.register(&s.w.t.acme, &dana).await;
    let stranger = s.keygen("stranger");
    for _ in 0..3 {
        assert_eq!(code(&s.run(&stranger, &[], &["list"]).await), 255);
    }
    // Over the allowance, even a good key waits.
    let o = s.run(&dana, &[], &["list"]).await;
    assert_eq!(code(&o), 255, "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_agent_and_subsystems_are_refused() {
    if !have_ssh() {
        return;
    }
    let s = Ssh::start(|_| {}).await;
    let dana = s.keygen("dana");
    s.register(&s.w.t.acme, &dana).await;
    let port = s.w.server.as_ref().unwrap().addr.port().to_string();

    // -W (a direct-tcpip channel, what -L opens): refused with a reason.
    let o = tokio::process::Command::new("ssh")
        .args(s.args_at(&dana, "INFO"))
        .args(["-W", &format!("127.0.0.1:{port}"), "127.0.0.1"])
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert_ne!(code(&o), 0);
    assert!(
        stderr(&o).contains("port forwarding is not offered"),
        "{}",
        stderr(&o)
    );
    // -L: the listener is the client's; the channel it opens is refused.
    let local = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let lport = local.local_addr().unwrap().port();
    drop(local);
    let mut forward = tokio::process::Command::new("ssh")
        .args(s.args(&dana))
        .args([
            "-N",
            "-L",
            &format!("{lport}:127.0.0.1:{port}"),
            "127.0.0.1",
        ])
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let got = loop {
        if let Ok(mut c) = tokio::net::TcpStream::connect(("127.0.0.1", lport)).await {
            use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
            let _ = c.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").await;
            let mut buf = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(5), c.read_to_end(&mut buf)).await;
            break buf;
        }
        assert!(Instant::now() < deadline, "the -L listener never came up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        got.is_empty(),
        "the server's HTTP answered through -L: {got:?}"
    );
    forward.kill().await.unwrap();
    // -R: the server will not listen for the client.
    let o = s
        .run(
            &dana,
            &["-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:9"],
            &["list"],
        )
        .await;
    assert_eq!(code(&o), 255, "{}", stderr(&o));
    assert!(stderr(&o).contains("forwarding failed"), "{}", stderr(&o));
    // -s sftp: no subsystems.
    let o = s.run(&dana, &["-s"], &["sftp"]).await;
    assert_ne!(code(&o), 0);
    assert!(
        stderr(&o).contains("subsystem request failed"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_over_ssh_accepts_resizes_and_quits_cleanly() {
    if !have_ssh() {
        return;
    }
    let s = Ssh::start(|_| {}).await;
    s.w.clock.set(Utc::now() - chrono::Duration::hours(1));
    let mut ids = Vec::new();
    for c in ["Alpha Bakery", "Bravo Dental"] {
        ids.push(id(&s.w.send(&s.w.t.northwind, "acme-web", c, None).await));
        s.w.clock.advance(chrono::Duration::minutes(10));
    }
    // A hostile lead: its escape sequences must never reach the channel.
    let hostile = "Evil \u{1b}]0;pwned\u{7}\u{1b}[2JCorp";
    s.w.send(&s.w.t.northwind, "acme-web", hostile, None).await;
    // Not acme-web's: never on its screen.
    s.w.send(&s.w.t.blue, "harbor-host", "Harbor Secret", None)
        .await;
    let dana = s.keygen("dana");
    s.register(&s.w.t.acme, &dana).await;

    let mut t = s.tui(&dana, 100, 30);
    let screen = t.until_live("Alpha Bakery");
    assert!(
        screen.lines().next().unwrap().contains("Dana Reyes"),
        "{screen}"
    );
    assert!(screen.contains("Bravo Dental"));
    assert!(screen.contains("Evil"), "{screen}");
    assert!(!screen.contains("Harbor Secret"));
    assert!(t.alternate_screen());
    let raw = t.raw_bytes();
    let raw = String::from_utf8_lossy(&raw);
    assert!(
        !raw.contains("\u{1b}]0;pwned"),
        "an OSC reached the channel raw"
    );
    assert!(!raw.contains("\u{1b}[2JCorp"));

    // Accept the row under the cursor (the newest: the hostile one is on
    // top, then Bravo).
    t.send("j");
    t.until("the cursor on Bravo Dental", |s| {
        cursor_row(s).is_some_and(|r| r.contains("Bravo Dental"))
    });
    t.send("a");
    t.until("Bravo Dental accepted", |s| {
        cursor_row(s).is_some_and(|r| r.contains("Bravo Dental") && r.contains("accepted"))
    });
    let r =
        s.w.get(&s.w.t.acme, &format!("/v1/referrals/{}", ids[1]))
            .await
            .ok();
    assert_eq!(r["status"], "accepted");
    assert_eq!(r["decided_by"]["name"], "Dana Reyes");

    // window-change: the inbox is redrawn at the new size.
    t.resize(70, 20);
    // The pane's top-right corner at the new width (a frame left at 100
    // columns would show a border cut off, without its corner).
    t.until("a 70x20 frame", |s| {
        let lines: Vec<&str> = s.lines().collect();
        lines.get(1).is_some_and(|l| {
            let l = l.trim_end();
            l.ends_with('┓') && l.chars().count() == 70
        }) && lines.iter().any(|l| l.starts_with('┗'))
    });
    let status = t.quit();
    assert_eq!(status.exit_code(), 0);
    assert!(!t.alternate_screen(), "the client's screen was restored");
    assert!(!t.cursor_hidden());
    until_freed(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_of_a_user_revoked_meanwhile_ends_within_seconds() {
    if !have_ssh() {
        return;
    }
    let (s, dana, mut t) = dana_inbox(|c| c.max_sessions_per_user = 1).await;
    // The per-user cap: a second session is told, not hung.
    let o = s.run(&dana, &[], &["list"]).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("limit per user"), "{}", stderr(&o));

    let user = s.user_of(&s.w.t.acme).await;
    let revoked_at = Instant::now();
    assert!(s.w.store.revoke_user(&user).await.unwrap());
    let status = tokio::task::block_in_place(|| t.wait_exit());
    assert!(
        revoked_at.elapsed() < Duration::from_secs(5),
        "took {:?}",
        revoked_at.elapsed()
    );
    assert_ne!(status.exit_code(), 0);
    assert!(!t.alternate_screen(), "the client's screen was restored");
    assert!(t.screen().contains("revoked"), "{}", t.screen());
    until_freed(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_ends_its_session_and_frees_everything() {
    if !have_ssh() {
        return;
    }
    let (s, _, t) = dana_inbox(|_| {}).await;
    assert_eq!(s.ssh.slots.open(), 1);
    assert_eq!(s.w.server.as_ref().unwrap().sessions.len(), 1);
    // The client dies without a word: the connection drops.
    unsafe { libc::kill(t.pid() as i32, libc::SIGKILL) };
    until_freed(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
    if !have_ssh() {
        return;
    }
    let (s, _, mut t) = dana_inbox(|c| c.idle_timeout = Duration::from_secs(2)).await;
    let idle_from = Instant::now();
    let status = tokio::task::block_in_place(|| t.wait_exit());
    assert!(
        idle_from.elapsed() < Duration::from_secs(8),
        "{:?}",
        idle_from.elapsed()
    );
    assert_ne!(status.exit_code(), 0);
    until_freed(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_whose_client_went_away_is_stopped() {
    if !have_ssh() {
        return;
    }
    let s = Ssh::start(|_| {}).await;
    let dana = s.keygen("dana");
    s.register(&s.w.t.acme, &dana).await;
    // `watch` prints nothing while nothing happens: only the client's
    // going away can end it.
    let mut watch = tokio::process::Command::new("ssh")
        .args(s.args(&dana))
        .args(["127.0.0.1", "watch"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.ssh.slots.open() == 0 {
        assert!(Instant::now() < deadline, "the watch session never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    watch.kill().await.unwrap();
    until_freed(&s).await;
}
