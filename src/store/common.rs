//! What every store shares that is not the write orchestration
//! ([`super::write`]): bearer tokens, retention, the live channel's size,
//! and how times and statuses are kept in columns.

use std::collections::HashSet;
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::UserRecord;
use crate::domain::Actor;

use crate::wire::{Status, Timestamp};

/// Capacity of the live event channel.
pub const EVENT_CHANNEL: usize = 16 * 1024;
/// Events kept at least, whatever their age.
pub const KEEP_EVENTS: u64 = 100_000;
/// Seconds events are kept at least, however many.
pub const KEEP_EVENTS_SECS: i64 = 24 * 3600;

/// A new bearer token: `lx_` + 32 random bytes in hex.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("lx_{}", hex::encode(bytes))
}

/// SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The actor a token look-up found, if the stored hash equals `hash`
/// (compared in constant time): `found` is the user, its partner's name and
/// the stored hash, as both stores read them.
pub fn actor_if_hash_matches(
    found: Option<(UserRecord, String, Vec<u8>)>,
    hash: &[u8; 32],
) -> Option<Actor> {
    let (user, partner_name, stored) = found?;
    let same: bool = stored.as_slice().ct_eq(&hash[..]).into();
    same.then_some(Actor {
        user_id: user.id,
        user_name: user.name,
        partner_id: user.partner_id,
        partner_name,
        role: user.role,
    })
}

/// Column value of a status: its index in [`Status::ALL`].
pub fn status_code(s: Status) -> i64 {
    Status::ALL.iter().position(|x| *x == s).unwrap_or(0) as i64
}

/// The status with this column value.
pub fn status_from_code(c: i64) -> Option<Status> {
    usize::try_from(c)
        .ok()
        .and_then(|i| Status::ALL.get(i).copied())
}

/// Seconds since the epoch, as stored.
pub fn secs(t: Timestamp) -> i64 {
    t.timestamp()
}

/// A stored second back to a timestamp.
pub fn from_secs(s: i64) -> Timestamp {
    chrono::DateTime::from_timestamp(s, 0).unwrap_or_default()
}

/// The idempotency keys this server's requests are working on now (see
/// [`super::Store::idem_claim`]): a second request with one of them, on
/// this server, is in flight from its start. SQLite's whole claim (one
/// process owns the file); on PostgreSQL the write's transaction holds the
/// key against other servers.
#[derive(Debug, Default)]
pub struct LocalClaims(Mutex<HashSet<(String, String)>>);

impl LocalClaims {
    /// Takes the key; false when it is already taken.
    pub fn claim(&self, user_id: &str, key: &str) -> bool {
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        set.insert((user_id.to_owned(), key.to_owned()))
    }

    /// Gives the key back.
    pub fn release(&self, user_id: &str, key: &str) {
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        set.remove(&(user_id.to_owned(), key.to_owned()));
    }
}
