//! One SSH session channel: what the client asks for (`pty-req`, `env`,
//! then `shell` or `exec`), the user's slot and session credential, and
//! its end (the user quit, the command finished, the channel closed, the
//! user was revoked).

use std::collections::HashMap;
use std::sync::Arc;

use russh::server::{Handle, Msg};
use russh::{Channel, ChannelMsg, ChannelWriteHalf};
use tokio::sync::mpsc;

use super::{Shared, exec};
use crate::config::Settings;
use crate::domain::Actor;
use crate::inbox::app::{Remote, run_remote};
use crate::inbox::runtime::ssh::RemoteInput;
use crate::sanitize::clean_line;

/// The `env` requests honoured; every other name is refused.
pub(super) const ENV_KEPT: &[&str] = &["TERM", "COLORTERM", "NO_COLOR", "LANG"];
/// Channel messages queued for the inbox at most (the rest wait in the
/// channel's window: the client is not read further until they are taken).
const INPUT_QUEUE: usize = 64;
/// The longest `env` value kept.
const ENV_MAX: usize = 64;

enum Mode {
    Shell,
    Exec(Vec<u8>),
}

/// Runs one session channel to its end.
pub(super) async fn run(
    shared: Arc<Shared>,
    actor: Actor,
    mut channel: Channel<Msg>,
    handle: Handle,
) {
    let mut pty: Option<(u16, u16)> = None;
    let mut env: HashMap<String, String> = HashMap::new();
    let mode = loop {
        match channel.wait().await {
            Some(ChannelMsg::RequestPty {
                term,
                col_width,
                row_height,
                ..
            }) => {
                pty = Some((clamp(col_width), clamp(row_height)));
                env.insert("TERM".into(), short(&term));
            }
            Some(ChannelMsg::SetEnv {
                variable_name,
                variable_value,
                ..
            }) if ENV_KEPT.contains(&variable_name.as_str()) => {
                env.insert(variable_name, short(&variable_value));
            }
            Some(ChannelMsg::RequestShell { .. }) => break Mode::Shell,
            Some(ChannelMsg::Exec { command, .. }) => break Mode::Exec(command),
            Some(ChannelMsg::RequestSubsystem { name, .. }) => {
                let (_, w) = channel.split();
                let what = format!(
                    "the {} subsystem is not offered (no file transfer); `ssh HOST` opens the inbox",
                    clean_line(&name)
                );
                refuse(&w, &what, exec::EXIT_REFUSED).await;
                return;
            }
            Some(ChannelMsg::Eof | ChannelMsg::Close) | None => return,
            Some(_) => {}
        }
    };
    let (mut read, write) = channel.split();
    if matches!(mode, Mode::Shell) && pty.is_none() {
        let what = "the inbox needs a terminal: connect with `ssh -t`, or give a command \
                    (list, show, accept, reject, forward, withdraw, send, watch)";
        refuse(&write, what, exec::EXIT_REFUSED).await;
        return;
    }
    let words = match &mode {
        Mode::Exec(command) => match exec::parse(command) {
            Ok(w) => Some(w),
            Err(why) => {
                refuse(&write, &why, exec::EXIT_REFUSED).await;
                return;
            }
        },
        Mode::Shell => None,
    };
    let _slot = match shared.slots.take(&actor.user_id) {
        Ok(s) => s,
        Err(why) => {
            refuse(&write, &why, 1).await;
            return;
        }
    };
    let credential = shared.sessions.issue(actor.clone());
    let mut revocations = shared.revocations.subscribe();
    let token = credential.token().to_owned();
    let revoked = {
        let sessions = shared.sessions.clone();
        let token = token.clone();
        async move {
            // The watcher drops the user's credentials before it tells.
            loop {
                let _ = revocations.recv().await;
                if sessions.find(&token).is_none() {
                    return;
                }
            }
        }
    };
    tracing::info!(user = %actor.user_id, shell = words.is_none(), "SSH session starts");

    // The channel's input: to the inbox, or drained while a command runs.
    let (tx, rx) = mpsc::channel::<RemoteInput>(INPUT_QUEUE);
    let mut pump = tokio::spawn(async move {
        while let Some(msg) = read.wait().await {
            let input = match msg {
                ChannelMsg::Data { data } => RemoteInput::Bytes(data.to_vec()),
                ChannelMsg::WindowChange {
                    col_width,
                    row_height,
                    ..
                } => RemoteInput::Resize(clamp(col_width), clamp(row_height)),
                // EOF is the client's stdin ending (`ssh host cmd <
                // /dev/null` sends it at once): it may still be reading
                // the output. Only a close means it went away.
                ChannelMsg::Eof => continue,
                ChannelMsg::Close => break,
                _ => continue,
            };
            if tx.send(input).await.is_err() {
                // A command is running: its input is not read.
                continue;
            }
        }
    });
    let outcome = match words {
        None => {
            let settings = Settings {
                server_url: shared.api_url.clone(),
                token: token.clone(),
                ..Settings::default()
            };
            let client = shared.transport.for_token(&token);
            let work = async {
                let client = client.map_err(|e| anyhow::anyhow!("{e}"))?;
                let remote = Remote {
                    size: pty.unwrap_or((80, 24)),
                    env,
                    input: rx,
                    output: write.make_writer(),
                };
                run_remote(settings, client, remote).await
            };
            tokio::pin!(work);
            tokio::select! {
                r = &mut work => r.map(|()| 0).unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "SSH inbox stopped on an error");
                    1
                }),
                () = revoked => {
                    // Closing the input ends the app, which restores the
                    // client's screen; then the session ends.
                    pump.abort();
                    let _ = work.await;
                    refuse(&write, "your access was revoked; the session ends", 1).await;
                    let _ = handle.disconnect(russh::Disconnect::ByApplication, "access revoked".into(), "".into()).await;
                    return;
                }
            }
        }
        Some(words) => {
            drop(rx);
            let what = exec::Invocation {
                exe: &shared.exe,
                words: &words,
                env: &env,
                server_url: &shared.api_url,
                token: &token,
            };
            let work = exec::run(
                what,
                tokio::io::empty(),
                write.make_writer(),
                write.make_writer_ext(Some(1)),
            );
            tokio::select! {
                code = work => code,
                // The client went away: the command (a `watch` that
                // prints nothing) is killed with it.
                _ = &mut pump => {
                    tracing::info!(user = %actor.user_id, "SSH client gone; command stopped");
                    255
                }
                () = revoked => {
                    refuse(&write, "your access was revoked; the session ends", 1).await;
                    let _ = handle.disconnect(russh::Disconnect::ByApplication, "access revoked".into(), "".into()).await;
                    return;
                }
            }
        }
    };
    pump.abort();
    drop(credential);
    tracing::info!(user = %actor.user_id, status = outcome, "SSH session ends");
    let _ = write.exit_status(outcome).await;
    let _ = write.eof().await;
    let _ = write.close().await;
}

/// Says why on the channel's stderr, returns `code`, closes the channel.
async fn refuse(write: &ChannelWriteHalf<Msg>, why: &str, code: u32) {
    let line = format!("leadx: {}\r\n", clean_line(why));
    let _ = write.extended_data_bytes(1, line.into_bytes()).await;
    let _ = write.exit_status(code).await;
    let _ = write.eof().await;
    let _ = write.close().await;
}

fn clamp(n: u32) -> u16 {
    n.clamp(1, 1000) as u16
}

fn short(value: &str) -> String {
    clean_line(value).chars().take(ENV_MAX).collect()
}
