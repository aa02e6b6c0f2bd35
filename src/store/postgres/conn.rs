//! Reaching PostgreSQL: the URL (its `sslmode`, its password never shown),
//! TLS through rustls, and the connection pool.
//!
//! `sslmode` follows libpq: `disable` (plain), `prefer` (the default: TLS
//! when the server offers it, unverified), `require` (TLS, the certificate
//! not verified), `verify-ca` and `verify-full` (TLS, the certificate
//! verified against the system's roots and `sslrootcert=<file>` if given,
//! and the host name checked: this store treats `verify-ca` as the stricter
//! `verify-full`).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::store::{StoreError, StoreResult};

/// Connections the pool keeps open at most.
pub const POOL_SIZE: usize = 16;

/// Whether `--db` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(db: &str) -> bool {
    let lower = db.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// The URL with its password (in the user part or a `password=` parameter)
/// replaced by `***`: safe to log or show.
pub fn redact_url(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let mut out = match head.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(end);
            let authority = match authority.rsplit_once('@') {
                Some((user_info, hosts)) => match user_info.split_once(':') {
                    Some((user, _password)) => format!("{user}:***@{hosts}"),
                    None => authority.to_string(),
                },
                None => authority.to_string(),
            };
            format!("{scheme}://{authority}{path}")
        }
        None => head.to_string(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// What a URL says: the driver's configuration, the TLS connector, and
/// `host:port` to name in messages.
#[derive(Clone)]
pub struct Target {
    pub config: tokio_postgres::Config,
    pub tls: MakeRustlsConnect,
    /// `host:port` (comma-separated when several): never the password.
    pub shown: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("shown", &self.shown)
            .finish_non_exhaustive()
    }
}

/// How much TLS a URL asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    Disable,
    Prefer,
    Require,
    VerifyFull,
}

/// Parses a `postgres://` URL, taking out what the driver does not know
/// (`sslmode` beyond `require`, `sslrootcert`).
pub fn parse(url: &str) -> StoreResult<Target> {
    let bad =
        |why: String| StoreError::Backend(format!("PostgreSQL URL {}: {why}", redact_url(url)));
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, q),
        None => (url, ""),
    };
    let mut tls = Tls::Prefer;
    let mut root_file = None;
    let mut kept = Vec::new();
    for param in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = param.split_once('=').unwrap_or((param, ""));
        match k {
            "sslmode" => {
                tls = match v {
                    "disable" => Tls::Disable,
                    "allow" | "prefer" => Tls::Prefer,
                    "require" => Tls::Require,
                    "verify-ca" | "verify-full" => Tls::VerifyFull,
                    other => return Err(bad(format!("unknown sslmode {other:?}"))),
                }
            }
            "sslrootcert" => root_file = Some(v.to_string()),
            _ => kept.push(param),
        }
    }
    let rest = if kept.is_empty() {
        head.to_string()
    } else {
        format!("{head}?{}", kept.join("&"))
    };
    let mut config = tokio_postgres::Config::from_str(&rest).map_err(|e| bad(e.to_string()))?;
    config.ssl_mode(match tls {
        Tls::Disable => SslMode::Disable,
        Tls::Prefer => SslMode::Prefer,
        Tls::Require | Tls::VerifyFull => SslMode::Require,
    });
    if config.get_application_name().is_none() {
        config.application_name("leadx");
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    let client = client_config(tls, root_file.as_deref()).map_err(bad)?;
    Ok(Target {
        shown: shown(&config),
        config,
        tls: MakeRustlsConnect::new(client),
    })
}

/// `host:port` for each host of a configuration.
fn shown(config: &tokio_postgres::Config) -> String {
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            match h {
                Host::Tcp(name) => format!("{name}:{port}"),
                #[cfg(unix)]
                Host::Unix(path) => format!("{}:{port}", path.display()),
            }
        })
        .collect();
    if hosts.is_empty() {
        "localhost:5432".to_string()
    } else {
        hosts.join(",")
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn client_config(tls: Tls, root_file: Option<&str>) -> Result<ClientConfig, String> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let config = match tls {
        Tls::VerifyFull => {
            let mut roots = RootCertStore::empty();
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            if let Some(file) = root_file {
                let certs = CertificateDer::pem_file_iter(file)
                    .map_err(|e| format!("sslrootcert {file}: {e}"))?;
                for cert in certs {
                    let cert = cert.map_err(|e| format!("sslrootcert {file}: {e}"))?;
                    roots
                        .add(cert)
                        .map_err(|e| format!("sslrootcert {file}: {e}"))?;
                }
            }
            if roots.is_empty() {
                return Err("sslmode=verify-full but no root certificate was found \
                            (give one with sslrootcert=<file>)"
                    .into());
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Tls::Disable | Tls::Prefer | Tls::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unverified(
                provider.signature_verification_algorithms,
            )))
            .with_no_client_auth(),
    };
    Ok(config)
}

/// `sslmode=require`/`prefer`: the channel is encrypted and the handshake
/// signatures checked, but the certificate is not verified (as libpq).
#[derive(Debug)]
struct Unverified(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// The pool every query but the listener's goes through.
pub fn pool(target: &Target) -> StoreResult<deadpool_postgres::Pool> {
    let manager = deadpool_postgres::Manager::from_config(
        target.config.clone(),
        target.tls.clone(),
        deadpool_postgres::ManagerConfig {
            recycling_method: deadpool_postgres::RecyclingMethod::Fast,
        },
    );
    deadpool_postgres::Pool::builder(manager)
        .max_size(POOL_SIZE)
        .wait_timeout(Some(Duration::from_secs(30)))
        .create_timeout(Some(Duration::from_secs(10)))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .build()
        .map_err(|e| StoreError::Backend(format!("PostgreSQL pool: {e}")))
}

/// A pooled connection; the error names the host, never the password.
pub async fn get(pool: &deadpool_postgres::Pool) -> StoreResult<deadpool_postgres::Client> {
    pool.get().await.map_err(|e| {
        let why = match &e {
            deadpool_postgres::PoolError::Backend(e) => error_text(e),
            other => other.to_string(),
        };
        StoreError::Backend(format!("PostgreSQL: {why}"))
    })
}

/// The driving half of a connection opened by [`connect_one`].
pub type OneConnection = tokio_postgres::Connection<
    tokio_postgres::Socket,
    <MakeRustlsConnect as tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>>::Stream,
>;

/// Opens one connection outside the pool (migrations, the listener) and
/// drives it on a task; the error names the host and port, never the URL.
pub async fn connect_one(
    target: &Target,
    application_name: &str,
) -> StoreResult<(tokio_postgres::Client, OneConnection)> {
    let mut config = target.config.clone();
    config.application_name(application_name);
    config
        .connect(target.tls.clone())
        .await
        .map_err(|e| unreachable(target, &e))
}

/// The error for a database that cannot be reached.
pub fn unreachable(target: &Target, e: &tokio_postgres::Error) -> StoreError {
    StoreError::Backend(format!(
        "cannot reach PostgreSQL at {}: {}",
        target.shown,
        error_text(e)
    ))
}

/// A driver error with its cause (the driver's own text often leaves the
/// server's message in the source).
pub fn error_text(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_in_user_info_and_parameters() {
        assert_eq!(
            redact_url("postgres://alice:s3cret@db.example:5432/leadx"),
            "postgres://alice:***@db.example:5432/leadx"
        );
        assert_eq!(
            redact_url("postgresql://alice:p%40ss:word@db/leadx?sslmode=require&password=x&a=b"),
            "postgresql://alice:***@db/leadx?sslmode=require&password=***&a=b"
        );
        assert_eq!(
            redact_url("postgres://alice@db/leadx"),
            "postgres://alice@db/leadx"
        );
        assert_eq!(redact_url("postgres://db"), "postgres://db");
    }

    #[test]
    fn recognises_urls() {
        assert!(is_postgres_url("postgres://u@h/d"));
        assert!(is_postgres_url("PostgreSQL://u@h/d"));
        assert!(!is_postgres_url("./leadx.db"));
        assert!(!is_postgres_url("/var/lib/postgres/leadx.db"));
    }

    #[test]
    fn parses_sslmodes_and_names_hosts_without_the_password() {
        for (mode, want) in [
            ("disable", SslMode::Disable),
            ("prefer", SslMode::Prefer),
            ("require", SslMode::Require),
        ] {
            let t = parse(&format!("postgres://u:pw@db.example:6432/x?sslmode={mode}")).unwrap();
            assert_eq!(t.config.get_ssl_mode(), want);
            assert_eq!(t.shown, "db.example:6432");
        }
        let t = parse("postgres://u@h/x").unwrap();
        assert_eq!(t.config.get_ssl_mode(), SslMode::Prefer);
        assert_eq!(t.shown, "h:5432");
        let e = parse("postgres://u:topsecret@h/x?sslmode=bogus")
            .unwrap_err()
            .to_string();
        assert!(e.contains("sslmode") && !e.contains("topsecret"), "{e}");
        let e =
            parse("postgres://u:topsecret@h/x?sslmode=verify-full&sslrootcert=/nonexistent.pem")
                .unwrap_err()
                .to_string();
        assert!(e.contains("sslrootcert") && !e.contains("topsecret"), "{e}");
    }

    #[tokio::test]
    async fn an_unreachable_database_names_host_and_port_never_the_password() {
        // Port 1 on loopback: nothing listens there.
        let t = parse("postgres://u:topsecret@127.0.0.1:1/x?sslmode=disable").unwrap();
        let e = connect_one(&t, "leadx-test")
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("127.0.0.1:1"), "{e}");
        assert!(!e.contains("topsecret"), "{e}");
    }
}
