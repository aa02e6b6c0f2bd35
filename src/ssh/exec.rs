//! `ssh HOST list --query 'status:pending' --format json`: a headless
//! command run for the session's user.
//!
//! The command line is split as a POSIX shell would (`shell-words`) and
//! parsed with the CLI's own clap definitions ([`crate::cli::Cli`]); only
//! `list`, `show`, `accept`, `reject`, `forward`, `withdraw`, `send` and
//! `watch` are allowed, and none of the connection flags (`--server`,
//! `--token-file`, `--config`, `--profile`): the session decides where and
//! who. It then runs as the `leadx` binary itself in a child process with
//! an empty environment but the server's URL and the session's credential,
//! its stdout and stderr relayed to the channel and its exit status
//! returned: the same code as `leadx list` on a laptop, reaching the
//! exchange through `client` over HTTP.

use std::path::Path;
use std::process::Stdio;

use clap::Parser as _;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::process::Command as Child;

use crate::cli::{Cli, Command};

/// The commands an SSH session may run.
pub const ALLOWED: &[&str] = &[
    "list", "show", "accept", "reject", "forward", "withdraw", "send", "watch",
];

/// Exit status of a refused command line.
pub const EXIT_REFUSED: u32 = 2;

/// The command's words, or why it is refused (one line, for stderr).
pub fn parse(command: &[u8]) -> Result<Vec<String>, String> {
    let text = std::str::from_utf8(command).map_err(|_| "the command is not UTF-8".to_string())?;
    let words = shell_words::split(text).map_err(|e| format!("cannot split the command: {e}"))?;
    let allowed = || format!("allowed: {}", ALLOWED.join(", "));
    let Some(first) = words.first() else {
        return Err(format!("no command given; {}", allowed()));
    };
    if !ALLOWED.contains(&first.as_str()) {
        return Err(format!(
            "{:?} is not offered over SSH; {}",
            crate::sanitize::clean_line(first),
            allowed()
        ));
    }
    let cli =
        Cli::try_parse_from(std::iter::once("leadx".to_string()).chain(words.iter().cloned()))
            .map_err(|e| {
                let text = e.render().to_string();
                let first = text.lines().next().unwrap_or("bad arguments").to_string();
                crate::sanitize::clean_line(first.trim_start_matches("error: "))
            })?;
    let connect = match &cli.command {
        Some(Command::List(a)) => &a.connect,
        Some(Command::Show(a)) => &a.connect,
        Some(
            Command::Accept(a) | Command::Reject(a) | Command::Forward(a) | Command::Withdraw(a),
        ) => &a.connect,
        Some(Command::Send(a)) => &a.connect,
        Some(Command::Watch(a)) => &a.connect,
        _ => return Err(format!("not offered over SSH; {}", allowed())),
    };
    let outer = cli.inbox.connect.first_given();
    if let Some(flag) = connect.first_given().or(outer) {
        return Err(format!(
            "{flag} is not offered over SSH: the session already knows the server and who you are"
        ));
    }
    Ok(words)
}

/// A command to run for a session: `words` (from [`parse`]) as `exe`, for
/// the session's credential (the server's URL and the user's token), with
/// the `env` the client's requests set.
pub struct Invocation<'a> {
    pub exe: &'a Path,
    pub words: &'a [String],
    pub env: &'a std::collections::HashMap<String, String>,
    pub server_url: &'a str,
    pub token: &'a str,
}

/// Runs `what`, feeding it `stdin` and relaying its output to `out` and
/// `err`; its exit status.
pub async fn run(
    what: Invocation<'_>,
    stdin: impl AsyncRead + Unpin + Send + 'static,
    mut out: impl AsyncWrite + Unpin + Send,
    mut err: impl AsyncWrite + Unpin + Send,
) -> u32 {
    let Invocation {
        exe,
        words,
        env,
        server_url,
        token,
    } = what;
    let home = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            let _ = err
                .write_all(format!("leadx: cannot start the command: {e}\r\n").as_bytes())
                .await;
            return EXIT_REFUSED;
        }
    };
    let spawned = Child::new(exe)
        .args(words)
        .env_clear()
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env("XDG_STATE_HOME", home.path())
        .env("LEADX_SERVER__URL", server_url)
        .env("LEADX_SERVER__TOKEN", token)
        // The client's TERM, COLORTERM, NO_COLOR and LANG (the only names
        // its `env` requests may set), as a local command would see them.
        .envs(env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            let _ = err
                .write_all(format!("leadx: cannot start the command: {e}\r\n").as_bytes())
                .await;
            return EXIT_REFUSED;
        }
    };
    let (Some(mut child_in), Some(mut child_out), Some(mut child_err)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return EXIT_REFUSED;
    };
    let feed = tokio::spawn(async move {
        let mut stdin = stdin;
        let _ = tokio::io::copy(&mut stdin, &mut child_in).await;
    });
    let relay_out = relay(&mut child_out, &mut out);
    let relay_err = relay(&mut child_err, &mut err);
    let _ = tokio::join!(relay_out, relay_err);
    feed.abort();
    let status = child.wait().await;
    let _ = out.flush().await;
    let _ = err.flush().await;
    match status {
        Ok(s) => s.code().map_or(EXIT_REFUSED, |c| c as u32),
        Err(_) => EXIT_REFUSED,
    }
}

async fn relay(from: &mut (impl AsyncRead + Unpin), to: &mut (impl AsyncWrite + Unpin)) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if to.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_headless_set_with_the_clis_own_flags() {
        let w = parse(b"list --query 'status:pending' --format json").unwrap();
        assert_eq!(w, ["list", "--query", "status:pending", "--format", "json"]);
        parse(b"accept r_01 --yes").unwrap();
        parse(b"watch").unwrap();
    }

    #[test]
    fn refuses_everything_else_with_a_reason() {
        assert!(
            parse(b"serve")
                .unwrap_err()
                .contains("not offered over SSH")
        );
        assert!(
            parse(b"admin user list")
                .unwrap_err()
                .contains("not offered")
        );
        assert!(parse(b"sh -c id").unwrap_err().contains("not offered"));
        assert!(parse(b"").unwrap_err().contains("no command"));
        assert!(parse(b"list --format nope").unwrap_err().contains("nope"));
        let e = parse(b"list --token-file /etc/shadow").unwrap_err();
        assert!(e.contains("--token-file"), "{e}");
        let e = parse(b"list --server http://elsewhere").unwrap_err();
        assert!(e.contains("--server"), "{e}");
        assert!(parse(b"list 'unclosed").unwrap_err().contains("split"));
    }
}
