//! The command line: `leadx [inbox]`, `leadx serve`, `leadx admin`,
//! `leadx demo`. This layer is the only one that wires the server and the
//! inbox together (in `leadx demo`).

/// Writes a line to stderr, ignoring failure: after a hang-up the terminal
/// is gone, and an orderly exit must not turn into a panic.
macro_rules! say_err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod admin;
pub mod demo;
pub mod headless;
pub mod inbox;
pub mod reach;
pub mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::wire::ActionKind;

/// leadx: the lead-exchange server and its terminal inbox.
#[derive(Debug, Parser)]
#[command(
    name = "leadx",
    version,
    about,
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// With no subcommand: the inbox, with these flags. The connection
    /// flags (`--server`, `--token-file`, `--config`, `--profile`) may also
    /// come before any subcommand that talks to a server.
    #[command(flatten)]
    pub inbox: inbox::InboxArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the terminal inbox (the default).
    Inbox(inbox::InboxArgs),
    /// A demo exchange in-process, and the inbox on it: no setup.
    Demo(demo::DemoArgs),
    /// Run the lead-exchange server.
    Serve(serve::ServeArgs),
    /// Manage partners and users of an exchange's database.
    Admin(admin::AdminArgs),
    /// List referrals (table, JSON or CSV).
    List(headless::ListArgs),
    /// Show one referral.
    Show(headless::ShowArgs),
    /// Accept referrals (by id or --query).
    #[command(mut_arg("reason", |a| a.hide(true)), mut_arg("to", |a| a.hide(true)))]
    Accept(headless::ActArgs),
    /// Reject referrals with a reason (by id or --query).
    #[command(mut_arg("to", |a| a.hide(true)))]
    Reject(headless::ActArgs),
    /// Forward referrals to another partner (by id or --query).
    #[command(mut_arg("reason", |a| a.hide(true)))]
    Forward(headless::ActArgs),
    /// Withdraw referrals your partner sent (by id or --query).
    #[command(
        mut_arg("reason", |a| a.hide(true)),
        mut_arg("to", |a| a.hide(true)),
        mut_arg("note", |a| a.hide(true))
    )]
    Withdraw(headless::ActArgs),
    /// Send a lead to a partner; prints the new referral's id.
    Send(headless::SendArgs),
    /// Print changes to referrals as they happen, until interrupted.
    Watch(headless::WatchArgs),
    /// Check the setup: the configuration and where each value came from,
    /// the log file, and whether the server answers and takes the token.
    Doctor(headless::DoctorArgs),
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `leadx man | man -l -`.
    Man,
}

/// Parses the command line and runs it; the process's exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let outer = cli.inbox.clone();
    let Some(command) = cli.command else {
        return inbox::run(outer);
    };
    let command = match merge_outer_flags(command, &outer) {
        Ok(command) => command,
        Err(message) => {
            say_err!("leadx: {message}");
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Admin(args) => admin::run(args),
        Command::List(a) => headless::run(headless::Invocation::List(a)),
        Command::Show(a) => headless::run(headless::Invocation::Show(a)),
        Command::Accept(a) => headless::run(headless::Invocation::Act(ActionKind::Accept, a)),
        Command::Reject(a) => headless::run(headless::Invocation::Act(ActionKind::Reject, a)),
        Command::Forward(a) => headless::run(headless::Invocation::Act(ActionKind::Forward, a)),
        Command::Withdraw(a) => headless::run(headless::Invocation::Act(ActionKind::Withdraw, a)),
        Command::Send(a) => headless::run(headless::Invocation::Send(a)),
        Command::Watch(a) => headless::run(headless::Invocation::Watch(a)),
        Command::Doctor(a) => headless::run(headless::Invocation::Doctor(a)),
        Command::Serve(args) => {
            init_stderr_logging();
            let threads = args.threads.map(usize::from);
            run_async_on(threads, serve::run(args))
        }
        Command::Inbox(args) => inbox::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "leadx", &mut script);
            print_bytes(&script, "the completion script")
        }
        Command::Man => {
            let command = <Cli as clap::CommandFactory>::command();
            let mut page = Vec::new();
            match clap_mangen::Man::new(command).render(&mut page) {
                Ok(()) => print_bytes(&page, "the manual page"),
                Err(e) => {
                    say_err!("leadx: cannot render the manual page: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

/// Writes generated text to stdout; a closed pipe (`| head`) is fine.
fn print_bytes(bytes: &[u8], what: &str) -> ExitCode {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            say_err!("leadx: cannot write {what}: {e}");
            ExitCode::from(2)
        }
    }
}

/// Gives a subcommand the flags written before it (`leadx --server URL
/// list`): the connection flags to every command that talks to a server
/// (its own flags win), `--theme` and `--readonly` to the inbox. A flag
/// before a command that does not take it is a usage error, not ignored.
fn merge_outer_flags(command: Command, outer: &inbox::InboxArgs) -> Result<Command, String> {
    let c = &outer.connect;
    let inbox_only = [
        (outer.theme.is_some(), "--theme"),
        (outer.readonly, "--readonly"),
    ]
    .into_iter()
    .find_map(|(given, flag)| given.then_some(flag));
    let not_for = |flag: &str, name: &str| {
        format!("{flag} does not apply to `leadx {name}`; see `leadx {name} --help`")
    };
    let command = match command {
        Command::Inbox(mut a) => {
            a.connect = a.connect.or(c);
            a.theme = a.theme.or_else(|| outer.theme.clone());
            a.readonly |= outer.readonly;
            return Ok(Command::Inbox(a));
        }
        Command::Serve(_)
        | Command::Admin(_)
        | Command::Demo(_)
        | Command::Completions { .. }
        | Command::Man => {
            let name = match &command {
                Command::Serve(_) => "serve",
                Command::Admin(_) => "admin",
                Command::Demo(_) => "demo",
                Command::Completions { .. } => "completions",
                _ => "man",
            };
            if let Some(flag) = c.first_given().or(inbox_only) {
                return Err(not_for(flag, name));
            }
            return Ok(command);
        }
        Command::List(mut a) => {
            a.connect = a.connect.or(c);
            Command::List(a)
        }
        Command::Show(mut a) => {
            a.connect = a.connect.or(c);
            Command::Show(a)
        }
        Command::Accept(mut a) => {
            a.connect = a.connect.or(c);
            Command::Accept(a)
        }
        Command::Reject(mut a) => {
            a.connect = a.connect.or(c);
            Command::Reject(a)
        }
        Command::Forward(mut a) => {
            a.connect = a.connect.or(c);
            Command::Forward(a)
        }
        Command::Withdraw(mut a) => {
            a.connect = a.connect.or(c);
            Command::Withdraw(a)
        }
        Command::Send(mut a) => {
            a.connect = a.connect.or(c);
            Command::Send(a)
        }
        Command::Watch(mut a) => {
            a.connect = a.connect.or(c);
            Command::Watch(a)
        }
        Command::Doctor(mut a) => {
            a.connect = a.connect.or(c);
            Command::Doctor(a)
        }
    };
    match inbox_only {
        Some(flag) => Err(format!(
            "{flag} goes with the inbox (`leadx {flag} ...`), not with a headless command"
        )),
        None => Ok(command),
    }
}

/// A start that cannot go on for a reason the user must fix (a database
/// that cannot be opened, flags that do not go together): exit status 2.
#[derive(Debug)]
pub struct BadSetup(pub String);

impl std::fmt::Display for BadSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadSetup {}

/// A SQLite `--db` whose folder is missing (or is not a folder): the cause
/// once and what to do, instead of SQLite's "unable to open database file"
/// with the path repeated. Other locations pass.
pub(crate) fn check_db_folder(location: &crate::store::open::Location) -> Result<(), String> {
    let crate::store::open::Location::Sqlite(path) = location else {
        return Ok(());
    };
    let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    if folder.is_dir() {
        return Ok(());
    }
    let shown = folder.display();
    if folder.exists() {
        return Err(format!(
            "cannot create the database {}: {shown} is not a folder",
            path.display()
        ));
    }
    Err(format!(
        "cannot create the database {}: the folder {shown} does not exist \
         (create it with `mkdir -p {shown}`, or give --db a file in an existing folder)",
        path.display()
    ))
}

pub(crate) fn run_async(fut: impl std::future::Future<Output = anyhow::Result<()>>) -> ExitCode {
    run_async_on(None, fut)
}

/// [`run_async`] on `threads` worker threads (default: one per core).
fn run_async_on(
    threads: Option<usize>,
    fut: impl std::future::Future<Output = anyhow::Result<()>>,
) -> ExitCode {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = threads {
        builder.worker_threads(n);
    }
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            say_err!("leadx: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A panic must still end the process: catch it so that the runtime is
    // shut down without waiting on threads blocked reading the terminal.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(fut)));
    runtime.shutdown_timeout(std::time::Duration::from_millis(250));
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) if e.is::<BadSetup>() => {
            say_err!("leadx: {e}");
            ExitCode::from(2)
        }
        Ok(Err(e)) => {
            say_err!("leadx: {e:#}");
            ExitCode::FAILURE
        }
        Err(_) => ExitCode::from(101),
    }
}

/// Server logs: stderr, `RUST_LOG` or info.
fn init_stderr_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Resolves on SIGINT, SIGTERM (or Ctrl-C elsewhere).
pub async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
