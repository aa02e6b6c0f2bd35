//! Durable state of the exchange, behind one narrow trait.
//!
//! The store knows no HTTP. It holds partners, users (token hashes only),
//! referrals, the event log and idempotency records, applies the exchange's
//! rules (see [`crate::domain`]) inside its transactions, and publishes
//! committed events in sequence order. [`Store`] is object safe and
//! async, so that a networked database blocks no runtime thread; the
//! write orchestration every store shares is [`mod@write`]; code that runs on
//! plain threads (the demo's seeding) uses [`blocking::BlockingStore`].

pub mod blocking;
pub mod common;
pub mod keys;
pub(crate) mod lifecycle;
pub mod open;
pub mod postgres;
pub mod sqlite;
pub mod write;

use std::sync::Arc;

use tokio::sync::broadcast;

pub use sqlite::SqliteStore;

use crate::domain::{ActionItem, Actor, ItemResult, StoredReferral};
use crate::wire::{CreateReferral, Partner, ReferralBox, Role, Status, Timestamp};

/// A user as the admin CLI lists it (never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: String,
    pub partner_id: String,
    pub name: String,
    pub role: Role,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// An SSH public key registered for a user (`leadx admin user add-key`):
/// the key itself never leaves the store but as its OpenSSH text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub user_id: String,
    /// `SHA256:...`, as `ssh-keygen -l` prints it; unique on the exchange.
    pub fingerprint: String,
    /// `ssh-ed25519 AAAA...` (no comment).
    pub public_key: String,
    /// The comment the key was added with (cleaned), may be empty.
    pub comment: String,
    pub added_at: Timestamp,
    /// When it last opened an SSH session.
    pub last_used: Option<Timestamp>,
}

/// A key to register, parsed and fingerprinted by the caller
/// (`crate::ssh::keys::parse_public_key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    pub fingerprint: String,
    pub public_key: String,
    pub comment: String,
}

/// One committed change, as the event log holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Server-wide, strictly increasing.
    pub seq: u64,
    pub referral: StoredReferral,
}

/// A response kept for an idempotency key: opaque to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why a request with an idempotency key does not run: what answers it
/// instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdemTaken {
    /// Another request with this key is still running (on any server).
    InFlight,
    /// Finished with the same request: answer this again.
    Replay(StoredResponse),
    /// Finished with a different request.
    Mismatch,
}

/// Renders the response for an idempotent write, inside the write's
/// transaction, so that the action and its stored answer commit together.
pub type RenderResponse = Box<dyn FnOnce(&[ItemResult]) -> StoredResponse + Send>;

/// Ask a write to keep its response under an idempotency key.
pub struct IdemSave {
    pub user_id: String,
    pub key: String,
    /// Hex SHA-256 of method, path and parsed body.
    pub request_hash: String,
    pub render: RenderResponse,
}

impl std::fmt::Debug for IdemSave {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdemSave")
            .field("user_id", &self.user_id)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// Whose referrals a read covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One partner's (its incoming, outgoing or both).
    Partner(String),
    /// Every partner's (operators).
    Everything,
}

/// `GET /v1/referrals`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub scope: Scope,
    pub box_: ReferralBox,
    /// Empty: every status.
    pub statuses: Vec<Status>,
    /// Only ids strictly greater than this (the cursor).
    pub after_id: Option<String>,
    pub limit: usize,
}

/// One page: items ordered by id, whether more follow, and the event
/// sequence number the page was read at (same snapshot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    pub items: Vec<StoredReferral>,
    pub has_more: bool,
    pub as_of: u64,
}

/// A failure of the store itself (disk, corruption): a 5xx, never a rule.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store: {0}")]
    Backend(String),
    /// Admin-level problems: unknown partner, duplicate id, bad slug.
    #[error("{0}")]
    Rejected(String),
    /// A keyed write, or a kept answer, found its key taken inside its
    /// transaction (by another server's request, or answered already):
    /// nothing was written; the request is answered with this.
    #[error("the idempotency key is taken: {0:?}")]
    Taken(IdemTaken),
}

/// What every store call returns.
pub type StoreResult<T> = Result<T, StoreError>;

/// What [`Store::idem_claim`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdemClaim {
    /// The key is now this caller's, on this server, until the write that
    /// uses it finishes (or [`Store::idem_release`]). A store shared by
    /// several servers checks the key again inside that write's
    /// transaction, where another server's request may have taken it: the
    /// write then fails with [`StoreError::Taken`].
    Claimed,
    /// Answer the request with this instead of running it.
    Taken(IdemTaken),
}

/// The exchange's durable state.
///
/// Contracts every implementation keeps (one conformance suite,
/// `tests/store_contract.rs`, holds both stores to them):
/// - **Event order is commit order.** A reader that has seen event `N`
///   never later finds a new event below `N`, however writes interleave.
/// - **A page's `as_of`** is read in the same snapshot as its items.
/// - **Events are published after their transaction commits** (through
///   [`Store::subscribe`]), in sequence order, once.
/// - **Idempotency keys are the store's**: the same key sent to two
///   servers at once runs once. A server claims a key for the whole
///   request ([`Store::idem_claim`]); a write (or [`Store::save_response`])
///   checks the key again in its own transaction, holding it there so that
///   no other server's transaction can run it meanwhile, and keeps its
///   response in that same transaction as the action. A key found taken
///   there fails the write with [`StoreError::Taken`] (in flight on
///   another server, or answered: replay or mismatch).
/// - **Writes are judged by [`crate::domain::rules`]** through the one
///   orchestration in [`mod@write`]; a store adds only its primitives.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    // -- directory and users --------------------------------------------
    /// Adds a partner; `Rejected` on a duplicate id or bad slug.
    async fn add_partner(&self, partner: &Partner) -> StoreResult<()>;
    /// The directory; `q` filters by id, name or category (case-insensitive substring).
    async fn list_partners(&self, q: Option<&str>) -> StoreResult<Vec<Partner>>;
    /// One partner by id.
    async fn get_partner(&self, id: &str) -> StoreResult<Option<Partner>>;
    /// Adds a user and returns it with its new bearer token (shown once).
    async fn add_user(
        &self,
        partner_id: &str,
        name: &str,
        role: Role,
    ) -> StoreResult<(UserRecord, String)>;
    /// Every user (revoked ones too), never a token.
    async fn list_users(&self) -> StoreResult<Vec<UserRecord>>;
    /// Revokes a user's token; false when there is no such active user.
    async fn revoke_user(&self, user_id: &str) -> StoreResult<bool>;
    /// Replaces a partner's name, kind, categories and regions (the id
    /// stays); false when there is no such partner; `Rejected` when the
    /// new values are not valid.
    async fn update_partner(&self, partner: &Partner) -> StoreResult<bool>;
    /// Removes a partner that no referral names and no active user belongs
    /// to (its revoked users go with it, in one transaction); false when
    /// there is no such partner; `Rejected`, saying why and what to do,
    /// while referrals name it or users are active.
    async fn remove_partner(&self, id: &str) -> StoreResult<bool>;
    /// Gives an active user a new bearer token (returned, shown once); the
    /// old one stops working in the same write. `None` when there is no
    /// such active user.
    async fn rotate_user(&self, user_id: &str) -> StoreResult<Option<(UserRecord, String)>>;
    /// Ids of the users revoked at or after `since` (by any server or the
    /// admin CLI): what the server watches to end their open feeds.
    async fn revoked_since(&self, since: Timestamp) -> StoreResult<Vec<String>>;
    /// The user holding this token, if it is known and not revoked
    /// (hash lookup, constant-time comparison).
    async fn authenticate(&self, token: &str) -> StoreResult<Option<Actor>>;

    // -- SSH keys (`leadx admin user add-key|keys|remove-key`) ------------
    /// Registers a key for an active user; `Rejected` when there is no
    /// such active user or the key is registered already (to anyone: one
    /// key maps to one user).
    async fn add_key(&self, user_id: &str, key: &NewKey) -> StoreResult<KeyRecord>;
    /// A user's keys, oldest first.
    async fn list_keys(&self, user_id: &str) -> StoreResult<Vec<KeyRecord>>;
    /// Removes one key of a user; false when that user has no such key.
    async fn remove_key(&self, user_id: &str, fingerprint: &str) -> StoreResult<bool>;
    /// The active user holding the key with this fingerprint, if any; the
    /// key's `last_used` becomes now. A revoked user's keys find nobody.
    async fn authenticate_key(&self, fingerprint: &str) -> StoreResult<Option<Actor>>;

    // -- referrals --------------------------------------------------------
    /// Sends a lead. One `ItemResult` (the new hop in `Applied::referral`).
    async fn create(
        &self,
        actor: &Actor,
        request: CreateReferral,
        idem: Option<IdemSave>,
    ) -> StoreResult<ItemResult>;
    /// Applies actions, each all-or-nothing and independent, in one durable
    /// commit; results in request order. Used for single actions too.
    async fn apply(
        &self,
        actor: &Actor,
        items: Vec<ActionItem>,
        idem: Option<IdemSave>,
    ) -> StoreResult<Vec<ItemResult>>;
    /// Keeps a response for a request that never reached a write (a 400,
    /// 404 or 422 decided before the store); [`StoreError::Taken`] when the
    /// key already answers (or runs) elsewhere: nothing is kept then.
    async fn save_response(
        &self,
        user_id: &str,
        key: &str,
        request_hash: &str,
        response: StoredResponse,
    ) -> StoreResult<()>;
    /// Claims this user's key for a request with this hash, or says why
    /// not (in flight, replay, mismatch). A store may answer `Claimed`
    /// without reading what is kept (PostgreSQL does: no round trip), and
    /// leave the replay and mismatch to the write's own check.
    async fn idem_claim(
        &self,
        user_id: &str,
        key: &str,
        request_hash: &str,
    ) -> StoreResult<IdemClaim>;
    /// Gives this server's claim back once its request has ended, whatever
    /// it kept (a kept response is never dropped by this: it answers the
    /// key from then on).
    async fn idem_release(&self, user_id: &str, key: &str) -> StoreResult<()>;
    /// One referral as stored (unmasked), if it exists.
    async fn get(&self, id: &str) -> StoreResult<Option<StoredReferral>>;
    /// One page of referrals ordered by id, with `as_of` read in the same
    /// snapshot. `Scope::Everything` ignores `box_`.
    async fn list(&self, query: &ListQuery) -> StoreResult<ListPage>;
    /// Expires every referral still pending at or after its `expires_at`;
    /// returns how many. Stores shared by several servers let one sweep
    /// at a time.
    async fn expire_due(&self) -> StoreResult<usize>;
    /// The earliest `expires_at` among pending referrals.
    async fn next_expiry(&self) -> StoreResult<Option<Timestamp>>;

    // -- events -----------------------------------------------------------
    /// Committed events after `seq`, in order, at most `limit`.
    async fn events_after(&self, seq: u64, limit: usize) -> StoreResult<Vec<Arc<StoredEvent>>>;
    /// The lowest `after` a subscriber may resume from: resuming from an
    /// older point is 410.
    async fn resume_floor(&self) -> StoreResult<u64>;
    /// The newest committed event's seq (0 when none).
    async fn last_seq(&self) -> StoreResult<u64>;
    /// Live committed events, in order. A lagging receiver falls back to
    /// [`Store::events_after`].
    fn subscribe(&self) -> broadcast::Receiver<Arc<StoredEvent>>;

    // -- housekeeping -----------------------------------------------------
    /// Drops idempotency records older than 24 h and events beyond retention.
    async fn prune(&self) -> StoreResult<()>;
    /// Referral counts by status, for `/metrics`.
    async fn count_by_status(&self) -> StoreResult<Vec<(Status, u64)>>;
    /// Cheap check that the store answers and can write (`/healthz`).
    async fn health(&self) -> StoreResult<()>;
    /// Whether the store can write now (`/readyz`): a read-only file or a
    /// database in recovery is not ready.
    async fn writable(&self) -> StoreResult<()>;
    /// Which store this is, for `/healthz` and logs: its kind and where
    /// it is (a path, or `host:port`; never a password).
    fn describe(&self) -> String;
}

/// The handle the server and demo hold.
pub type SharedStore = Arc<dyn Store>;
