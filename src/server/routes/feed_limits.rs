//! What one live-feed subscriber may hold, and how many there may be: a
//! token that leaked, or a client that stops reading, must not be able to
//! take the server's memory.
//!
//! - **A byte budget per subscriber.** Rendered events wait for the
//!   connection in a queue of at most [`STREAM_BUDGET_BYTES`]; a subscriber
//!   whose connection takes nothing for [`WRITE_TIMEOUT`] (by default) is
//!   dropped. Its
//!   position is kept where it belongs, with the client: it resumes with
//!   `Last-Event-ID` and misses nothing.
//! - **Streams per user and per partner** (by default
//!   [`MAX_STREAMS_PER_USER`] and [`MAX_STREAMS_PER_PARTNER`]; `leadx serve
//!   --max-streams-per-user/--max-streams-per-partner`, 0 lifts a cap): one
//!   more is 429 with a clear message.
//! - **Replays cost**: a replay of the log is charged to the caller's rate
//!   limit, one request for every [`EVENTS_PER_CHARGE`] events sent (a
//!   caller past its limit is slowed, not cut off), and at most
//!   [`MAX_REPLAYS`] replays read the log at once on a server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::domain::Actor;
use crate::server::error::HttpError;
use crate::wire::ErrorCode;

/// Rendered bytes a subscriber may have waiting for its connection.
pub const STREAM_BUDGET_BYTES: usize = 256 * 1024;
/// A subscriber whose connection takes nothing for this long is dropped,
/// by default (`ServerConfig::feed_write_timeout`, `--feed-write-timeout`).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Open streams one user may hold, by default (`--max-streams-per-user`).
pub const MAX_STREAMS_PER_USER: usize = 8;
/// Open streams the users of one partner may hold together, by default
/// (`--max-streams-per-partner`).
pub const MAX_STREAMS_PER_PARTNER: usize = 500;
/// Events replayed for one rate-limit charge.
pub const EVENTS_PER_CHARGE: usize = 100;
/// Replays reading the log at once, per server.
pub const MAX_REPLAYS: usize = 16;

/// The server's count of open streams and its replay permits.
#[derive(Debug)]
pub struct FeedLimits {
    per_user: usize,
    per_partner: usize,
    open: Mutex<HashMap<String, usize>>,
    /// Taken by a subscriber while it replays from the log.
    pub replays: Arc<Semaphore>,
}

impl Default for FeedLimits {
    fn default() -> Self {
        Self::new(MAX_STREAMS_PER_USER, MAX_STREAMS_PER_PARTNER)
    }
}

/// One open stream, counted until dropped.
#[derive(Debug)]
pub struct StreamSlot {
    limits: Arc<FeedLimits>,
    keys: [String; 2],
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock().unwrap_or_else(|e| e.into_inner());
        for key in &self.keys {
            if let Some(n) = open.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    open.remove(key);
                }
            }
        }
    }
}

impl FeedLimits {
    /// Caps of `per_user` and `per_partner` open streams (0: no cap).
    pub fn new(per_user: usize, per_partner: usize) -> Self {
        Self {
            per_user,
            per_partner,
            open: Mutex::default(),
            replays: Arc::new(Semaphore::new(MAX_REPLAYS)),
        }
    }

    /// Counts a new stream of `actor`, or refuses it (429) when the user
    /// or its partner already holds as many as allowed.
    pub fn open(self: &Arc<Self>, actor: &Actor) -> Result<StreamSlot, HttpError> {
        let user = format!("u:{}", actor.user_id);
        let partner = format!("p:{}", actor.partner_id);
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let refuse = |what: String| {
            let mut e = HttpError::new(ErrorCode::RateLimited, what);
            e.retry_after = Some(5);
            e
        };
        let (per_user, per_partner) = (self.per_user, self.per_partner);
        if per_user > 0 && open.get(&user).copied().unwrap_or(0) >= per_user {
            return Err(refuse(format!(
                "this user already has {per_user} live feeds open; close one first"
            )));
        }
        if per_partner > 0 && open.get(&partner).copied().unwrap_or(0) >= per_partner {
            return Err(refuse(format!(
                "partner {} already has {per_partner} live feeds open",
                actor.partner_id
            )));
        }
        *open.entry(user.clone()).or_default() += 1;
        *open.entry(partner.clone()).or_default() += 1;
        Ok(StreamSlot {
            limits: self.clone(),
            keys: [user, partner],
        })
    }
}
