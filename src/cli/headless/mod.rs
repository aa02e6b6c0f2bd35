//! The headless CLI, for scripts and support engineers: `leadx list`,
//! `show`, `accept|reject|forward|withdraw`, `send` and `watch`. It shares
//! the inbox's client ([`crate::client`]), query engine ([`crate::query`])
//! and configuration ([`crate::config`]).
//!
//! Everything a command prints goes to stdout, errors to stderr as one line
//! `leadx: ...`. Exit status: 0 when everything asked for was done, 1 when
//! the server refused some of it (a conflict, not found, a rule), 2 on a
//! usage, configuration or connection error. Every string printed as a
//! table, text or line passes through [`crate::sanitize`]; JSON goes out
//! through [`output::write_json`], which also escapes the characters a
//! terminal could act on.

mod act;
mod doctor;
mod list;
mod output;
mod plan;
mod report;
mod select;
mod send;
mod show;
mod watch;

use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

pub use act::{ActArgs, ActFormat};
pub use doctor::DoctorArgs;
pub use list::{BoxArg, ListArgs, ListFormat};
pub use send::SendArgs;
pub use show::{ShowArgs, ShowFormat};
pub use watch::{WatchArgs, WatchFormat};

use crate::client::{
    Backoff, Client, ClientConfig, ClientError, retry_until_definite,
    retry_until_definite_or_cancelled,
};
use crate::config::{self, Overrides, Settings};
use crate::sanitize::clean_line;
use crate::wire::{ActionKind, ErrorCode};

/// Flags every headless command and the inbox take: where the server is
/// and who we are. `leadx --server URL list` and `leadx list --server URL`
/// are the same (`cli::main` merges the two places, the later one winning).
///
/// Their help is a section of its own ("Connection"), so a command's
/// "Options" list only what that command does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
#[command(next_help_heading = "Connection")]
pub struct ConnectArgs {
    /// The server's URL (overrides the config file and LEADX_SERVER__URL).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// A file holding the bearer token.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// The config file (default: $XDG_CONFIG_HOME/leadx/config.toml).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Take the server and token from [profiles.NAME] of the config.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

/// One headless command, as `cli::main` hands it over.
#[derive(Debug)]
pub enum Invocation {
    /// `leadx list`.
    List(ListArgs),
    /// `leadx show`.
    Show(ShowArgs),
    /// `leadx accept|reject|forward|withdraw`.
    Act(ActionKind, ActArgs),
    /// `leadx send`.
    Send(SendArgs),
    /// `leadx watch`.
    Watch(WatchArgs),
    /// `leadx doctor`.
    Doctor(DoctorArgs),
}

/// Runs one headless command; the process's exit status.
pub fn run(invocation: Invocation) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            say_err!("leadx: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async move {
        match invocation {
            Invocation::List(args) => list::run(args).await,
            Invocation::Show(args) => show::run(args).await,
            Invocation::Act(kind, args) => act::run(kind, args).await,
            Invocation::Send(args) => send::run(args).await,
            Invocation::Watch(args) => watch::run(args).await,
            Invocation::Doctor(args) => doctor::run(args).await,
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Failure::Quiet(code)) => ExitCode::from(code),
        Err(Failure::Message { code, message }) => {
            say_err!("leadx: {message}");
            ExitCode::from(code)
        }
    }
}

/// Exit status: everything done.
pub(crate) const EXIT_OK: u8 = 0;
/// Exit status: the server refused some or all of it.
pub(crate) const EXIT_REFUSED: u8 = 1;
/// Exit status: usage, configuration or connection error.
pub(crate) const EXIT_USAGE: u8 = 2;

/// Why a command stopped early.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Print `leadx: message` on stderr and exit with `code`.
    Message {
        /// The exit status.
        code: u8,
        /// One line (already safe to print).
        message: String,
    },
    /// Exit with `code`; everything has been said (or stdout went away).
    Quiet(u8),
}

impl Failure {
    /// A usage error (exit 2).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::Message {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }

    /// The server refused (exit 1).
    pub(crate) fn refused(message: impl Into<String>) -> Self {
        Self::Message {
            code: EXIT_REFUSED,
            message: message.into(),
        }
    }
}

impl From<std::io::Error> for Failure {
    /// Writing to stdout failed: a closed pipe (`leadx list | head`) is a
    /// normal end; anything else is reported.
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::Quiet(EXIT_OK)
        } else {
            Failure::Message {
                code: EXIT_USAGE,
                message: format!("cannot write output: {e}"),
            }
        }
    }
}

/// A client error as a failure: no answer, a 401, a 5xx or an answer that
/// does not decode is exit 2; a definite refusal (404, 403, 409, 422) is 1.
pub(crate) fn client_failure(context: &str, e: &ClientError) -> Failure {
    let code = match e {
        ClientError::Network(_) | ClientError::Decode(_) => EXIT_USAGE,
        ClientError::Api { status, error, .. } => {
            if *status >= 500 || *status == 429 || error.code == ErrorCode::Unauthenticated {
                EXIT_USAGE
            } else {
                EXIT_REFUSED
            }
        }
    };
    // ClientError's Display already makes server text one safe line.
    let text = clean_line(&e.to_string());
    let origins = crate::cli::reach::remembered();
    let unauthenticated = matches!(e, ClientError::Api { error, .. }
        if error.code == ErrorCode::Unauthenticated);
    let message = match (e, origins) {
        (ClientError::Network(_), Some(o)) => {
            format!("{context}: {}", clean_line(&o.unreachable(&text)))
        }
        (ClientError::Network(_), None) => format!("{context}: cannot reach the server: {text}"),
        (_, Some(o)) if unauthenticated => {
            format!("{context}: {}", clean_line(&o.refused_token(&text)))
        }
        _ => format!("{context}: {text}"),
    };
    Failure::Message { code, message }
}

/// Loads the configuration (file, `LEADX_*`, flags) and builds a client.
pub(crate) fn connect(args: &ConnectArgs) -> Result<Client, Failure> {
    let settings = load_settings(args)?;
    client_for(settings)
}

/// As [`connect`], for a command that changes something: a configuration
/// that says `readonly = true` refuses it (exit 2), as the inbox does.
pub(crate) fn connect_to_act(args: &ConnectArgs, what: &str) -> Result<Client, Failure> {
    let settings = load_settings(args)?;
    if settings.readonly {
        return Err(Failure::usage(format!(
            "{what}: the configuration is read-only (readonly = true)"
        )));
    }
    client_for(settings)
}

impl ConnectArgs {
    /// These flags, each one given here winning over `outer`'s (the flags
    /// written before the subcommand).
    pub fn or(self, outer: &ConnectArgs) -> ConnectArgs {
        ConnectArgs {
            server: self.server.or_else(|| outer.server.clone()),
            token_file: self.token_file.or_else(|| outer.token_file.clone()),
            config: self.config.or_else(|| outer.config.clone()),
            profile: self.profile.or_else(|| outer.profile.clone()),
        }
    }

    /// The first flag given, as written (`--server`), if any.
    pub fn first_given(&self) -> Option<&'static str> {
        [
            (self.server.is_some(), "--server"),
            (self.token_file.is_some(), "--token-file"),
            (self.config.is_some(), "--config"),
            (self.profile.is_some(), "--profile"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }

    /// The command line's layer of the configuration.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            server: self.server.clone(),
            token_file: self.token_file.clone(),
            config: self.config.clone(),
            profile: self.profile.clone(),
            ..Overrides::default()
        }
    }
}

fn load_settings(args: &ConnectArgs) -> Result<Settings, Failure> {
    let settings = config::load_for_scripts(&args.overrides())
        .map_err(|e| Failure::usage(clean_lines(&e.to_string())))?;
    crate::cli::reach::remember(&settings);
    if let Some(problem) = &settings.theme_problem {
        say_err!(
            "leadx: warning: {} (ignored here; the inbox would refuse it)",
            clean_lines(&problem.to_string())
        );
    }
    Ok(settings)
}

/// A message of several lines (a TOML parser's, several configuration
/// errors) made safe line by line, its line breaks kept.
pub(crate) fn clean_lines(text: &str) -> String {
    text.lines().map(clean_line).collect::<Vec<_>>().join("\n")
}

pub(crate) fn client_for(settings: Settings) -> Result<Client, Failure> {
    let client = Client::new(ClientConfig::with_servers(
        &settings.server_urls(),
        settings.token,
    ))
    .map_err(|e| Failure::usage(clean_line(&e.to_string())))?;
    // With several servers, a script's log says which one it moved to;
    // while every one is down, once is enough.
    client.on_move(|m| {
        if m.all_down {
            return;
        }
        say_err!(
            "leadx: server {} unreachable ({}); using {}",
            clean_line(&m.from_label()),
            clean_line(m.why()),
            clean_line(&m.to_label())
        );
    });
    Ok(client)
}

/// Page size of the CLI's lists: the protocol's largest, so that 100,000
/// referrals take 20 requests, not 200.
pub(crate) const LIST_PAGE: u32 = 5000;

/// Retries for reads: a few quick tries, so that a script learns soon
/// that the server is down.
pub(crate) fn read_backoff() -> Backoff {
    Backoff::new(Duration::from_millis(200), Duration::from_secs(2)).with_max_attempts(3)
}

/// Runs a read with [`read_backoff`] (network errors, 5xx and 429 are
/// tried again).
pub(crate) async fn read<T, F, Fut>(attempt: F) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ClientError>>,
{
    retry_until_definite(read_backoff(), attempt, |_, _, _| {}).await
}

/// A read retried until `retry_for` seconds have passed when given (then
/// network errors, 5xx and 429 are tried again with the usual backoff,
/// each retry said on stderr), else as [`read`].
pub(crate) async fn read_within<T, F, Fut>(
    retry_for: Option<u64>,
    attempt: F,
) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ClientError>>,
{
    let Some(secs) = retry_for else {
        return read(attempt).await;
    };
    retry_until_definite_or_cancelled(
        Backoff::default(),
        tokio::time::sleep(Duration::from_secs(secs)),
        attempt,
        |n, error, wait| {
            say_err!(
                "leadx: reading, attempt {n}: {}; retrying in {:.1}s",
                clean_line(&error.to_string()),
                wait.as_secs_f64()
            );
        },
    )
    .await
}
