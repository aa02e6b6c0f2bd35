//! Connections: how many are held, how long a silent one may sit, and the
//! open-files limit they draw on.
//!
//! - Header read: hyper's `header_read_timeout` closes a connection that
//!   has not sent a whole request head in time. hyper starts that timer
//!   whenever it waits for a request head, so it also ends a kept-alive
//!   connection idle between requests.
//! - Body read: tower-http's `RequestBodyTimeoutLayer` fails a body that
//!   stops arriving (400 `bad_request`, JSON). The live feed has no request
//!   body, so its stream is never cut by it (it has its own pings).
//! - Cap: each accepted connection takes a permit of one semaphore. When
//!   none is left the connection is closed at once; the last `reserve`
//!   permits serve `/healthz` only (anything else there is 503 with
//!   `Connection: close`), so a flood of idle connections cannot make the
//!   health check time out.

use std::future::{Ready, ready};
use std::io;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_server::accept::Accept;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_http::add_extension::AddExtension;

use super::error::HttpError;
use crate::wire::ErrorCode;

/// Open files kept for the database, logs and the process itself when the
/// connection cap is derived from the open-files limit.
const FILES_KEPT: u64 = 64;

/// Raises the open-files soft limit to the hard limit (said at debug
/// level) and returns the soft limit now in force, if it can be read.
pub fn raise_open_files_limit() -> Option<u64> {
    let (soft, hard) = rlimit::Resource::NOFILE.get().ok()?;
    match rlimit::increase_nofile_limit(hard) {
        Ok(now) => {
            tracing::debug!(before = soft, now, hard, "raised the open-files soft limit");
            Some(now)
        }
        Err(e) => {
            tracing::debug!(soft, hard, error = %e, "could not raise the open-files soft limit");
            Some(soft)
        }
    }
}

/// The connection cap when none is given: the open-files limit less what
/// the process keeps for itself, at least 32.
pub fn default_max_connections(open_files: Option<u64>) -> usize {
    let files = open_files.unwrap_or(1024);
    usize::try_from(files.saturating_sub(FILES_KEPT).clamp(32, 1 << 20)).unwrap_or(1 << 20)
}

/// The permits kept for `/healthz`: a sixteenth of the cap, 2 to 64.
pub fn reserve_for(max: usize) -> usize {
    (max / 16).clamp(2, 64).min(max.saturating_sub(1))
}

/// A connection's place under the cap, added to each of its requests.
#[derive(Debug, Clone)]
pub struct Slot {
    /// Held for the connection's life (dropped with its last request).
    _permit: Arc<OwnedSemaphorePermit>,
    /// Taken from the reserve: serves `/healthz` only.
    reserved: bool,
}

/// The acceptor that enforces the cap (wraps the TLS one's inner side).
#[derive(Debug, Clone)]
pub struct CapAcceptor {
    permits: Arc<Semaphore>,
    reserve: usize,
}

impl CapAcceptor {
    pub fn new(max: usize, reserve: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max)),
            reserve,
        }
    }
}

impl<I, S> Accept<I, S> for CapAcceptor {
    type Stream = I;
    type Service = AddExtension<S, Slot>;
    type Future = Ready<io::Result<(I, Self::Service)>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            // Dropping the stream closes it: nothing is read or held.
            tracing::debug!("connection cap reached; closing a new connection");
            return ready(Err(io::Error::other("connection cap reached")));
        };
        let reserved = self.permits.available_permits() < self.reserve;
        let slot = Slot {
            _permit: Arc::new(permit),
            reserved,
        };
        ready(Ok((stream, AddExtension::new(service, slot))))
    }
}

/// On a connection from the reserve, answers anything but `/healthz` with
/// 503 `unavailable` and closes the connection.
pub async fn reserve_gate(request: Request, next: Next) -> Response {
    let reserved = request
        .extensions()
        .get::<Slot>()
        .is_some_and(|slot| slot.reserved);
    if reserved && request.uri().path() != "/healthz" {
        let mut err = HttpError::new(
            ErrorCode::Unavailable,
            "the server is at its connection limit; try again",
        );
        err.retry_after = Some(1);
        let mut response = err.into_response();
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_and_reserve_follow_the_open_files_limit() {
        assert_eq!(default_max_connections(Some(1024)), 960);
        assert_eq!(default_max_connections(Some(10)), 32);
        assert_eq!(default_max_connections(None), 960);
        assert_eq!(reserve_for(960), 60);
        assert_eq!(reserve_for(4), 2);
        assert_eq!(reserve_for(1), 0);
    }

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let now = raise_open_files_limit().expect("readable limit");
        let (soft, hard) = rlimit::Resource::NOFILE.get().expect("limit");
        assert_eq!(now, soft);
        assert!(soft == hard || soft >= 1024, "soft {soft}, hard {hard}");
    }
}
