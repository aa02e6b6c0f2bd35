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
    /// Live feeds (GET /v1/events) one user may hold open at once; 0: no cap.
    #[arg(long, value_name = "N", default_value_t = crate::server::routes::feed_limits::MAX_STREAMS_PER_USER)]
    pub max_streams_per_user: usize,
    /// Live feeds the users of one partner may hold open together; 0: no cap.
    #[arg(long, value_name = "N", default_value_t = crate::server::routes::feed_limits::MAX_STREAMS_PER_PARTNER)]
    pub max_streams_per_partner: usize,
    /// Seed a demo world (if the database is empty) and run its simulator.
    #[arg(long)]
    pub demo: bool,
    /// Seconds between the demo simulator's moves (0.2 to 86400).
    #[arg(long, value_name = "SECS", default_value = "4", requires = "demo", value_parser = demo_interval)]
    pub demo_interval: Duration,
    /// Require `Authorization: Bearer <token>` on /metrics, the token being
    /// this file's content (surrounding whitespace ignored).
    #[arg(long, value_name = "PATH")]
    pub metrics_token_file: Option<PathBuf>,
    /// Serve /metrics on this address instead of --listen.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
    /// Seconds a connection has to send a whole request head; also the
    /// longest a kept-alive connection may sit idle.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = timeout_secs)]
    pub header_timeout: Duration,
    /// Seconds a live feed whose reader takes nothing (its byte budget
    /// full) is held before it is dropped; the client resumes by
    /// Last-Event-ID.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = timeout_secs)]
    pub feed_write_timeout: Duration,
    /// Seconds a request body may pause between chunks.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = timeout_secs)]
    pub body_timeout: Duration,
    /// Connections held at once (default: the open-files limit less 64);
    /// the last sixteenth serves /healthz only.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..))]
    pub max_connections: Option<u32>,
    /// Failed authentications allowed per source address a minute; 0 turns
    /// the throttle off. Default 30, or off with --allow-plain-http on a
    /// non-loopback address (behind a proxy every client has its address).
    #[arg(long, value_name = "N")]
    pub auth_failures_per_minute: Option<u32>,
    /// Threads that run requests (default: one per core). Where PostgreSQL
    /// shares the machine's cores, fewer leave it room: on two cores one
    /// thread served more accepts a second than two (docs/PERFORMANCE.md).
    #[arg(long, env = "LEADX_THREADS", value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// The SSH front end (`ssh -p PORT HOST` opens a user's inbox).
    #[command(flatten)]
    pub ssh: SshArgs,
}

/// `--ssh-listen ADDR --ssh-host-key PATH` and the SSH limits.
#[derive(Debug, Args)]
pub struct SshArgs {
    /// Serve the inbox over SSH on this address, HOST:PORT (public-key
    /// log-in only; keys from `leadx admin user add-key`).
    #[arg(long, env = "LEADX_SSH_LISTEN", value_name = "ADDR", value_parser = parse_listen)]
    pub ssh_listen: Option<SocketAddr>,
    /// The SSH host key (OpenSSH format); made on first start (ed25519,
    /// mode 0600) when missing.
    #[arg(
        long,
        env = "LEADX_SSH_HOST_KEY",
        value_name = "PATH",
        requires = "ssh_listen"
    )]
    pub ssh_host_key: Option<PathBuf>,
    /// SSH sessions one user may hold at once (0: no cap).
    #[arg(
        long,
        env = "LEADX_SSH_MAX_SESSIONS_PER_USER",
        value_name = "N",
        default_value = "4"
    )]
    pub ssh_max_sessions_per_user: usize,
    /// SSH sessions in total (0: no cap).
    #[arg(
        long,
        env = "LEADX_SSH_MAX_SESSIONS",
        value_name = "N",
        default_value = "256"
    )]
    pub ssh_max_sessions: usize,
    /// Seconds an SSH connection may send nothing before it is closed.
    #[arg(long, env = "LEADX_SSH_IDLE_TIMEOUT", value_name = "SECS", default_value = "1800", value_parser = timeout_secs)]
    pub ssh_idle_timeout: Duration,
}

impl SshArgs {
    /// The SSH front end's settings, when `--ssh-listen` is given.
    pub fn config(
        &self,
        auth_failures_per_minute: u32,
    ) -> anyhow::Result<Option<crate::ssh::SshConfig>> {
        let Some(listen) = self.ssh_listen else {
            return Ok(None);
        };
        let Some(host_key) = self.ssh_host_key.clone() else {
            return Err(BadSetup(
                "--ssh-listen needs --ssh-host-key PATH (made on first start when missing)".into(),
            )
            .into());
        };
        let mut config = crate::ssh::SshConfig::new(listen, host_key);
        config.max_sessions_per_user = self.ssh_max_sessions_per_user;
        config.max_sessions = self.ssh_max_sessions;
        config.idle_timeout = self.ssh_idle_timeout;
        config.auth_failures_per_minute = auth_failures_per_minute;
        Ok(Some(config))
    }
}

/// The failed-login throttle: as given, else 30 a minute, except behind a
/// proxy (`--allow-plain-http` on a public address), where every request
/// comes from the proxy's address and one client's failures would refuse
/// everyone: there it is off unless given.
fn auth_failures_per_minute(args: &ServeArgs) -> u32 {
    match args.auth_failures_per_minute {
        Some(n) => n,
        None if args.allow_plain_http && !args.listen.ip().is_loopback() => {
            tracing::info!(
                "failed-login throttle off: behind a proxy every client shares its address \
                 (give --auth-failures-per-minute to turn it on)"
            );
            0
        }
        None => ServerConfig::default().auth_failures_per_minute,
    }
}

/// Seconds, a finite number within `min..=max`.
fn secs_within(value: &str, min: f64, max: f64) -> Result<Duration, String> {
    let secs: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("{value:?} is not a number of seconds"))?;
    if !secs.is_finite() || secs < min || secs > max {
        return Err(format!(
            "give a number of seconds from {min} to {max}, not {value:?}"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn demo_interval(value: &str) -> Result<Duration, String> {
    secs_within(value, 0.2, 86_400.0)
}

fn timeout_secs(value: &str) -> Result<Duration, String> {
    secs_within(value, 0.1, 3_600.0)
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
    let threads = tokio::runtime::Handle::current().metrics().num_workers();
    tracing::info!(threads, "threads that run requests");
    let ssh_config = args.ssh.config(auth_failures_per_minute(&args))?;
    let config = ServerConfig {
        listen: args.listen,
        rate_limit: args.rate_limit,
        max_streams_per_user: args.max_streams_per_user,
        max_streams_per_partner: args.max_streams_per_partner,
        tls: args
            .tls_cert
            .clone()
            .zip(args.tls_key.clone())
            .map(|(cert, key)| TlsFiles { cert, key }),
        allow_plain_http: args.allow_plain_http,
        metrics_token: match &args.metrics_token_file {
            Some(path) => Some(read_token(path)?),
            None => None,
        },
        metrics_listen: args.metrics_listen,
        header_timeout: args.header_timeout,
        body_timeout: args.body_timeout,
        feed_write_timeout: args.feed_write_timeout,
        max_connections: args.max_connections.map(|n| n as usize),
        auth_failures_per_minute: auth_failures_per_minute(&args),
        ..ServerConfig::default()
    };
    let running = server::start(store.clone(), clock, config).await?;
    println!("listening on {}", running.url);
    if let Some(at) = running.metrics_addr {
        println!("metrics on {at}");
    }
    let ssh = match ssh_config {
        Some(c) => {
            let ssh = crate::ssh::start(c, store.clone(), &running).await?;
            println!(
                "listening on ssh://{} (host key {})",
                ssh.addr, ssh.fingerprint
            );
            Some(ssh)
        }
        None => None,
    };
    let (stop_sim, sim_stopped) = tokio::sync::watch::channel(false);
    if let Some(tokens) = &demo_tokens {
        println!("{}", crate::demo::describe(tokens, &running.url));
        let interval = args.demo_interval;
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
    if let Some(ssh) = ssh {
        ssh.shutdown();
    }
    running.shutdown().await;
    Ok(())
}

/// The metrics token from its file: one line, at least 16 characters.
fn read_token(path: &std::path::Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the metrics token file {}", path.display()))?;
    let token = text.trim();
    if token.len() < 16 || token.chars().any(|c| c.is_control() || c == ' ') {
        anyhow::bail!(
            "the metrics token in {} must be one word of at least 16 characters",
            path.display()
        );
    }
    Ok(token.to_owned())
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
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn args(extra: &[&str]) -> ServeArgs {
        let mut argv = vec!["leadx", "--db", "x.db"];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).expect("parses").serve
    }

    #[test]
    fn the_failed_login_throttle_is_off_behind_a_proxy_unless_given() {
        assert_eq!(auth_failures_per_minute(&args(&[])), 30);
        let proxied = ["--listen", "10.0.0.5:7878", "--allow-plain-http"];
        assert_eq!(auth_failures_per_minute(&args(&proxied)), 0);
        let mut given = proxied.to_vec();
        given.extend(["--auth-failures-per-minute", "12"]);
        assert_eq!(auth_failures_per_minute(&args(&given)), 12);
        // --allow-plain-http on loopback: no proxy in between.
        let local = ["--listen", "127.0.0.1:7878", "--allow-plain-http"];
        assert_eq!(auth_failures_per_minute(&args(&local)), 30);
    }

    #[test]
    fn timeouts_and_the_demo_interval_are_checked() {
        assert_eq!(
            args(&["--header-timeout", "2.5"]).header_timeout,
            Duration::from_millis(2500)
        );
        for bad in ["inf", "NaN", "0", "-1", "99999"] {
            let argv = ["leadx", "--db", "x.db", "--body-timeout", bad];
            assert!(Cli::try_parse_from(argv).is_err(), "{bad}");
        }
        let argv = ["leadx", "--demo", "--demo-interval", "inf"];
        let err = Cli::try_parse_from(argv)
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains("from 0.2 to 86400"), "{err}");
    }

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
