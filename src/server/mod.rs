//! The lead-exchange server: `leadx serve`.
//!
//! [`start`] binds, serves PROTOCOL.md v1 over HTTP or HTTPS, runs the
//! expiry sweeper, and returns a handle that shuts it all down. The store
//! is given, not opened here, so that tests and the demo choose theirs.

pub mod auth;
pub mod conn;
pub mod error;
pub mod idempotency;
pub mod metrics;
pub mod revocation;
pub mod routes;
pub mod sessions;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::SharedClock;
use crate::store::SharedStore;

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Requests a second per token (bursts of twice that); 0 turns it off.
    pub rate_limit: u32,
    /// Live feeds one user may hold open at once; 0: no cap.
    pub max_streams_per_user: usize,
    /// Live feeds the users of one partner may hold together; 0: no cap.
    pub max_streams_per_partner: usize,
    /// Serve HTTPS with this certificate chain and key (PEM).
    pub tls: Option<TlsFiles>,
    /// Allow plain HTTP on a non-loopback address (a TLS proxy in front).
    pub allow_plain_http: bool,
    /// How often the feed sends `: ping`.
    pub ping_interval: Duration,
    /// A live-feed subscriber whose connection takes nothing for this long
    /// (its byte budget full) is dropped; it resumes by `Last-Event-ID`.
    pub feed_write_timeout: Duration,
    /// Longest wait between expiry sweeps.
    pub sweep_interval: Duration,
    /// How often old idempotency records and events are pruned.
    pub prune_interval: Duration,
    /// `GET /metrics` needs `Authorization: Bearer <this>` when set.
    pub metrics_token: Option<String>,
    /// Serve `/metrics` on this address only (not on `listen`) when set.
    pub metrics_listen: Option<SocketAddr>,
    /// A connection must send a whole request head within this (also the
    /// longest a kept-alive connection may sit idle between requests).
    pub header_timeout: Duration,
    /// A request body must keep arriving: at most this between its chunks.
    pub body_timeout: Duration,
    /// Connections held at once; `None` derives it from the open-files
    /// limit. The last few serve `/healthz` only.
    pub max_connections: Option<usize>,
    /// Failed authentications allowed per source address a minute (bursts
    /// of that many); 0 turns the throttle off.
    pub auth_failures_per_minute: u32,
}

/// PEM files for HTTPS.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7878)),
            rate_limit: 100,
            max_streams_per_user: routes::feed_limits::MAX_STREAMS_PER_USER,
            max_streams_per_partner: routes::feed_limits::MAX_STREAMS_PER_PARTNER,
            tls: None,
            allow_plain_http: false,
            ping_interval: Duration::from_secs(15),
            feed_write_timeout: routes::feed_limits::WRITE_TIMEOUT,
            sweep_interval: Duration::from_secs(1),
            prune_interval: Duration::from_secs(600),
            metrics_token: None,
            metrics_listen: None,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: None,
            auth_failures_per_minute: 30,
        }
    }
}

impl ServerConfig {
    /// A loopback server on a free port, no rate limit, quick sweeps.
    pub fn for_tests() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            rate_limit: 0,
            auth_failures_per_minute: 0,
            sweep_interval: Duration::from_millis(50),
            ..Self::default()
        }
    }
}

/// What every handler shares.
pub struct AppState {
    pub store: SharedStore,
    pub clock: SharedClock,
    pub config: ServerConfig,
    pub limiter: auth::RateLimiter,
    /// Failed authentications per source address.
    pub failures: auth::FailureThrottle,
    pub metrics: metrics::Metrics,
    /// Events rendered once per form, shared by the feed's subscribers.
    pub renders: routes::RenderCache,
    /// Flips to true when the server shuts down; feed tasks end on it.
    pub shutdown: watch::Receiver<bool>,
    /// Open live feeds per user and partner, and replay permits.
    pub feed_limits: Arc<routes::FeedLimits>,
    /// Users revoked while their feeds are open.
    pub revocations: Arc<revocation::Revocations>,
    /// Session credentials of front ends in this server (SSH sessions).
    pub sessions: Arc<sessions::SessionTokens>,
}

/// A server that is serving.
pub struct RunningServer {
    /// The real address (after port 0 was resolved).
    pub addr: SocketAddr,
    /// `http://ADDR` or `https://ADDR`.
    pub url: String,
    /// Where `/metrics` is served when `metrics_listen` was given.
    pub metrics_addr: Option<SocketAddr>,
    handle: axum_server::Handle<SocketAddr>,
    shutdown: watch::Sender<bool>,
    serve: JoinHandle<std::io::Result<()>>,
    metrics_serve: Option<(
        axum_server::Handle<SocketAddr>,
        JoinHandle<std::io::Result<()>>,
    )>,
    background: Vec<JoinHandle<()>>,
    /// Users revoked while their sessions are open (the SSH front end listens).
    pub revocations: Arc<revocation::Revocations>,
    /// Session credentials for front ends in this process (SSH sessions).
    pub sessions: Arc<sessions::SessionTokens>,
}

impl RunningServer {
    /// Stops accepting, ends live feeds, waits up to 5 s for requests in
    /// flight.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        self.handle.graceful_shutdown(Some(Duration::from_secs(5)));
        for task in &self.background {
            task.abort();
        }
        if let Some((handle, serve)) = self.metrics_serve {
            handle.shutdown();
            let _ = serve.await;
        }
        let _ = self.serve.await;
    }

    /// Resolves when the server stops by itself (an I/O failure).
    pub async fn wait(&mut self) -> anyhow::Result<()> {
        (&mut self.serve).await??;
        Ok(())
    }
}

/// Binds and serves. Plain HTTP on a non-loopback address is refused
/// unless `allow_plain_http` says a TLS proxy sits in front.
pub async fn start(
    store: SharedStore,
    clock: SharedClock,
    config: ServerConfig,
) -> anyhow::Result<RunningServer> {
    if config.tls.is_none() && !config.listen.ip().is_loopback() && !config.allow_plain_http {
        bail!(
            "refusing to serve plain HTTP on {}: give --tls-cert and --tls-key, or --allow-plain-http if a TLS proxy sits in front",
            config.listen
        );
    }
    if let Some(at) = config.metrics_listen
        && config.tls.is_none()
        && !at.ip().is_loopback()
        && !config.allow_plain_http
    {
        bail!(
            "refusing to serve metrics over plain HTTP on {at}: give --tls-cert and --tls-key, or --allow-plain-http"
        );
    }
    let tls = match &config.tls {
        Some(files) => {
            // Several rustls providers may be compiled in; pick one.
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
            Some(
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&files.cert, &files.key)
                    .await
                    .with_context(|| {
                        format!(
                            "loading TLS certificate {} and key {}",
                            files.cert.display(),
                            files.key.display()
                        )
                    })?,
            )
        }
        None => None,
    };
    let listener = TcpListener::bind(config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let metrics_listener = match config.metrics_listen {
        Some(at) => Some(
            TcpListener::bind(at).with_context(|| format!("cannot listen on {at} for metrics"))?,
        ),
        None => None,
    };
    let open_files = conn::raise_open_files_limit();
    let max_connections = config
        .max_connections
        .unwrap_or_else(|| conn::default_max_connections(open_files));
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let revocations = Arc::new(revocation::Revocations::default());
    let sessions = Arc::new(sessions::SessionTokens::default());
    let state = Arc::new(AppState {
        store: store.clone(),
        clock: clock.clone(),
        limiter: auth::RateLimiter::new(config.rate_limit),
        failures: auth::FailureThrottle::new(config.auth_failures_per_minute),
        metrics: metrics::Metrics::default(),
        renders: routes::RenderCache::default(),
        shutdown: shutdown_rx,
        config: config.clone(),
        revocations: revocations.clone(),
        sessions: sessions.clone(),
        feed_limits: Arc::new(routes::FeedLimits::new(
            config.max_streams_per_user,
            config.max_streams_per_partner,
        )),
    });
    let scheme = if tls.is_some() { "https" } else { "http" };
    let cap = conn::CapAcceptor::new(max_connections, conn::reserve_for(max_connections));
    let handle = axum_server::Handle::new();
    let serve = serve_app(
        listener,
        tls.clone(),
        cap,
        &config,
        handle.clone(),
        routes::router(state.clone()),
    )?;
    let metrics_serve = match metrics_listener {
        Some(listener) => {
            let metrics_addr = listener.local_addr()?;
            let handle = axum_server::Handle::new();
            let cap = conn::CapAcceptor::new(64, 0);
            let task = serve_app(
                listener,
                tls,
                cap,
                &config,
                handle.clone(),
                routes::metrics_router(state),
            )?;
            Some((metrics_addr, handle, task))
        }
        None => None,
    };
    let background = vec![
        tokio::spawn(revocation::watch(
            store.clone(),
            clock.clone(),
            revocations.clone(),
            sessions.clone(),
        )),
        tokio::spawn(sweep_expired(store.clone(), clock, config.sweep_interval)),
        tokio::spawn(prune(store, config.prune_interval)),
    ];
    Ok(RunningServer {
        addr,
        url: format!("{scheme}://{addr}"),
        metrics_addr: metrics_serve.as_ref().map(|(at, _, _)| *at),
        handle,
        shutdown: shutdown_tx,
        serve,
        metrics_serve: metrics_serve.map(|(_, handle, task)| (handle, task)),
        background,
        revocations,
        sessions,
    })
}

/// Serves `app` on `listener` under the connection cap, with the header
/// read timeout, and HTTP/1.1 only over cleartext (no h2c: see API.md);
/// over TLS, HTTP/2 is offered by ALPN as well.
fn serve_app(
    listener: TcpListener,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
    cap: conn::CapAcceptor,
    config: &ServerConfig,
    handle: axum_server::Handle<SocketAddr>,
    app: axum::Router,
) -> anyhow::Result<JoinHandle<std::io::Result<()>>> {
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    let mut server = axum_server::from_tcp(listener)?
        .handle(handle)
        // Also bounds TLS and HTTP/2 connections that never send a request.
        .first_request_timeout(config.header_timeout);
    if tls.is_none() {
        server = server.http1_only();
    }
    server
        .http_builder()
        .http1()
        .header_read_timeout(config.header_timeout);
    Ok(match tls {
        Some(tls) => {
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls)
                .handshake_timeout(config.header_timeout)
                .acceptor(cap);
            tokio::spawn(server.acceptor(acceptor).serve(app))
        }
        None => tokio::spawn(server.acceptor(cap).serve(app)),
    })
}

/// Expires pending referrals at `expires_at`: sleeps until the next one is
/// due (at most `interval`), then asks the store to expire what is due.
async fn sweep_expired(store: SharedStore, clock: SharedClock, interval: Duration) {
    loop {
        let swept = async {
            let n = store.expire_due().await?;
            if n > 0 {
                tracing::debug!(expired = n, "expiry sweep");
            }
            store.next_expiry().await
        };
        let next = match swept.await {
            Ok(next) => next,
            Err(e) => {
                tracing::warn!(error = %e, "expiry sweep failed");
                None
            }
        };
        let wait = next
            .and_then(|at| (at - clock.now()).to_std().ok())
            .map_or(interval, |d| d.min(interval));
        tokio::time::sleep(wait.max(Duration::from_millis(10))).await;
    }
}

/// Drops idempotency records past 24 h and events past retention.
async fn prune(store: SharedStore, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        if let Err(e) = store.prune().await {
            tracing::warn!(error = %e, "prune failed");
        }
    }
}
