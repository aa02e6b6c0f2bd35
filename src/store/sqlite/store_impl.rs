//! [`Store`] for [`SqliteStore`]: the async face of the blocking API in
//! `mod.rs`. Writes (create, apply) are queued for the writer thread and
//! awaited without holding a thread; reads run on a pooled WAL reader,
//! inline for one-row look-ups and under `block_in_place` for page reads,
//! so a runtime worker hands its other tasks on while SQLite works.

use std::sync::Arc;

use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::broadcast;

use super::{SqliteStore, writer};
use crate::domain::{ActionItem, Actor, ItemResult, StoredReferral};
use crate::store::{
    IdemClaim, IdemSave, IdemTaken, KeyRecord, ListPage, ListQuery, NewKey, Store, StoreResult,
    StoredEvent, StoredResponse, UserRecord, write,
};
use crate::wire::{CreateReferral, Partner, Role, Status, Timestamp};

/// Runs blocking SQLite work: under `block_in_place` on a multi-threaded
/// runtime, inline elsewhere (a current-thread runtime has no other worker
/// to hand tasks to, and the work never waits on the runtime itself).
fn off_runtime<T>(f: impl FnOnce() -> T) -> T {
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn add_partner(&self, partner: &Partner) -> StoreResult<()> {
        off_runtime(|| SqliteStore::add_partner(self, partner))
    }

    async fn list_partners(&self, q: Option<&str>) -> StoreResult<Vec<Partner>> {
        SqliteStore::list_partners(self, q)
    }

    async fn get_partner(&self, id: &str) -> StoreResult<Option<Partner>> {
        SqliteStore::get_partner(self, id)
    }

    async fn add_user(
        &self,
        partner_id: &str,
        name: &str,
        role: Role,
    ) -> StoreResult<(UserRecord, String)> {
        off_runtime(|| SqliteStore::add_user(self, partner_id, name, role))
    }

    async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
        SqliteStore::list_users(self)
    }

    async fn revoke_user(&self, user_id: &str) -> StoreResult<bool> {
        off_runtime(|| SqliteStore::revoke_user(self, user_id))
    }

    async fn update_partner(&self, partner: &Partner) -> StoreResult<bool> {
        off_runtime(|| SqliteStore::update_partner(self, partner))
    }

    async fn remove_partner(&self, id: &str) -> StoreResult<bool> {
        off_runtime(|| SqliteStore::remove_partner(self, id))
    }

    async fn rotate_user(&self, user_id: &str) -> StoreResult<Option<(UserRecord, String)>> {
        off_runtime(|| SqliteStore::rotate_user(self, user_id))
    }

    async fn revoked_since(&self, since: Timestamp) -> StoreResult<Vec<String>> {
        SqliteStore::revoked_since(self, since)
    }

    async fn add_key(&self, user_id: &str, key: &NewKey) -> StoreResult<KeyRecord> {
        off_runtime(|| SqliteStore::add_key(self, user_id, key))
    }

    async fn list_keys(&self, user_id: &str) -> StoreResult<Vec<KeyRecord>> {
        SqliteStore::list_keys(self, user_id)
    }

    async fn remove_key(&self, user_id: &str, fingerprint: &str) -> StoreResult<bool> {
        off_runtime(|| SqliteStore::remove_key(self, user_id, fingerprint))
    }

    async fn authenticate_key(&self, fingerprint: &str) -> StoreResult<Option<Actor>> {
        off_runtime(|| SqliteStore::authenticate_key(self, fingerprint))
    }

    async fn authenticate(&self, token: &str) -> StoreResult<Option<Actor>> {
        SqliteStore::authenticate(self, token)
    }

    async fn create(
        &self,
        actor: &Actor,
        request: CreateReferral,
        idem: Option<IdemSave>,
    ) -> StoreResult<ItemResult> {
        let actor = actor.clone();
        self.submit_async(1, move |ctx| {
            writer::drive(write::create(ctx, &actor, &request, idem))
        })
        .await
    }

    async fn apply(
        &self,
        actor: &Actor,
        items: Vec<ActionItem>,
        idem: Option<IdemSave>,
    ) -> StoreResult<Vec<ItemResult>> {
        let actor = actor.clone();
        self.submit_async(items.len(), move |ctx| {
            writer::drive(write::apply(ctx, &actor, &items, idem))
        })
        .await
    }

    async fn save_response(
        &self,
        user_id: &str,
        key: &str,
        request_hash: &str,
        response: StoredResponse,
    ) -> StoreResult<()> {
        off_runtime(|| SqliteStore::save_response(self, user_id, key, request_hash, response))
    }

    async fn idem_claim(
        &self,
        user_id: &str,
        key: &str,
        request_hash: &str,
    ) -> StoreResult<IdemClaim> {
        // One process holds the file, so its claims live in its memory: the
        // set is taken first, then the kept answers are read (a claim that
        // finds an answer is given back at once).
        if !self.claims.claim(user_id, key) {
            return Ok(IdemClaim::Taken(IdemTaken::InFlight));
        }
        let claim = match SqliteStore::idem_lookup(self, user_id, key, request_hash) {
            Ok(None) => return Ok(IdemClaim::Claimed),
            Ok(Some(taken)) => Ok(IdemClaim::Taken(taken)),
            Err(e) => Err(e),
        };
        self.claims.release(user_id, key);
        claim
    }

    async fn idem_release(&self, user_id: &str, key: &str) -> StoreResult<()> {
        self.claims.release(user_id, key);
        Ok(())
    }

    async fn get(&self, id: &str) -> StoreResult<Option<StoredReferral>> {
        SqliteStore::get(self, id)
    }

    async fn list(&self, query: &ListQuery) -> StoreResult<ListPage> {
        off_runtime(|| SqliteStore::list(self, query))
    }

    async fn expire_due(&self) -> StoreResult<usize> {
        off_runtime(|| SqliteStore::expire_due(self))
    }

    async fn next_expiry(&self) -> StoreResult<Option<Timestamp>> {
        SqliteStore::next_expiry(self)
    }

    async fn events_after(&self, seq: u64, limit: usize) -> StoreResult<Vec<Arc<StoredEvent>>> {
        off_runtime(|| SqliteStore::events_after(self, seq, limit))
    }

    async fn resume_floor(&self) -> StoreResult<u64> {
        SqliteStore::resume_floor(self)
    }

    async fn last_seq(&self) -> StoreResult<u64> {
        SqliteStore::last_seq(self)
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<StoredEvent>> {
        SqliteStore::subscribe(self)
    }

    async fn prune(&self) -> StoreResult<()> {
        off_runtime(|| SqliteStore::prune(self))
    }

    async fn count_by_status(&self) -> StoreResult<Vec<(Status, u64)>> {
        off_runtime(|| SqliteStore::count_by_status(self))
    }

    async fn health(&self) -> StoreResult<()> {
        SqliteStore::health(self)
    }

    async fn writable(&self) -> StoreResult<()> {
        let path = &self.readers.path;
        off_runtime(|| super::schema::probe_write(path))
            .map_err(crate::store::StoreError::Backend)?;
        self.submit_async(1, |_| Ok(())).await
    }

    fn describe(&self) -> String {
        format!("sqlite {}", self.readers.path.display())
    }
}
