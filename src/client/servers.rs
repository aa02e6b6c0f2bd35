//! The servers a [`Client`](super::Client) may use and which one is live.
//!
//! `server.url` may name several servers of one exchange (several `leadx
//! serve` on one database). Every request goes to the live one; when it
//! cannot be reached (the connection is refused, times out while
//! connecting, fails DNS or TLS, or is closed or reset before any answer),
//! the request moves to the next server and is sent again there, each
//! server at most once per request. An HTTP answer is never a reason to
//! move: a 4xx is the exchange's answer, and a 503 with `Retry-After` is
//! retried on the same server by [`retry`](super::retry).
//!
//! A write keeps its `Idempotency-Key` across the move: servers sharing a
//! database share idempotency claims, so a write that reached the first
//! server before its connection dropped is answered on the next from the
//! stored response, and applies once.
//!
//! `Servers::unreachable` is the one place that decides to move; the
//! inbox, the headless CLI and the live feed all go through it, and hear of
//! each move through [`Client::on_move`](super::Client::on_move).

use std::io::ErrorKind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use reqwest::{RequestBuilder, Response, Url};

use super::http::{ClientError, network_error};

/// What a client tells its owner when it moves to another server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerMove {
    /// The base URL that could not be reached.
    pub from: String,
    /// The base URL now live.
    pub to: String,
    /// Why the first could not be reached, for a person.
    pub reason: String,
    /// No server has answered since every one of them was found
    /// unreachable: this move only picks the next one to try. Someone
    /// who heard of the earlier moves need not hear of this one.
    pub all_down: bool,
}

impl ServerMove {
    /// `host:port` of the server left.
    pub fn from_label(&self) -> String {
        server_label(&self.from)
    }

    /// `host:port` of the server now live.
    pub fn to_label(&self) -> String {
        server_label(&self.to)
    }

    /// The reason without its "server unreachable: " (said already by a
    /// line about a move): `connection refused`, `timed out`.
    pub fn why(&self) -> &str {
        unreachable_why(&self.reason)
    }
}

/// A network error's text without its "server unreachable: ".
pub fn unreachable_why(reason: &str) -> &str {
    reason
        .strip_prefix("server unreachable: ")
        .unwrap_or(reason)
}

/// Called on every move, from the task whose request moved.
pub type MoveHook = Arc<dyn Fn(&ServerMove) + Send + Sync>;

/// A server's short name for a status line: `host:port` (the port only
/// when the URL gives one; a path prefix is left out).
pub fn server_label(url: &str) -> String {
    match Url::parse(url.trim()) {
        Ok(u) => {
            let host = u.host_str().unwrap_or_default();
            match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host.to_string(),
            }
        }
        Err(_) => url.split_once("://").map_or(url, |(_, r)| r).to_string(),
    }
}

/// The server list and the live one. Shared by every clone of a client.
pub(crate) struct Servers {
    urls: Vec<Url>,
    live: AtomicUsize,
    /// Moves since a server last answered (anything, even an error).
    moves_unanswered: AtomicUsize,
    hook: Mutex<Option<MoveHook>>,
}

impl Servers {
    /// At least one URL (the caller checked each).
    pub(crate) fn new(urls: Vec<Url>) -> Self {
        assert!(!urls.is_empty(), "a client needs a server");
        Self {
            urls,
            live: AtomicUsize::new(0),
            moves_unanswered: AtomicUsize::new(0),
            hook: Mutex::new(None),
        }
    }

    /// Every server, in order.
    pub(crate) fn urls(&self) -> &[Url] {
        &self.urls
    }

    /// The live server's base URL.
    pub(crate) fn live(&self) -> &Url {
        &self.urls[self.live.load(Ordering::SeqCst) % self.urls.len()]
    }

    /// Sets (or replaces) what hears of each move.
    pub(crate) fn set_hook(&self, hook: MoveHook) {
        *self.hook.lock().unwrap_or_else(|p| p.into_inner()) = Some(hook);
    }

    /// The server at `index` could not be reached. If it is still the live
    /// one, the next one in the list becomes live and the hook hears of it;
    /// if another request already moved on, nothing changes. Returns the
    /// index now live.
    pub(crate) fn unreachable(&self, index: usize, reason: &str) -> usize {
        let next = (index + 1) % self.urls.len();
        match self
            .live
            .compare_exchange(index, next, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) if next != index => {
                let unanswered = self.moves_unanswered.fetch_add(1, Ordering::SeqCst) + 1;
                let moved = ServerMove {
                    from: self.urls[index].to_string(),
                    to: self.urls[next].to_string(),
                    reason: reason.to_string(),
                    all_down: unanswered >= self.urls.len(),
                };
                tracing::warn!(from = %moved.from, to = %moved.to, %reason, "server unreachable; moving to the next");
                let hook = self.hook.lock().unwrap_or_else(|p| p.into_inner()).clone();
                if let Some(hook) = hook {
                    hook(&moved);
                }
                next
            }
            Ok(_) => next,
            Err(now) => now,
        }
    }

    /// Which server `url` was built on: same origin, and the longest base
    /// path that is a whole-segment prefix of its path.
    fn index_of(&self, url: &Url) -> Option<usize> {
        self.urls
            .iter()
            .enumerate()
            .filter(|(_, base)| base.origin() == url.origin())
            .filter_map(|(i, base)| {
                let prefix = base.path().trim_end_matches('/');
                let rest = url.path().strip_prefix(prefix)?;
                (rest.is_empty() || rest.starts_with('/')).then_some((i, prefix.len()))
            })
            .max_by_key(|&(_, len)| len)
            .map(|(i, _)| i)
    }

    /// Sends the request `build` makes for `url` (built on one of the
    /// servers, usually the live one); when that server cannot be reached,
    /// moves on and sends it again to the next, each server at most once.
    /// The answer, whatever its status, is returned as it came.
    pub(crate) async fn send(
        &self,
        url: Url,
        build: impl Fn(Url) -> RequestBuilder,
    ) -> Result<Response, ClientError> {
        let mut index = self.index_of(&url);
        let mut url = url;
        let mut tried = 1;
        loop {
            let error = match build(url.clone()).send().await {
                Ok(resp) => {
                    self.moves_unanswered.store(0, Ordering::SeqCst);
                    return Ok(resp);
                }
                Err(e) => e,
            };
            // Another server is worth a try only when this one was not
            // reached, and each is tried once per request.
            let i = match index {
                Some(i) if is_unreachable(&error) && tried < self.urls.len() => i,
                _ => return Err(network_error(error)),
            };
            let next = self.unreachable(i, &network_error(error).to_string());
            url = rebase(&url, &self.urls[i], &self.urls[next]);
            index = Some(next);
            tried += 1;
        }
    }
}

/// `url` (built on `from`) built on `to` instead: the same path below the
/// base, and the same query.
fn rebase(url: &Url, from: &Url, to: &Url) -> Url {
    let prefix = from.path().trim_end_matches('/');
    let rest = url.path().strip_prefix(prefix).unwrap_or(url.path());
    let mut out = to.clone();
    out.set_path(&format!("{}{rest}", to.path().trim_end_matches('/')));
    out.set_query(url.query());
    out
}

/// Whether a failed request never got an answer because the server could
/// not be reached: a connect error (refused, DNS, TLS, a connect timeout),
/// or the connection closed or reset before any response. A timeout while
/// waiting for the answer of a server that accepted the connection is not:
/// that server is there, only slow.
pub(crate) fn is_unreachable(e: &reqwest::Error) -> bool {
    if e.is_connect() {
        return true;
    }
    if e.is_timeout() || e.is_builder() || e.is_redirect() || e.is_status() || e.is_decode() {
        return false;
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(h) = err.downcast_ref::<hyper::Error>()
            && (h.is_incomplete_message() || h.is_canceled())
        {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
                    | ErrorKind::UnexpectedEof
                    | ErrorKind::NotConnected
            )
        {
            return true;
        }
        cur = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    fn servers(urls: &[&str]) -> Servers {
        Servers::new(urls.iter().map(|u| Url::parse(u).unwrap()).collect())
    }

    #[test]
    fn labels_are_host_and_port() {
        assert_eq!(server_label("http://127.0.0.1:7878/"), "127.0.0.1:7878");
        assert_eq!(
            server_label("https://leads.example.com/leadx"),
            "leads.example.com"
        );
        assert_eq!(server_label("http://[::1]:7878"), "[::1]:7878");
        let m = ServerMove {
            from: "http://a:1/".into(),
            to: "http://b:2/".into(),
            reason: "server unreachable: connection refused".into(),
            all_down: false,
        };
        assert_eq!(m.why(), "connection refused");
        assert_eq!((m.from_label(), m.to_label()), ("a:1".into(), "b:2".into()));
    }

    #[test]
    fn one_move_per_outage_however_many_requests_saw_it() {
        let s = servers(&["http://a:1", "http://b:2", "http://c:3"]);
        let heard = Arc::new(AtomicU32::new(0));
        let h = Arc::clone(&heard);
        s.set_hook(Arc::new(move |m: &ServerMove| {
            assert_eq!(
                (m.from.as_str(), m.to.as_str()),
                ("http://a:1/", "http://b:2/")
            );
            h.fetch_add(1, Ordering::SeqCst);
        }));
        assert_eq!(s.live().as_str(), "http://a:1/");
        // Two requests failed on a at once: the first moves, the second
        // finds b already live.
        assert_eq!(s.unreachable(0, "refused"), 1);
        assert_eq!(s.unreachable(0, "refused"), 1);
        assert_eq!(s.live().as_str(), "http://b:2/");
        assert_eq!(heard.load(Ordering::SeqCst), 1);
        // The last wraps around to the first; once every server failed
        // with none answering, a move says the whole list is down.
        let s = servers(&["http://a:1", "http://b:2"]);
        let all_down = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&all_down);
        s.set_hook(Arc::new(move |m: &ServerMove| {
            seen.lock().unwrap().push(m.all_down)
        }));
        s.unreachable(0, "x");
        assert_eq!(s.unreachable(1, "x"), 0);
        s.unreachable(0, "x");
        assert_eq!(*all_down.lock().unwrap(), [false, true, true]);
        // One server: nowhere to go.
        let one = servers(&["http://a:1"]);
        assert_eq!(one.unreachable(0, "x"), 0);
    }

    #[test]
    fn a_url_moves_to_another_base_keeping_path_and_query() {
        let a = Url::parse("http://a:1/prefix/").unwrap();
        let b = Url::parse("https://b:2").unwrap();
        let u =
            Url::parse("http://a:1/prefix/v1/referrals/r%2F..%2Fx?box=all&cursor=a%2Bb").unwrap();
        assert_eq!(
            rebase(&u, &a, &b).as_str(),
            "https://b:2/v1/referrals/r%2F..%2Fx?box=all&cursor=a%2Bb"
        );
        assert_eq!(
            rebase(&Url::parse("https://b:2/v1/me").unwrap(), &b, &a).as_str(),
            "http://a:1/prefix/v1/me"
        );
        let s = servers(&["http://a:1/prefix/", "https://b:2", "http://a:1/"]);
        assert_eq!(s.index_of(&u), Some(0));
        let other = Url::parse("http://a:1/prefixed/v1/me").unwrap();
        assert_eq!(s.index_of(&other), Some(2), "whole segments only");
        assert_eq!(
            s.index_of(&Url::parse("https://b:2/v1/me").unwrap()),
            Some(1)
        );
        assert_eq!(s.index_of(&Url::parse("http://c:3/v1/me").unwrap()), None);
    }
}
