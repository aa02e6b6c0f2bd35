//! [`Client`]: one async method per endpoint of PROTOCOL.md v1, and
//! [`ClientError`], which tells a definite answer from one worth retrying.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rand::RngCore;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER,
};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::one_line;
use super::paging::ListLimits;
use super::servers::{MoveHook, ServerMove, Servers};
use crate::wire::{
    AcceptRequest, ApiError, BatchRequest, BatchResponse, CloseRequest, CreateReferral, ErrorBody,
    ErrorCode, ForwardRequest, ForwardResponse, IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED, Me, Partner,
    PartnerList, Referral, ReferralBox, ReferralPage, RejectRequest, Status, WithdrawRequest,
};

/// Largest response body the client reads (a hostile server cannot make it
/// allocate without bound). A page of 5,000 referrals is well below this.
const MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;

/// Page size `list_all` asks for.
pub const LIST_ALL_PAGE: u32 = 500;

/// Where the server is and who we are.
#[derive(Clone)]
pub struct ClientConfig {
    /// `http://host:port` (a path prefix is allowed: `https://host/leadx`).
    pub base_url: String,
    /// Other servers of the same exchange, tried in order when the live
    /// one cannot be reached (see [`super::servers`]).
    pub fallback_urls: Vec<String>,
    /// The bearer token.
    pub token: String,
    /// Whole-request limit for ordinary requests (not the live feed).
    pub request_timeout: Duration,
    /// Limit for opening a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// What one list load (`list_all*`) may read before it stops with an
    /// error: a server that never ends pagination cannot grow the client.
    pub list_limits: ListLimits,
}

impl ClientConfig {
    /// A config with the default timeouts (15 s per request, 5 s to connect).
    pub fn new(base_url: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            fallback_urls: Vec::new(),
            token: token.into(),
            request_timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            list_limits: ListLimits::default(),
        }
    }

    /// A config for several servers, tried in this order (the first is
    /// `base_url`); at least one.
    pub fn with_servers(urls: &[String], token: impl Into<String>) -> Self {
        let mut config = Self::new(urls.first().cloned().unwrap_or_default(), token);
        config.fallback_urls = urls.iter().skip(1).cloned().collect();
        config
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("fallback_urls", &self.fallback_urls)
            .field("token", &"<redacted>")
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// Why a call failed.
#[derive(Debug, Clone)]
pub enum ClientError {
    /// The server answered with a non-2xx status.
    Api {
        /// The HTTP status.
        status: u16,
        /// The error body (synthesised from the status when the body was not
        /// the protocol's `{"error": {...}}`, e.g. from a proxy).
        error: ApiError,
        /// `Retry-After`, when the server sent one.
        retry_after: Option<Duration>,
    },
    /// No answer: connection refused or reset, DNS, TLS, timeout. Whether
    /// the server acted is unknown; a retry with the same key is safe.
    Network(String),
    /// The server answered 2xx with a body this client does not understand.
    Decode(String),
}

impl ClientError {
    /// An answer the server gave that a retry would not change: any status
    /// below 500 except 429 and 409 `idempotency_in_flight`.
    pub fn is_definite(&self) -> bool {
        match self {
            Self::Api { status, error, .. } => {
                *status < 500
                    && *status != 429
                    && !(*status == 409 && error.code == ErrorCode::IdempotencyInFlight)
            }
            Self::Network(_) | Self::Decode(_) => false,
        }
    }

    /// Worth retrying with the same idempotency key: network errors and
    /// timeouts, 5xx, 429 and 409 `idempotency_in_flight`.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { status, error, .. } => {
                *status >= 500
                    || *status == 429
                    || (*status == 409 && error.code == ErrorCode::IdempotencyInFlight)
            }
            Self::Network(_) => true,
            Self::Decode(_) => false,
        }
    }

    /// The error code, when the server gave one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api { error, .. } => Some(error.code),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// On a 409 `conflict`: the referral as it is now.
    pub fn current(&self) -> Option<&Referral> {
        match self {
            Self::Api { error, .. } => error.current.as_deref(),
            _ => None,
        }
    }

    /// `Retry-After`, when the server sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Api {
                status,
                error,
                retry_after,
            } => {
                let label = match error.code {
                    ErrorCode::Unknown => format!("HTTP {status}"),
                    code => code.as_str().replace('_', " "),
                };
                let mut message = one_line(&error.message, 200);
                if message.is_empty() {
                    if let Some(cur) = &error.current {
                        message = format!("now {} (version {})", cur.status.as_str(), cur.version);
                    } else {
                        message = format!("HTTP {status}");
                    }
                }
                write!(f, "{label}: {message}")?;
                if let Some(field) = &error.field {
                    write!(f, " [{}]", one_line(field, 80))?;
                }
                if let Some(after) = retry_after {
                    write!(f, " (retry in {})", human_duration(*after))?;
                }
                Ok(())
            }
            Self::Network(m) => f.write_str(m),
            Self::Decode(m) => write!(f, "unexpected answer from server: {m}"),
        }
    }
}

impl std::error::Error for ClientError {}

/// `3s`, `250ms`, `2m 5s`.
pub(crate) fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        format!("{}ms", d.as_millis())
    } else if secs < 60 {
        if d.subsec_millis() >= 100 && secs < 10 {
            format!("{:.1}s", d.as_secs_f64())
        } else {
            format!("{secs}s")
        }
    } else if secs < 3600 {
        format!("{}m {}s", secs / 60, secs % 60)
    } else {
        format!("{}h {}m", secs / 3600, (secs % 3600) / 60)
    }
}

/// A 2xx answer with what the headers said about it.
#[derive(Debug, Clone)]
pub struct Answer<T> {
    /// The decoded body.
    pub value: T,
    /// The HTTP status (200, 201).
    pub status: u16,
    /// `Idempotent-Replayed: true`: the server answered from its record of
    /// an earlier request with the same key and changed nothing.
    pub replayed: bool,
}

/// A fresh idempotency key: 160 random bits as 40 lower-case hex digits.
pub fn new_idempotency_key() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

struct Inner {
    /// Ordinary requests: whole-request timeout.
    http: reqwest::Client,
    /// The live feed: no whole-request timeout (the stream is endless).
    stream_http: reqwest::Client,
    /// The servers and which one is live.
    servers: Servers,
    auth: HeaderValue,
    config: ClientConfig,
}

/// An HTTP client of one exchange (one server, or several that fail over)
/// as one user. Cheap to clone (one `Arc`); clones share the live server.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.servers.live().as_str())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Builds a client; fails on a server URL that is not `http(s)://...`
    /// or a token that cannot be a header value.
    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        let mut urls = Vec::with_capacity(1 + config.fallback_urls.len());
        for raw in std::iter::once(&config.base_url).chain(&config.fallback_urls) {
            let base = Url::parse(raw.trim())
                .map_err(|e| ClientError::Network(format!("bad server URL {raw:?}: {e}")))?;
            if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
                return Err(ClientError::Network(format!(
                    "bad server URL {raw:?}: expected http:// or https://"
                )));
            }
            urls.push(base);
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.token))
            .map_err(|_| ClientError::Network("the token is not printable ASCII".into()))?;
        auth.set_sensitive(true);
        let user_agent = concat!("leadx/", env!("CARGO_PKG_VERSION"));
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // Below `leadx serve`'s idle limit (--header-timeout, 10 s), so
            // a kept-alive connection is dropped here before the server
            // closes it under a request.
            .pool_idle_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| ClientError::Network(format!("cannot build HTTP client: {e}")))?;
        let stream_http = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(config.connect_timeout)
            .tcp_keepalive(Duration::from_secs(30))
            .build()
            .map_err(|e| ClientError::Network(format!("cannot build HTTP client: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                stream_http,
                servers: Servers::new(urls),
                auth,
                config,
            }),
        })
    }

    /// The same servers and settings for another token, over this
    /// client's connection pools and TLS setup: many users' clients in one
    /// process (the SSH front end's sessions) share one transport instead
    /// of building two each.
    pub fn for_token(&self, token: &str) -> Result<Self, ClientError> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| ClientError::Network("the token is not printable ASCII".into()))?;
        auth.set_sensitive(true);
        let mut config = self.inner.config.clone();
        config.token = token.to_owned();
        Ok(Self {
            inner: Arc::new(Inner {
                http: self.inner.http.clone(),
                stream_http: self.inner.stream_http.clone(),
                servers: Servers::new(self.inner.servers.urls().to_vec()),
                auth,
                config,
            }),
        })
    }

    /// The configuration this client was built from.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The live server's base URL.
    pub fn base_url(&self) -> &str {
        self.inner.servers.live().as_str()
    }

    /// Every server's base URL, in the order they are tried.
    pub fn server_urls(&self) -> Vec<String> {
        self.inner
            .servers
            .urls()
            .iter()
            .map(|u| u.to_string())
            .collect()
    }

    /// Calls `hook` each time a request (or the live feed) moves to the
    /// next server because the live one could not be reached; replaces an
    /// earlier hook. Shared by every clone.
    pub fn on_move(&self, hook: impl Fn(&ServerMove) + Send + Sync + 'static) {
        let hook: MoveHook = Arc::new(hook);
        self.inner.servers.set_hook(hook);
    }

    /// The live server's base URL + the path segments, each percent-encoded.
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.servers.live().clone();
        {
            // cannot_be_a_base was refused in `new`, so this is infallible.
            let mut path = url
                .path_segments_mut()
                .expect("base URL checked in Client::new");
            path.pop_if_empty();
            path.extend(segments);
        }
        url
    }

    fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.inner
            .http
            .request(method, url)
            .header(AUTHORIZATION, self.inner.auth.clone())
            .header(ACCEPT, "application/json")
    }

    /// Opens `GET /v1/events` with `Last-Event-ID: after` on the live
    /// server, moving on when it cannot be reached (no whole-request
    /// timeout: the feed bounds the wait for headers itself).
    pub(crate) async fn open_events(&self, after: u64) -> Result<Response, ClientError> {
        self.inner
            .servers
            .send(self.url(&["v1", "events"]), |url| {
                self.inner
                    .stream_http
                    .get(url)
                    .header(AUTHORIZATION, self.inner.auth.clone())
                    .header(ACCEPT, "text/event-stream")
                    .header(CACHE_CONTROL, "no-cache")
                    .header("Last-Event-ID", after.to_string())
            })
            .await
    }

    async fn get_json<T: DeserializeOwned>(&self, url: Url) -> Result<T, ClientError> {
        let resp = self
            .inner
            .servers
            .send(url, |url| self.request(Method::GET, url))
            .await?;
        Ok(read_answer(resp).await?.value)
    }

    /// `POST`s `body` as JSON to `base`/`segments` with `Idempotency-Key:
    /// key`, and says whether the answer was a replay. Every typed action
    /// method goes through here.
    pub async fn post_answer<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &B,
        key: &str,
    ) -> Result<Answer<T>, ClientError> {
        let key = HeaderValue::from_str(key).map_err(|_| {
            ClientError::Network("the idempotency key is not printable ASCII".into())
        })?;
        // The same key on every server: a write that reached one before
        // its connection dropped is answered by the next from the record.
        let resp = self
            .inner
            .servers
            .send(self.url(segments), |url| {
                self.request(Method::POST, url)
                    .header(IDEMPOTENCY_KEY, key.clone())
                    .json(body)
            })
            .await?;
        read_answer(resp).await
    }

    async fn action<B: Serialize, T: DeserializeOwned>(
        &self,
        id: &str,
        verb: &str,
        body: &B,
        key: &str,
    ) -> Result<T, ClientError> {
        check_id(id)?;
        Ok(self
            .post_answer(&["v1", "referrals", id, verb], body, key)
            .await?
            .value)
    }

    /// `GET /v1/me`: who the token belongs to.
    pub async fn me(&self) -> Result<Me, ClientError> {
        self.get_json(self.url(&["v1", "me"])).await
    }

    /// `GET /v1/partners[?q=]`: the directory.
    pub async fn partners(&self, q: Option<&str>) -> Result<Vec<Partner>, ClientError> {
        let mut url = self.url(&["v1", "partners"]);
        if let Some(q) = q {
            url.query_pairs_mut().append_pair("q", q);
        }
        Ok(self.get_json::<PartnerList>(url).await?.items)
    }

    /// `GET /v1/referrals`: one page.
    pub async fn list_page(
        &self,
        box_: ReferralBox,
        statuses: &[Status],
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<ReferralPage, ClientError> {
        Ok(self.list_page_sized(box_, statuses, cursor, limit).await?.0)
    }

    /// [`Client::list_page`] with the size of the body read, in bytes.
    pub(crate) async fn list_page_sized(
        &self,
        box_: ReferralBox,
        statuses: &[Status],
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(ReferralPage, usize), ClientError> {
        let mut url = self.url(&["v1", "referrals"]);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("box", box_.as_str());
            if !statuses.is_empty() {
                let joined: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
                q.append_pair("status", &joined.join(","));
            }
            q.append_pair("limit", &limit.to_string());
            if let Some(cursor) = cursor {
                q.append_pair("cursor", cursor);
            }
        }
        // Through the server list, as every read: a page may come from
        // the next server of the exchange (cursors hold across servers).
        let resp = self
            .inner
            .servers
            .send(url, |url| self.request(Method::GET, url))
            .await?;
        let (answer, size) = read_answer_sized(resp).await?;
        Ok((answer.value, size))
    }

    /// `GET /v1/referrals/{id}`.
    pub async fn get(&self, id: &str) -> Result<Referral, ClientError> {
        check_id(id)?;
        self.get_json(self.url(&["v1", "referrals", id])).await
    }

    /// `POST /v1/referrals`: sends a lead (201).
    pub async fn send(&self, request: &CreateReferral, key: &str) -> Result<Referral, ClientError> {
        Ok(self
            .post_answer(&["v1", "referrals"], request, key)
            .await?
            .value)
    }

    /// `POST /v1/referrals/{id}/accept`.
    pub async fn accept(
        &self,
        id: &str,
        request: &AcceptRequest,
        key: &str,
    ) -> Result<Referral, ClientError> {
        self.action(id, "accept", request, key).await
    }

    /// `POST /v1/referrals/{id}/reject`.
    pub async fn reject(
        &self,
        id: &str,
        request: &RejectRequest,
        key: &str,
    ) -> Result<Referral, ClientError> {
        self.action(id, "reject", request, key).await
    }

    /// `POST /v1/referrals/{id}/forward`: the closed hop and the new one.
    pub async fn forward(
        &self,
        id: &str,
        request: &ForwardRequest,
        key: &str,
    ) -> Result<ForwardResponse, ClientError> {
        self.action(id, "forward", request, key).await
    }

    /// `POST /v1/referrals/{id}/withdraw`.
    pub async fn withdraw(
        &self,
        id: &str,
        request: &WithdrawRequest,
        key: &str,
    ) -> Result<Referral, ClientError> {
        self.action(id, "withdraw", request, key).await
    }

    /// `POST /v1/referrals/{id}/close`: won or lost.
    pub async fn close(
        &self,
        id: &str,
        request: &CloseRequest,
        key: &str,
    ) -> Result<Referral, ClientError> {
        self.action(id, "close", request, key).await
    }

    /// `POST /v1/referrals/batch`: up to 500 actions, one result each.
    pub async fn batch(
        &self,
        request: &BatchRequest,
        key: &str,
    ) -> Result<BatchResponse, ClientError> {
        Ok(self
            .post_answer(&["v1", "referrals", "batch"], request, key)
            .await?
            .value)
    }

    /// `GET /healthz`: `Ok` when the server and its store answer.
    pub async fn healthz(&self) -> Result<(), ClientError> {
        let resp = self
            .inner
            .servers
            .send(self.url(&["healthz"]), |url| self.inner.http.get(url))
            .await?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = parse_retry_after(resp.headers());
        let body = read_body(resp).await?;
        Err(api_error(status, &body, retry_after))
    }
}

/// Refuses ids that would not stay one path segment (`..` is resolved
/// away by URL rules): no referral has such an id, so 404 without asking.
fn check_id(id: &str) -> Result<(), ClientError> {
    if matches!(id, "" | "." | "..") {
        return Err(ClientError::Api {
            status: 404,
            error: ApiError::new(
                ErrorCode::NotFound,
                format!("no referral has the id {:?}", id),
            ),
            retry_after: None,
        });
    }
    Ok(())
}

/// Reads a response: 2xx decoded as `T`, anything else as a [`ClientError::Api`].
pub(crate) async fn read_answer<T: DeserializeOwned>(
    resp: Response,
) -> Result<Answer<T>, ClientError> {
    Ok(read_answer_sized(resp).await?.0)
}

/// [`read_answer`] with the size of the body, in bytes.
async fn read_answer_sized<T: DeserializeOwned>(
    resp: Response,
) -> Result<(Answer<T>, usize), ClientError> {
    let status = resp.status();
    let retry_after = parse_retry_after(resp.headers());
    let replayed = resp
        .headers()
        .get(IDEMPOTENT_REPLAYED)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let body = read_body(resp).await?;
    if status.is_success() {
        let value = serde_json::from_slice(&body).map_err(|e| {
            ClientError::Decode(format!(
                "{} with a body that does not parse: {e}",
                status.as_u16()
            ))
        })?;
        let answer = Answer {
            value,
            status: status.as_u16(),
            replayed,
        };
        Ok((answer, body.len()))
    } else {
        Err(api_error(status, &body, retry_after))
    }
}

/// Reads a body up to [`MAX_RESPONSE_BYTES`].
async fn read_body(mut resp: Response) -> Result<Vec<u8>, ClientError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(network_error)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(ClientError::Decode(format!(
                "response body over {} MiB",
                MAX_RESPONSE_BYTES / (1024 * 1024)
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A non-2xx answer as a [`ClientError::Api`]: the protocol's error body,
/// or one made up from the status when the body is something else.
pub(crate) fn api_error(
    status: StatusCode,
    body: &[u8],
    retry_after: Option<Duration>,
) -> ClientError {
    let error = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) => b.error,
        Err(_) => {
            let code = match status.as_u16() {
                400 => ErrorCode::BadRequest,
                401 => ErrorCode::Unauthenticated,
                403 => ErrorCode::Forbidden,
                404 => ErrorCode::NotFound,
                409 => ErrorCode::Conflict,
                410 => ErrorCode::Gone,
                413 => ErrorCode::TooLarge,
                422 => ErrorCode::Invalid,
                429 => ErrorCode::RateLimited,
                503 => ErrorCode::Unavailable,
                500..=599 => ErrorCode::Internal,
                _ => ErrorCode::Unknown,
            };
            let text = String::from_utf8_lossy(body);
            let first = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("");
            let reason = status.canonical_reason().unwrap_or("");
            let message = if first.is_empty() || first.starts_with('<') {
                format!("HTTP {} {reason}", status.as_u16())
                    .trim_end()
                    .to_string()
            } else {
                one_line(first, 160)
            };
            ApiError::new(code, message)
        }
    };
    ClientError::Api {
        status: status.as_u16(),
        error,
        retry_after,
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub(crate) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_at(headers, chrono::Utc::now())
}

/// [`parse_retry_after`] with the current time given (a date is a wait
/// from `now`; one already past is no wait).
fn retry_after_at(headers: &HeaderMap, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - now;
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// Whether a response is `text/event-stream`.
pub(crate) fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/event-stream"))
        })
}

/// A reqwest failure as a [`ClientError::Network`] a person can read.
pub(crate) fn network_error(e: reqwest::Error) -> ClientError {
    if e.is_timeout() {
        return ClientError::Network("server did not answer in time".into());
    }
    let cause = root_cause(&e);
    if e.is_connect() {
        return ClientError::Network(format!("server unreachable: {cause}"));
    }
    if e.is_builder() {
        return ClientError::Network(format!("bad request: {cause}"));
    }
    ClientError::Network(format!("connection lost: {cause}"))
}

/// The innermost cause, phrased for a status bar.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    let mut io_kind = None;
    loop {
        if let Some(io) = cur.downcast_ref::<std::io::Error>() {
            io_kind = Some(io.kind());
        }
        match cur.source() {
            Some(next) => cur = next,
            None => break,
        }
    }
    use std::io::ErrorKind as K;
    match io_kind {
        Some(K::ConnectionRefused) => "connection refused".into(),
        Some(K::ConnectionReset) => "connection reset".into(),
        Some(K::ConnectionAborted) => "connection aborted".into(),
        Some(K::TimedOut) => "timed out".into(),
        Some(K::BrokenPipe | K::UnexpectedEof | K::NotConnected) => "connection closed".into(),
        Some(K::AddrNotAvailable) => "address not available".into(),
        _ => {
            let text = cur.to_string();
            if text.is_empty() {
                one_line(&e.to_string(), 160)
            } else {
                one_line(&text, 160)
            }
        }
    }
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
