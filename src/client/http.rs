//! [`Client`]: one async method per endpoint of PROTOCOL.md v1. Its
//! errors are [`ClientError`] (`error.rs`), its answers read by
//! `answer.rs`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rand::RngCore;
use reqwest::header::{ACCEPT, AUTHORIZATION, CACHE_CONTROL, HeaderValue};
use reqwest::{Method, RequestBuilder, Response, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use super::answer::Answer;
pub(crate) use super::answer::{is_event_stream, parse_retry_after, read_answer};
use super::answer::{read_answer_sized, read_body};
pub use super::error::ClientError;
pub(crate) use super::error::{api_error, human_duration, network_error};
use super::paging::ListLimits;
use super::servers::{MoveHook, ServerMove, Servers};
use crate::wire::{
    AcceptRequest, ApiError, BatchRequest, BatchResponse, CloseRequest, CreateReferral, ErrorCode,
    ForwardRequest, ForwardResponse, IDEMPOTENCY_KEY, Me, Partner, PartnerList, Referral,
    ReferralBox, ReferralPage, RejectRequest, Status, WithdrawRequest,
};

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

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
