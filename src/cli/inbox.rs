//! `leadx` / `leadx inbox`: the terminal inbox against a configured server.

use std::process::ExitCode;

use clap::Args;

use super::headless::ConnectArgs;
use crate::client::{Client, ClientConfig};
use crate::config::{self, Overrides, Settings};

/// Flags of the inbox (also accepted by `leadx` with no subcommand).
#[derive(Debug, Clone, Default, Args)]
pub struct InboxArgs {
    /// Theme: default, light, high-contrast, mono, or a user theme.
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Hide and refuse every action: a read-only monitor.
    #[arg(long)]
    pub readonly: bool,
    /// Server, token file, config file and profile (last: their help
    /// heading, "Connection", holds for the flags after them).
    #[command(flatten)]
    pub connect: ConnectArgs,
}

impl InboxArgs {
    /// The command line's layer of the configuration.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            theme: self.theme.clone(),
            readonly: self.readonly,
            ..self.connect.overrides()
        }
    }
}

/// Loads the configuration (exit 2 on any error, before the terminal is
/// touched), then runs the inbox until the user quits.
pub fn run(args: InboxArgs) -> ExitCode {
    let settings = match config::load(&args.overrides()) {
        Ok(s) => s,
        Err(e) => {
            say_err!("leadx: {}", super::headless::clean_lines(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    if let Err(code) = check_setup(&settings) {
        return code;
    }
    if let Err(message) = needs_a_terminal() {
        say_err!("leadx: {message}");
        return ExitCode::from(2);
    }
    let client = match client_for(&settings) {
        Ok(c) => c,
        Err(code) => return code,
    };
    super::run_async(crate::inbox::app::run(settings, client))
}

/// The inbox draws on a terminal and reads keys from one: without one
/// (`leadx < /dev/null`, a pipe, cron) it says so and names the headless
/// commands, instead of the operating system's "No such device".
pub fn needs_a_terminal() -> Result<(), String> {
    use std::io::IsTerminal;
    let missing = match (
        std::io::stdin().is_terminal(),
        std::io::stdout().is_terminal(),
    ) {
        (true, true) => return Ok(()),
        (false, true) => "its input is not a terminal",
        (true, false) => "its output is not a terminal",
        (false, false) => "neither its input nor its output is a terminal",
    };
    Err(format!(
        "the inbox needs a terminal, and {missing}; for scripts use `leadx list` \
         (and show, accept, reject, forward, withdraw, send, watch: see `leadx --help`)"
    ))
}

/// A client for the configured servers; a bad URL is a usage error (2).
pub fn client_for(settings: &Settings) -> Result<Client, ExitCode> {
    Client::new(ClientConfig::with_servers(
        &settings.server_urls(),
        settings.token.clone(),
    ))
    .map_err(|e| {
        say_err!("leadx: {e}");
        ExitCode::from(2)
    })
}

/// Checks key bindings and the theme before the terminal is touched: a bad
/// one is a usage error (2) naming the file and key.
pub fn check_setup(settings: &Settings) -> Result<(), ExitCode> {
    crate::inbox::app::prepare(settings).map(drop).map_err(|e| {
        say_err!("leadx: {e}");
        ExitCode::from(2)
    })
}
