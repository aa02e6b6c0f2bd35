//! The SSH front end: `ssh -p 2222 leads.example.net` opens a partner
//! user's inbox; `ssh ... list --format json` runs a headless command.
//!
//! - **russh** speaks SSH; nothing of the protocol is written here.
//! - **Who**: public-key authentication only. The key's SHA256
//!   fingerprint finds its user in the store ([`crate::store::Store::authenticate_key`]);
//!   a revoked user's keys find nobody. The SSH user name is ignored.
//!   Failed attempts (an unknown key, a password, keyboard-interactive)
//!   count against the source address in the same governor throttle as
//!   HTTP's failed logins ([`crate::server::auth::FailureThrottle`]).
//! - **How it reaches the exchange**: like any inbox, through `client` over
//!   HTTP, with a session credential ([`crate::server::sessions`]) issued
//!   for the user when a session starts and dropped when it ends. It never
//!   reads the store for inbox data.
//! - **What a session may do** (`session`): `pty-req` + `shell` (the
//!   inbox), `exec` of a headless command ([`exec`]), `env` of TERM,
//!   COLORTERM, NO_COLOR and LANG. Everything else is refused with a
//!   message: other commands, subsystems, port forwarding either way,
//!   agent and X11 forwarding.
//! - **Limits** ([`limits`]): sessions per user and in total, an idle
//!   timeout (russh's inactivity timeout), bounded buffers per session.

pub mod exec;
pub mod keys;
pub mod limits;
mod session;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use russh::keys::PrivateKey;
use russh::server::{Auth, Msg, Server as _, Session};
use russh::{Channel, ChannelId, ChannelOpenFailure, MethodKind, MethodSet};
use tokio::task::JoinHandle;

use crate::domain::Actor;
use crate::server::RunningServer;
use crate::server::auth::FailureThrottle;
use crate::server::revocation::Revocations;
use crate::server::sessions::SessionTokens;
use crate::store::SharedStore;

/// How to serve SSH.
#[derive(Debug, Clone)]
pub struct SshConfig {
    /// Where to listen; port 0 picks a free one.
    pub listen: SocketAddr,
    /// The host key (ed25519, OpenSSH format); made on first start.
    pub host_key: PathBuf,
    /// Sessions one user may hold at once; 0: no cap.
    pub max_sessions_per_user: usize,
    /// Sessions in total; 0: no cap.
    pub max_sessions: usize,
    /// A connection that sends nothing for this long is closed.
    pub idle_timeout: Duration,
    /// Failed authentications allowed per source address a minute.
    pub auth_failures_per_minute: u32,
    /// The `leadx` binary that runs `exec` commands (default: this one).
    pub exe: PathBuf,
}

impl SshConfig {
    /// Defaults for `listen` and `host_key`.
    pub fn new(listen: SocketAddr, host_key: PathBuf) -> Self {
        Self {
            listen,
            host_key,
            max_sessions_per_user: 4,
            max_sessions: 256,
            idle_timeout: Duration::from_secs(30 * 60),
            auth_failures_per_minute: 30,
            exe: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("leadx")),
        }
    }
}

/// What the sessions share.
struct Shared {
    store: SharedStore,
    /// The HTTP API the sessions' clients talk to.
    api_url: String,
    /// One HTTP transport for every session's client
    /// ([`crate::client::Client::for_token`]).
    transport: crate::client::Client,
    sessions: Arc<SessionTokens>,
    revocations: Arc<Revocations>,
    failures: FailureThrottle,
    slots: Arc<limits::Slots>,
    exe: PathBuf,
}

/// The SSH listener, serving.
pub struct RunningSsh {
    /// The real address (after port 0 was resolved).
    pub addr: SocketAddr,
    /// The host key's `SHA256:...` fingerprint.
    pub fingerprint: String,
    /// Sessions open now.
    pub slots: Arc<limits::Slots>,
    task: JoinHandle<()>,
}

impl RunningSsh {
    /// Stops accepting and drops every connection.
    pub fn shutdown(self) {
        self.task.abort();
    }
}

impl Drop for RunningSsh {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the SSH front end of `server` (which must serve plain HTTP on
/// loopback or behind a proxy: the sessions' clients connect to it).
pub async fn start(
    config: SshConfig,
    store: SharedStore,
    server: &RunningServer,
) -> anyhow::Result<RunningSsh> {
    if server.url.starts_with("https://") {
        anyhow::bail!(
            "the SSH front end needs the HTTP API in plain HTTP on this host (its sessions connect \
             to it); serve HTTPS through a TLS proxy (--allow-plain-http) to use --ssh-listen"
        );
    }
    let host_key = keys::load_or_create_host_key(&config.host_key)?;
    let fingerprint = keys::fingerprint(host_key.public_key());
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {} for SSH", config.listen))?;
    let addr = listener.local_addr()?;
    let slots = limits::Slots::new(config.max_sessions_per_user, config.max_sessions);
    let api = server.addr;
    let api_ip = if api.ip().is_unspecified() {
        IpAddr::from([127, 0, 0, 1])
    } else {
        api.ip()
    };
    let api_url = format!("http://{}", SocketAddr::new(api_ip, api.port()));
    let transport = crate::client::Client::new(crate::client::ClientConfig::new(
        api_url.clone(),
        String::new(),
    ))
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let shared = Arc::new(Shared {
        store,
        transport,
        api_url,
        sessions: server.sessions.clone(),
        revocations: server.revocations.clone(),
        failures: FailureThrottle::new(config.auth_failures_per_minute),
        slots: slots.clone(),
        exe: config.exe.clone(),
    });
    let russh_config = Arc::new(russh_config(&config, host_key));
    let task = tokio::spawn(async move {
        let mut server = Listener { shared };
        if let Err(e) = server.run_on_socket(russh_config, &listener).await {
            tracing::error!(error = %e, "the SSH listener stopped");
        }
    });
    Ok(RunningSsh {
        addr,
        fingerprint,
        slots,
        task,
    })
}

fn russh_config(config: &SshConfig, host_key: PrivateKey) -> russh::server::Config {
    russh::server::Config {
        methods: MethodSet::from(&[MethodKind::PublicKey][..]),
        keys: vec![host_key],
        inactivity_timeout: Some(config.idle_timeout),
        auth_rejection_time: Duration::from_millis(300),
        auth_rejection_time_initial: Some(Duration::ZERO),
        max_auth_attempts: 6,
        // A session's window bounds what it may have in flight.
        window_size: 256 * 1024,
        channel_buffer_size: 64,
        nodelay: true,
        ..Default::default()
    }
}

struct Listener {
    shared: Arc<Shared>,
}

impl russh::server::Server for Listener {
    type Handler = Connection;

    fn new_client(&mut self, peer: Option<SocketAddr>) -> Connection {
        Connection {
            shared: self.shared.clone(),
            peer: peer.map(|p| p.ip()),
            actor: None,
        }
    }
}

/// One SSH connection.
struct Connection {
    shared: Arc<Shared>,
    peer: Option<IpAddr>,
    actor: Option<Actor>,
}

/// The reason text of a refused channel (shown by the OpenSSH client).
fn prohibited(what: &str) -> ChannelOpenFailure {
    ChannelOpenFailure::Other {
        code: 1,
        reason: format!("leadx: {what} is not offered"),
    }
}

impl Connection {
    fn failed(&self, why: &str) -> Auth {
        tracing::info!(source = ?self.peer, why, "SSH authentication refused");
        let _ = self.shared.failures.failed(self.peer);
        Auth::Reject {
            proceed_with_methods: Some(MethodSet::from(&[MethodKind::PublicKey][..])),
            partial_success: false,
        }
    }

    fn throttled(&self) -> bool {
        self.shared.failures.check(self.peer).is_err()
    }
}

impl russh::server::Handler for Connection {
    type Error = anyhow::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        Ok(Auth::Reject {
            proceed_with_methods: Some(MethodSet::from(&[MethodKind::PublicKey][..])),
            partial_success: false,
        })
    }

    async fn auth_password(&mut self, _user: &str, _password: &str) -> Result<Auth, Self::Error> {
        Ok(self.failed("password"))
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        _user: &str,
        _submethods: &str,
        _response: Option<russh::server::Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        Ok(self.failed("keyboard-interactive"))
    }

    async fn auth_publickey_offered(
        &mut self,
        _user: &str,
        _offer: russh::server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        if self.throttled() {
            return Ok(Auth::reject());
        }
        Ok(Auth::Accept)
    }

    async fn auth_publickey(
        &mut self,
        _user: &str,
        key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        if self.throttled() {
            return Ok(Auth::reject());
        }
        let fingerprint = keys::fingerprint(key.public_key);
        match self.shared.store.authenticate_key(&fingerprint).await {
            Ok(Some(actor)) => {
                tracing::info!(user = %actor.user_id, %fingerprint, source = ?self.peer, "SSH log-in");
                self.actor = Some(actor);
                Ok(Auth::Accept)
            }
            Ok(None) => Ok(self.failed("unknown key")),
            Err(e) => {
                tracing::warn!(error = %e, "SSH log-in: the store failed");
                Ok(Auth::reject())
            }
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(actor) = self.actor.clone() else {
            reply
                .reject(prohibited("a session before logging in"))
                .await;
            return Ok(());
        };
        reply.accept().await;
        tokio::spawn(session::run(
            self.shared.clone(),
            actor,
            channel,
            session.handle(),
        ));
        Ok(())
    }

    async fn channel_open_direct_tcpip(
        &mut self,
        _channel: Channel<Msg>,
        _host: &str,
        _port: u32,
        _from: &str,
        _from_port: u32,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.reject(prohibited("port forwarding")).await;
        Ok(())
    }

    async fn channel_open_direct_streamlocal(
        &mut self,
        _channel: Channel<Msg>,
        _path: &str,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.reject(prohibited("socket forwarding")).await;
        Ok(())
    }

    async fn channel_open_x11(
        &mut self,
        _channel: Channel<Msg>,
        _from: &str,
        _from_port: u32,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.reject(prohibited("X11 forwarding")).await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _cols: u32,
        _rows: u32,
        _pw: u32,
        _ph: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        _value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if session::ENV_KEPT.contains(&name) {
            session.channel_success(channel)?;
        } else {
            session.channel_failure(channel)?;
        }
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Refusals are said on the channel (stderr and exit status).
        session.channel_success(channel)?;
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn x11_request(
        &mut self,
        channel: ChannelId,
        _single: bool,
        _protocol: &str,
        _cookie: &str,
        _screen: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn agent_request(
        &mut self,
        _channel: ChannelId,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        Ok(false)
    }

    async fn tcpip_forward(
        &mut self,
        _address: &str,
        _port: &mut u32,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        Ok(false)
    }

    async fn streamlocal_forward(
        &mut self,
        _path: &str,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        Ok(false)
    }
}
