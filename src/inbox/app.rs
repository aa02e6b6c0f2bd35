//! The inbox app's entry points: [`run`] on the local terminal and
//! [`run_remote`] on an SSH channel, one app on two front ends (see
//! [`super::runtime`]: the loop, the effects, the front ends).

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use anyhow::Context as _;
use chrono::Offset;
use tokio::io::AsyncWrite;
use tokio::sync::mpsc::Receiver;

use super::keymap::{KeyMap, KeymapError};
use super::runtime::ssh::{RemoteInput, SshFront};
use super::runtime::terminal::{TerminalGuard, init_logging, install_panic_hook};
use super::runtime::{Extras, run_loop};
use super::state::State;
use crate::client::{Client, new_idempotency_key};
use crate::config::{self, Settings};
use crate::theme::{self, Theme};
use crate::wire::now_seconds;

pub use super::runtime::effects::{history_path, load_history};
#[cfg(test)]
use super::runtime::{
    effects::{HISTORY_MAX, append_history},
    instant_at,
};
#[cfg(test)]
use std::time::Duration;
#[cfg(test)]
use tokio::time::Instant;

/// A setting the inbox cannot start with (a bad `[keys]` entry or theme).
/// The CLI prints it and exits 2, before the terminal is touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupError {
    /// The config file, when one was read.
    pub file: Option<PathBuf>,
    /// The key to blame: `keys.accept`, `theme`.
    pub key: String,
    /// What was wrong and what was expected.
    pub message: String,
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(p) => write!(f, "{}: {}: {}", p.display(), self.key, self.message),
            None => write!(f, "{}: {}", self.key, self.message),
        }
    }
}

impl std::error::Error for SetupError {}

/// The keymap and theme the settings ask for, or what is wrong with them.
pub fn prepare(settings: &Settings) -> Result<(KeyMap, Theme), SetupError> {
    let keymap =
        KeyMap::from_config(&settings.keys).map_err(|KeymapError { key, message }| SetupError {
            file: settings.config_file.clone(),
            key,
            message,
        })?;
    let env = config::process_env();
    let depth = theme::detect(&|k: &str| env.get(k).cloned()).capped(settings.colors);
    let user_dir = config::user_theme_dir(&env);
    let theme =
        theme::load(&settings.theme, user_dir.as_deref(), depth).map_err(|message| SetupError {
            file: settings.config_file.clone(),
            key: "theme".to_string(),
            message,
        })?;
    Ok((keymap, theme))
}

/// The app's state for these settings (before anything is loaded).
fn initial_state(settings: &Settings, client: &Client, keymap: KeyMap) -> State {
    let mut state = State::new(
        crate::sanitize::clean_line(&settings.server_url),
        settings.readonly,
        keymap,
        new_idempotency_key(),
        now_seconds(),
    );
    state.utc_offset = chrono::Local::now().offset().fix();
    state.servers = client.server_urls().len();
    state.batch_settings = settings.batch;
    state.layout = settings.layout;
    state.views = settings
        .views
        .iter()
        .map(|(k, v)| {
            (
                crate::sanitize::clean_line(k),
                crate::sanitize::clean_line(v),
            )
        })
        .collect();
    state
}

/// Runs the inbox until the user quits (or SIGTERM / SIGHUP). A
/// [`SetupError`] (downcast it) means bad settings: exit 2.
pub async fn run(settings: Settings, client: Client) -> anyhow::Result<()> {
    let (keymap, theme) = prepare(&settings)?;
    let _log_guard = init_logging(&settings.log_file);
    tracing::info!(server = %settings.server_url, fallbacks = ?settings.fallback_urls, readonly = settings.readonly, "inbox starting");

    let mut state = initial_state(&settings, &client, keymap);
    (state.mouse, state.notify) = (settings.mouse, settings.notify.clone());
    state.origins = config::Origins::of(&settings);
    let env = config::process_env();
    let theme_dir = config::user_theme_dir(&env);
    state.themes = theme::available(theme_dir.as_deref());
    let history = history_path(&settings);
    if let Some(p) = &history {
        state.history = load_history(p);
    }
    let depth = theme::detect(&|k: &str| env.get(k).cloned()).capped(settings.colors);
    let extras = Extras {
        max_fps: settings.max_fps,
        link_baud: settings.link_baud,
        history,
        theme_dir,
        depth,
    };

    install_panic_hook();
    let mut term = TerminalGuard::enter().context("cannot set up the terminal")?;
    term.mouse = settings.mouse;
    let result = run_loop(&mut state, theme, client, extras, &mut term).await;
    drop(term);
    if let Err(e) = &result {
        tracing::error!(error = %e, "inbox stopped on an error");
    } else {
        tracing::info!("inbox stopped");
    }
    result
}

/// A terminal at the other end of an SSH channel.
pub struct Remote<W> {
    /// The client's `pty-req` size: columns, rows.
    pub size: (u16, u16),
    /// TERM, COLORTERM, NO_COLOR and LANG as the client sent them.
    pub env: HashMap<String, String>,
    /// The channel's bytes and `window-change`s; closed when it closes.
    pub input: Receiver<RemoteInput>,
    /// The channel's data stream.
    pub output: W,
}

/// Runs the inbox on an SSH channel for the user `client` authenticates
/// as, until the user quits or the channel closes. The built-in theme and
/// keys (the server's own configuration and files are not the session's);
/// colours from the client's TERM / COLORTERM / NO_COLOR; no `:` history
/// kept.
pub async fn run_remote<W: AsyncWrite + Unpin + Send + 'static>(
    settings: Settings,
    client: Client,
    remote: Remote<W>,
) -> anyhow::Result<()> {
    let Remote {
        size,
        env,
        input,
        output,
    } = remote;
    let keymap = KeyMap::from_config(&settings.keys)
        .map_err(|KeymapError { key, message }| anyhow::anyhow!("{key}: {message}"))?;
    let depth = theme::detect(&|k: &str| env.get(k).cloned()).capped(settings.colors);
    let theme = theme::load(&settings.theme, None, depth).map_err(|m| anyhow::anyhow!(m))?;
    let mut state = initial_state(&settings, &client, keymap);
    state.themes = theme::available(None);
    // One of many sessions in a server: the filter's text is built when
    // the user first filters, not held by every session that never does.
    state.filter_text = super::state::FilterText::deferred();
    let extras = Extras {
        max_fps: settings.max_fps,
        link_baud: settings.link_baud,
        history: None,
        theme_dir: None,
        depth,
    };
    let mut front = SshFront::new(size, &env, input, output)?;
    let result = run_loop(&mut state, theme, client, extras, &mut front).await;
    front.finish().await;
    result
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
