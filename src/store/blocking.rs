//! The store from plain threads: [`BlockingStore`] runs each call of the
//! async [`Store`](super::Store) to completion on a runtime handle. For code that is
//! sequential by nature and runs on blocking threads (the demo's seeding
//! and simulator steps, benchmarks' set-up); never call it from inside an
//! async task (tokio refuses to block a runtime thread).

use std::sync::Arc;

use tokio::runtime::Handle;

use super::{
    IdemClaim, IdemSave, ListPage, ListQuery, SharedStore, StoreResult, StoredEvent,
    StoredResponse, UserRecord,
};
use crate::domain::{ActionItem, Actor, ItemResult, StoredReferral};
use crate::wire::{CreateReferral, Partner, Role, Status, Timestamp};

/// A store with blocking methods of the same names as [`Store`](super::Store)'s.
#[derive(Clone)]
pub struct BlockingStore {
    store: SharedStore,
    runtime: Handle,
    /// The runtime made for this store when there was none to use.
    _owned: Option<Arc<tokio::runtime::Runtime>>,
}

impl std::fmt::Debug for BlockingStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingStore").finish_non_exhaustive()
    }
}

macro_rules! blocking {
    ($($name:ident($($arg:ident : $ty:ty),*) -> $ret:ty;)*) => {
        $(
            #[doc = concat!("[`Store::", stringify!($name), "`](super::Store::", stringify!($name), "), blocking.")]
            pub fn $name(&self $(, $arg: $ty)*) -> $ret {
                self.runtime.block_on(self.store.$name($($arg),*))
            }
        )*
    };
}

impl BlockingStore {
    /// Wraps a store; its calls run on `runtime`.
    pub fn new(store: SharedStore, runtime: Handle) -> Self {
        Self {
            store,
            runtime,
            _owned: None,
        }
    }

    /// Wraps a store, running its calls on the current runtime (call this
    /// from async code, then move the result to a blocking thread).
    pub fn on_current(store: SharedStore) -> Self {
        Self::new(store, Handle::current())
    }

    /// Wraps a store opened on `runtime`, which it keeps (and drops last).
    pub fn owning(store: SharedStore, runtime: tokio::runtime::Runtime) -> Self {
        Self {
            store,
            runtime: runtime.handle().clone(),
            _owned: Some(Arc::new(runtime)),
        }
    }

    /// Wraps a store, running its calls on the current runtime (from a
    /// blocking thread of it, or from async code before moving the result
    /// to one), or on a small runtime of its own when there is none.
    pub fn anywhere(store: SharedStore) -> std::io::Result<Self> {
        if let Ok(handle) = Handle::try_current() {
            return Ok(Self::new(store, handle));
        }
        let owned = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        Ok(Self {
            store,
            runtime: owned.handle().clone(),
            _owned: Some(Arc::new(owned)),
        })
    }

    /// [`Store::describe`](super::Store::describe).
    pub fn describe(&self) -> String {
        self.store.describe()
    }

    /// The async store inside.
    pub fn inner(&self) -> &SharedStore {
        &self.store
    }

    /// [`Store::subscribe`](super::Store::subscribe).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Arc<StoredEvent>> {
        self.store.subscribe()
    }

    blocking! {
        add_partner(partner: &Partner) -> StoreResult<()>;
        list_partners(q: Option<&str>) -> StoreResult<Vec<Partner>>;
        get_partner(id: &str) -> StoreResult<Option<Partner>>;
        add_user(partner_id: &str, name: &str, role: Role) -> StoreResult<(UserRecord, String)>;
        list_users() -> StoreResult<Vec<UserRecord>>;
        revoke_user(user_id: &str) -> StoreResult<bool>;
        update_partner(partner: &Partner) -> StoreResult<bool>;
        remove_partner(id: &str) -> StoreResult<bool>;
        rotate_user(user_id: &str) -> StoreResult<Option<(UserRecord, String)>>;
        revoked_since(since: Timestamp) -> StoreResult<Vec<String>>;
        authenticate(token: &str) -> StoreResult<Option<Actor>>;
        add_key(user_id: &str, key: &super::NewKey) -> StoreResult<super::KeyRecord>;
        list_keys(user_id: &str) -> StoreResult<Vec<super::KeyRecord>>;
        remove_key(user_id: &str, fingerprint: &str) -> StoreResult<bool>;
        create(actor: &Actor, request: CreateReferral, idem: Option<IdemSave>) -> StoreResult<ItemResult>;
        apply(actor: &Actor, items: Vec<ActionItem>, idem: Option<IdemSave>) -> StoreResult<Vec<ItemResult>>;
        save_response(user_id: &str, key: &str, request_hash: &str, response: StoredResponse) -> StoreResult<()>;
        idem_claim(user_id: &str, key: &str, request_hash: &str) -> StoreResult<IdemClaim>;
        idem_release(user_id: &str, key: &str) -> StoreResult<()>;
        get(id: &str) -> StoreResult<Option<StoredReferral>>;
        list(query: &ListQuery) -> StoreResult<ListPage>;
        expire_due() -> StoreResult<usize>;
        next_expiry() -> StoreResult<Option<Timestamp>>;
        events_after(seq: u64, limit: usize) -> StoreResult<Vec<Arc<StoredEvent>>>;
        resume_floor() -> StoreResult<u64>;
        last_seq() -> StoreResult<u64>;
        prune() -> StoreResult<()>;
        count_by_status() -> StoreResult<Vec<(Status, u64)>>;
        health() -> StoreResult<()>;
        writable() -> StoreResult<()>;
    }
}
