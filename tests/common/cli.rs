//! The `leadx` binary as a user runs it against a test server, for the
//! CLI suites.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::process::Command;

/// The binary with a clean environment: only the server URL and token
/// (when given), and config/state directories that are empty.
pub fn leadx(home: &Path, url: &str, token: Option<&str>, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leadx"));
    cmd.args(args)
        .env_clear()
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("COLUMNS", "100")
        .env("LEADX_SERVER__URL", url)
        .stdin(Stdio::null())
        .kill_on_drop(true);
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
