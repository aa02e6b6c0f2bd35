//! `leadx demo`: one command, no setup. Starts the server in-process on a
//! free loopback port with a temporary database, seeds the demo world, runs
//! its simulator, and opens the inbox as the demo integrator's agent. This
//! is the one place where the server and the inbox are wired together;
//! even here the inbox reaches the server only over HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::headless::ConnectArgs;
use super::inbox::{InboxArgs, check_setup, client_for};
use super::serve::TempDir;
use crate::clock;
use crate::config;
use crate::server::{self, ServerConfig};
use crate::store::SharedStore;
use crate::store::sqlite::SqliteStore;

/// `leadx demo [--theme NAME] [--readonly] [--interval SECS]`
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Theme: default, light, high-contrast, mono, or a user theme.
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Config file (keys, theme, batch settings; its server is not used).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Open the inbox as the demo viewer, read-only.
    #[arg(long)]
    pub readonly: bool,
    /// Seconds between the simulator's moves.
    #[arg(long, value_name = "SECS", default_value_t = 4.0)]
    pub interval: f64,
}

/// Runs the demo until the user quits the inbox.
pub fn run(args: DemoArgs) -> ExitCode {
    let overrides = InboxArgs {
        connect: ConnectArgs {
            config: args.config.clone(),
            ..ConnectArgs::default()
        },
        theme: args.theme.clone(),
        readonly: args.readonly,
    }
    .overrides();
    let settings = match config::load_for_demo(&overrides) {
        Ok(s) => s,
        Err(e) => {
            say_err!("leadx: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(code) = check_setup(&settings) {
        return code;
    }
    if let Err(message) = super::inbox::needs_a_terminal() {
        say_err!("leadx: {message}");
        return ExitCode::from(2);
    }
    super::run_async(async move {
        let dir = TempDir::new("leadx-demo")?;
        let db = dir.path.join("demo.db");
        let seed_db = db.clone();
        let tokens = tokio::task::spawn_blocking(move || crate::demo::seed_if_empty(&seed_db))
            .await?
            .context("seeding the demo world")?;
        let clock = clock::system();
        let store: SharedStore = Arc::new(
            SqliteStore::open(&db, clock.clone())
                .with_context(|| format!("opening {}", db.display()))?,
        );
        let config = ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            rate_limit: 0,
            ..ServerConfig::default()
        };
        let running = server::start(store.clone(), clock, config).await?;
        let (stop_sim, sim_stopped) = tokio::sync::watch::channel(false);
        let interval = Duration::from_secs_f64(args.interval.max(0.2));
        tokio::spawn(crate::demo::run_simulator_with(
            store,
            tokens.clone(),
            interval,
            sim_stopped,
        ));
        let mut settings = settings;
        settings.server_url = running.url.clone();
        settings.token = if args.readonly {
            tokens.viewer.clone()
        } else {
            tokens.agent.clone()
        };
        let client = client_for(&settings)
            .map_err(|_| anyhow::anyhow!("cannot build a client for {}", running.url))?;
        let result = crate::inbox::app::run(settings, client).await;
        let _ = stop_sim.send(true);
        running.shutdown().await;
        drop(dir);
        result
    })
}
