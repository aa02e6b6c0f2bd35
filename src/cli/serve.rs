//! `leadx serve`: the lead-exchange server as a process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::BadSetup;
use crate::clock;
use crate::server::{self, ServerConfig, TlsFiles};
use crate::store::SharedStore;
use crate::store::open::Location;

/// `leadx serve --db PATH|URL [--listen ADDR] ...`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The SQLite database file (created if missing), or a PostgreSQL URL
    /// (`postgres://user@host:5432/leadx`, for several servers sharing one
    /// exchange). With --demo, a fresh temporary SQLite file when omitted.
    /// LEADX_DB keeps a URL with a password off the command line.
    #[arg(
        long,
        env = "LEADX_DB",
        hide_env_values = true,
        value_name = "PATH|URL",
        required_unless_present = "demo"
    )]
    pub db: Option<String>,
    /// Address to listen on, HOST:PORT (a host name such as localhost is
    /// resolved, IPv4 first); port 0 picks a free one.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7878", value_parser = parse_listen)]
    pub listen: SocketAddr,
    /// PEM certificate chain: serve HTTPS.
    #[arg(long, value_name = "PATH", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "PATH", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Allow plain HTTP on a non-loopback address (a TLS proxy sits in front).
    #[arg(long)]
    pub allow_plain_http: bool,
    /// Requests per second per token (bursts of twice that); 0 turns it off.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub rate_limit: u32,
    /// Seed a demo world (if the database is empty) and run its simulator.
    #[arg(long)]
    pub demo: bool,
    /// Seconds between the demo simulator's moves.
    #[arg(long, value_name = "SECS", default_value_t = 4.0, requires = "demo")]
    pub demo_interval: f64,
}

/// `--listen`: an address, or a host name and port (`localhost:0`),
/// resolved here so that the server binds one known address.
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err("expected HOST:PORT, such as 127.0.0.1:7878 or localhost:0".into());
    };
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err("expected HOST:PORT, such as 127.0.0.1:7878 or localhost:0".into());
    }
    let found: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(text)
        .map_err(|e| format!("cannot resolve the host {host:?}: {e}"))?
        .collect();
    found
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| found.first())
        .copied()
        .ok_or_else(|| format!("the host {host:?} has no address"))
}

/// Runs until SIGINT or SIGTERM.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let temp_dir;
    let location = match &args.db {
        Some(db) => Location::parse(db),
        None => {
            temp_dir = TempDir::new("leadx-demo")?;
            Location::Sqlite(temp_dir.path.join("demo.db"))
        }
    };
    super::check_db_folder(&location).map_err(BadSetup)?;
    let demo_tokens = if args.demo {
        let Location::Sqlite(db) = location.clone() else {
            return Err(BadSetup(
                "--demo seeds a SQLite file: give --db a path, or no --db".into(),
            )
            .into());
        };
        Some(
            tokio::task::spawn_blocking(move || crate::demo::seed_if_empty(&db))
                .await?
                .context("seeding the demo world")?,
        )
    } else {
        None
    };
    let clock = clock::system();
    let store: SharedStore = location
        .open(clock.clone())
        .await
        .map_err(|e| BadSetup(format!("{e:#}")))?;
    tracing::info!(db = %location.shown(), "store open");
    let config = ServerConfig {
        listen: args.listen,
        rate_limit: args.rate_limit,
        tls: args
            .tls_cert
            .clone()
            .zip(args.tls_key.clone())
            .map(|(cert, key)| TlsFiles { cert, key }),
        allow_plain_http: args.allow_plain_http,
        ..ServerConfig::default()
    };
    let running = server::start(store.clone(), clock, config).await?;
    println!("listening on {}", running.url);
    let (stop_sim, sim_stopped) = tokio::sync::watch::channel(false);
    if let Some(tokens) = &demo_tokens {
        println!("{}", crate::demo::describe(tokens, &running.url));
        let interval = Duration::from_secs_f64(args.demo_interval.max(0.2));
        tokio::spawn(crate::demo::run_simulator_with(
            store.clone(),
            tokens.clone(),
            interval,
            sim_stopped,
        ));
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    super::wait_for_stop_signal().await;
    tracing::info!("shutting down");
    let _ = stop_sim.send(true);
    running.shutdown().await;
    Ok(())
}

/// A directory removed when dropped.
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new(prefix: &str) -> anyhow::Result<Self> {
        let nonce: u64 = rand::random();
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{nonce:x}", std::process::id()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::parse_listen;

    #[test]
    fn listen_takes_addresses_and_host_names() {
        assert_eq!(
            parse_listen("127.0.0.1:0").unwrap().to_string(),
            "127.0.0.1:0"
        );
        assert_eq!(
            parse_listen("[::1]:7878").unwrap().to_string(),
            "[::1]:7878"
        );
        let local = parse_listen("localhost:0").unwrap();
        assert!(local.ip().is_loopback() && local.port() == 0, "{local}");
        assert!(parse_listen("localhost").unwrap_err().contains("HOST:PORT"));
        assert!(parse_listen(":80").is_err());
        assert!(parse_listen("localhost:http").is_err());
        assert!(
            parse_listen("no-such-host.invalid:80")
                .unwrap_err()
                .contains("cannot resolve the host \"no-such-host.invalid\"")
        );
    }
}
