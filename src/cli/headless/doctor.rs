//! `leadx doctor`: the effective configuration and where each value came
//! from, the log file, and a live check of the server (`GET /healthz`) and
//! the token (`GET /v1/me`: accepted, and who it is), on every server of
//! `server.url` in turn. Exit 0 when all is well, 2 when something is not
//! (each problem says what to change).

use std::io::{self, Write};
use std::time::{Duration, Instant};

use clap::Args;

use super::{ConnectArgs, EXIT_OK, EXIT_USAGE, Failure, clean_lines, client_for};
use crate::cli::reach::Origins;
use crate::client::{Client, ClientError};
use crate::config::{self, Settings};
use crate::sanitize::clean_line;
use crate::wire::ErrorCode;

/// `leadx doctor`.
#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// Give up on the server after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub timeout: u64,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// The token as shown: its first characters and its length, never whole.
fn masked(token: &str) -> String {
    let shown: String = token.chars().take(6).collect();
    format!("{shown}… ({} characters)", token.chars().count())
}

pub(super) async fn run(args: DoctorArgs) -> Result<u8, Failure> {
    let mut out = io::stdout().lock();
    let env = config::process_env();
    writeln!(out, "configuration")?;
    let settings = match config::load_for_scripts(&args.connect.overrides()) {
        Ok(s) => s,
        Err(e) => {
            let file = args
                .connect
                .config
                .clone()
                .or_else(|| config::default_config_path(&env));
            if let Some(f) = file {
                writeln!(
                    out,
                    "  config file  {}",
                    clean_line(&f.display().to_string())
                )?;
            }
            writeln!(out, "  ✗ the configuration cannot be used:")?;
            for line in clean_lines(&e.to_string()).lines() {
                writeln!(out, "    {line}")?;
            }
            return Ok(EXIT_USAGE);
        }
    };
    let file = match &settings.config_file {
        Some(f) => format!("{} (read)", f.display()),
        None => match config::default_config_path(&env) {
            Some(f) => format!("none ({} does not exist; built-in defaults)", f.display()),
            None => "none (built-in defaults)".to_owned(),
        },
    };
    let rows = [
        ("config file", file),
        (
            "server",
            format!(
                "{} (from {})",
                settings.server_urls().join(", "),
                settings.server_url_origin
            ),
        ),
        (
            "token",
            format!(
                "{} (from {})",
                masked(&settings.token),
                settings.token_origin
            ),
        ),
        ("theme", settings.theme.clone()),
        ("layout", format!("{:?}", settings.layout).to_lowercase()),
        ("readonly", settings.readonly.to_string()),
        ("log file", settings.log_file.display().to_string()),
    ];
    for (key, value) in rows {
        writeln!(out, "  {key:<12} {}", clean_line(&value))?;
    }
    let mut healthy = true;
    if let Some(problem) = &settings.theme_problem {
        healthy = false;
        writeln!(
            out,
            "  ✗ {} (the inbox refuses it)",
            clean_line(&problem.to_string())
        )?;
    }

    // Every server of `server.url` is checked, not only the first: a
    // failover list with a dead or misconfigured entry is a problem too.
    let origins = Origins::of(&settings);
    let limit = Duration::from_secs(args.timeout.max(1));
    let urls = settings.server_urls();
    let mut reachable_any = false;
    for url in &urls {
        if urls.len() == 1 {
            writeln!(out, "server")?;
        } else {
            writeln!(out, "server {}", clean_line(url))?;
        }
        let one = Settings {
            server_url: url.clone(),
            fallback_urls: Vec::new(),
            ..settings.clone()
        };
        let client = client_for(one)?;
        let (reachable, ok) = check_server(&mut out, &client, &origins, limit).await?;
        reachable_any |= reachable;
        healthy &= reachable && ok;
    }
    if !reachable_any {
        out.flush()?;
        return Ok(EXIT_USAGE);
    }
    out.flush()?;
    Ok(if healthy { EXIT_OK } else { EXIT_USAGE })
}

/// `GET /healthz` and `GET /v1/me` on one server: whether it answered, and
/// whether all was well. Each line says what it found.
async fn check_server(
    out: &mut dyn Write,
    client: &Client,
    origins: &Origins,
    limit: Duration,
) -> io::Result<(bool, bool)> {
    let mut healthy = true;
    let started = Instant::now();
    let health = tokio::time::timeout(limit, client.healthz()).await;
    let took = started.elapsed().as_millis();
    let reachable = match health {
        Ok(Ok(())) => {
            writeln!(out, "  ✓ GET /healthz: the server answers ({took} ms)")?;
            true
        }
        Ok(Err(ClientError::Network(e))) => {
            let cause = clean_line(&e.to_string());
            writeln!(
                out,
                "  ✗ GET /healthz: {}",
                clean_line(&origins.unreachable(&cause))
            )?;
            false
        }
        Ok(Err(e)) => {
            // It answered: reachable, but not healthy (its store, say).
            writeln!(out, "  ✗ GET /healthz: {}", clean_line(&e.to_string()))?;
            healthy = false;
            true
        }
        Err(_) => {
            let cause = format!("no answer in {} s", limit.as_secs());
            writeln!(
                out,
                "  ✗ GET /healthz: {}",
                clean_line(&origins.unreachable(&cause))
            )?;
            false
        }
    };
    if !reachable {
        return Ok((false, false));
    }
    match tokio::time::timeout(limit, client.me()).await {
        Ok(Ok(me)) => writeln!(
            out,
            "  ✓ GET /v1/me: the token is accepted: {} ({}, {}) of {} ({})",
            clean_line(&me.user.name),
            clean_line(&me.user.id),
            me.user.role.as_str(),
            clean_line(&me.partner.id),
            clean_line(&me.partner.name)
        )?,
        Ok(Err(e)) if e.code() == Some(ErrorCode::Unauthenticated) => {
            let cause = clean_line(&e.to_string());
            writeln!(
                out,
                "  ✗ GET /v1/me: {}",
                clean_line(&origins.refused_token(&cause))
            )?;
            healthy = false;
        }
        Ok(Err(e)) => {
            writeln!(out, "  ✗ GET /v1/me: {}", clean_line(&e.to_string()))?;
            healthy = false;
        }
        Err(_) => {
            writeln!(out, "  ✗ GET /v1/me: no answer in {} s", limit.as_secs())?;
            healthy = false;
        }
    }
    Ok((true, healthy))
}
