//! What the CLI tests of issue 9 share: the real `leadx` binary with a
//! clean environment, its outcome, and token files.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::process::Command;

use crate::common::id;

/// The binary with a clean environment (no server, no token) and empty
/// config and state folders under `home`.
pub fn leadx(home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leadx"));
    cmd.args(args)
        .env_clear()
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("COLUMNS", "100")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// [`leadx`] against the server at `url`, as the holder of `token` (when
/// given), both from the environment.
pub fn leadx_to(home: &Path, url: &str, token: Option<&str>, args: &[&str]) -> Command {
    let mut cmd = leadx(home, args);
    cmd.env("LEADX_SERVER__URL", url);
    if let Some(t) = token {
        cmd.env("LEADX_SERVER__TOKEN", t);
    }
    cmd
}

/// Runs a command to the end (at most 60 s).
pub async fn output(mut cmd: Command) -> Output {
    tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("leadx finished within 60 s")
        .expect("leadx runs")
}

/// Reads lines from `lines` until one satisfies `pred` (30 s at most).
pub async fn wait_line<R: tokio::io::AsyncBufRead + Unpin>(
    lines: &mut tokio::io::Lines<R>,
    what: &str,
    pred: impl Fn(&str) -> bool,
) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let line = tokio::time::timeout_at(deadline, lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .expect("read")
            .unwrap_or_else(|| panic!("stream ended before {what}"));
        if pred(&line) {
            return line;
        }
    }
}

/// Sends `signal` (`TERM`, `INT`) to `pid`.
pub fn signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub async fn run(mut cmd: Command) -> Run {
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("leadx finished within 60 s")
        .expect("leadx runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// A token file (mode 0600) in `home`.
pub fn token_file(home: &Path, name: &str, token: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = home.join(name);
    std::fs::write(&path, format!("{token}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path.to_str().unwrap().to_owned()
}

pub fn ids(json: &str) -> Vec<String> {
    let items: Vec<Value> = serde_json::from_str(json).expect("a JSON array");
    items.iter().map(id).collect()
}
