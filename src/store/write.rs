//! How a write runs, written once for every store.
//!
//! A store gives a transaction with a few small primitives ([`WriteTx`]:
//! read a referral for update, insert or update a hop and append its
//! event, keep an idempotent response); the orchestration here judges each
//! request with [`crate::domain::rules`], writes what the rules decided,
//! and keeps the idempotent response in the same transaction. Committing,
//! and publishing the events only after the commit, is the store's (the
//! SQLite writer thread, the PostgreSQL group writer), because that is
//! where the stores differ.
//!
//! The primitives are `async` so that a networked store does not block a
//! thread on a round trip; SQLite's are plain calls inside an `async fn`
//! and its writer thread drives them with `futures::executor::block_on`
//! (every future is ready at once).

use super::{IdemSave, IdemTaken, StoreError, StoreResult, StoredResponse};
use crate::domain::{
    Action, ActionItem, Actor, Applied, DomainError, ItemResult, OpenHop, StoredReferral, rules,
    validate::normalize_domain, visibility::can_see,
};
use crate::wire::{CreateReferral, Timestamp};

/// How long idempotency records are kept, in seconds.
pub const IDEM_RETENTION_SECS: i64 = 24 * 3600;

/// What a job of a group transaction answers its caller once the group's
/// commit is known (`commit_error`: why it failed). A job that succeeded
/// answers with the commit's failure; so does one that found its key
/// taken, since an earlier job of the same group may be what took it (that
/// answer stands only if the group commits). A job that failed otherwise
/// keeps its own error. Both stores' group writers answer through this.
pub fn answer_after_commit<T>(
    result: StoreResult<T>,
    commit_error: Option<&str>,
) -> StoreResult<T> {
    let rides_on_commit = result.is_ok() || matches!(result, Err(StoreError::Taken(_)));
    match commit_error {
        Some(e) if rides_on_commit => Err(StoreError::Backend(format!("commit failed: {e}"))),
        _ => result,
    }
}

/// The primitives one write transaction offers the orchestration.
#[allow(async_fn_in_trait)]
pub trait WriteTx {
    /// The transaction's time (whole seconds).
    fn now(&self) -> Timestamp;
    /// A fresh, increasing id with this prefix (`r_`).
    fn new_id(&mut self, prefix: &str) -> String;
    /// Whether a partner with this id exists.
    async fn partner_exists(&mut self, id: &str) -> StoreResult<bool>;
    /// The open (`pending` or `accepted`) hops whose lead has this
    /// normalised domain.
    async fn open_hops(&mut self, domain_norm: &str) -> StoreResult<Vec<OpenHop>>;
    /// The referral and its lead's id, locked for the rest of the
    /// transaction where the store has row locks.
    async fn referral_for_update(
        &mut self,
        id: &str,
    ) -> StoreResult<Option<(StoredReferral, String)>>;
    /// Inserts a new hop (and its lead when it is the first hop) and
    /// appends its event.
    async fn insert(&mut self, stored: &StoredReferral, lead_id: &str) -> StoreResult<()>;
    /// Writes a changed hop, guarded by the version `before` has (an error
    /// when it changed meanwhile), records the lead's accepted partner when
    /// it changed, and appends the event.
    async fn update(
        &mut self,
        before: &StoredReferral,
        after: &StoredReferral,
        lead_id: &str,
    ) -> StoreResult<()>;
    /// Whether this user's key, for a request with this hash, answers
    /// instead of letting the request run: a fresh response kept under it
    /// ([`judge_kept`]), or (on a store shared by several servers) another
    /// transaction holding it. Where the store has locks, the key is held
    /// by this transaction from here on.
    async fn idem_taken(
        &mut self,
        user_id: &str,
        key: &str,
        request_hash: &str,
    ) -> StoreResult<Option<IdemTaken>>;
    /// Keeps a response under a key, replacing a claim or an expired
    /// response; an error when a fresh response is already there.
    async fn save_response(
        &mut self,
        user_id: &str,
        key: &str,
        request_hash: &str,
        response: &StoredResponse,
    ) -> StoreResult<()>;
    /// Ids of pending referrals due at `now()`, oldest deadline first.
    async fn due_ids(&mut self, limit: usize) -> StoreResult<Vec<String>>;
}

/// The row kept under a user's idempotency key.
#[derive(Debug, Clone)]
pub struct Kept {
    pub request_hash: String,
    /// The response's status; 0 for an in-flight claim row (written only
    /// by servers before claims moved into the write's transaction).
    pub status: i64,
    pub body: Vec<u8>,
    /// Unix seconds.
    pub at: i64,
}

/// What a kept row under a key means for a request with `request_hash` at
/// `now` (Unix seconds): a finished response within retention answers it
/// (replay or mismatch); a claim row (status 0) or an expired response
/// does not. The one reading of a kept row, for every store.
pub fn judge_kept(
    kept: Option<Kept>,
    request_hash: &str,
    now: i64,
) -> StoreResult<Option<IdemTaken>> {
    Ok(match kept {
        Some(k) if k.status != 0 && k.at > now - IDEM_RETENTION_SECS => {
            Some(if k.request_hash == request_hash {
                let status = u16::try_from(k.status)
                    .map_err(|e| StoreError::Backend(format!("kept status {}: {e}", k.status)))?;
                IdemTaken::Replay(StoredResponse {
                    status,
                    body: k.body,
                })
            } else {
                IdemTaken::Mismatch
            })
        }
        _ => None,
    })
}

/// Refuses to run a request whose key is taken (see
/// [`WriteTx::idem_taken`]): nothing is written and the caller answers
/// with what it found. Takes the user, key and hash, not `&IdemSave`: a
/// reference to it (its render is not `Sync`) would make the write's
/// future not `Send`, and PostgreSQL's writers run it on tasks.
async fn idem_guard<T: WriteTx>(
    tx: &mut T,
    idem: Option<(String, String, String)>,
) -> StoreResult<()> {
    let Some((user_id, key, hash)) = idem else {
        return Ok(());
    };
    match tx.idem_taken(&user_id, &key, &hash).await? {
        Some(taken) => Err(StoreError::Taken(taken)),
        None => Ok(()),
    }
}

/// The user, key and request hash an idempotent write keeps its answer
/// under.
fn idem_key(idem: &Option<IdemSave>) -> Option<(String, String, String)> {
    idem.as_ref()
        .map(|i| (i.user_id.clone(), i.key.clone(), i.request_hash.clone()))
}

/// Keeps the answer of a request that reached no write (a 400 decided
/// before the store), unless its key is taken ([`StoreError::Taken`]).
pub async fn keep_response<T: WriteTx>(
    tx: &mut T,
    user_id: &str,
    key: &str,
    request_hash: &str,
    response: &StoredResponse,
) -> StoreResult<()> {
    let idem = Some((user_id.to_owned(), key.to_owned(), request_hash.to_owned()));
    idem_guard(tx, idem).await?;
    tx.save_response(user_id, key, request_hash, response).await
}

async fn finish_idem<T: WriteTx>(
    tx: &mut T,
    idem: Option<IdemSave>,
    results: &[ItemResult],
) -> StoreResult<()> {
    if let Some(idem) = idem {
        let response = (idem.render)(results);
        tx.save_response(&idem.user_id, &idem.key, &idem.request_hash, &response)
            .await?;
    }
    Ok(())
}

/// Sends a lead: judged by [`rules::decide_create`], inserted, its answer
/// kept under the key.
pub async fn create<T: WriteTx>(
    tx: &mut T,
    actor: &Actor,
    request: &CreateReferral,
    idem: Option<IdemSave>,
) -> StoreResult<ItemResult> {
    idem_guard(tx, idem_key(&idem)).await?;
    // What the rules may ask, read first: the recipient, and the open hops
    // of the lead's domain.
    let to_known = tx.partner_exists(&request.to_partner).await?;
    let domain = request.lead.domain.as_deref().and_then(normalize_domain);
    let open = match &domain {
        Some(d) => tx.open_hops(d).await?,
        None => Vec::new(),
    };
    let known = |p: &str| to_known && p == request.to_partner;
    let open_hops = |d: &str| {
        if domain.as_deref() == Some(d) {
            open.clone()
        } else {
            Vec::new()
        }
    };
    let id = tx.new_id("r_");
    let result = match rules::decide_create(actor, request, tx.now(), &known, &open_hops, id) {
        Ok(stored) => {
            let lead_id = stored.referral.id.clone();
            tx.insert(&stored, &lead_id).await?;
            Ok(Applied {
                referral: stored,
                forwarded: None,
            })
        }
        Err(e) => Err(e),
    };
    let results = [result];
    finish_idem(tx, idem, &results).await?;
    let [result] = results;
    Ok(result)
}

/// Expires a due pending referral in place; returns it as it is now.
async fn expire_if_due<T: WriteTx>(
    tx: &mut T,
    current: StoredReferral,
    lead_id: &str,
) -> StoreResult<StoredReferral> {
    match rules::expire(&current, tx.now()) {
        Some(expired) => {
            tx.update(&current, &expired, lead_id).await?;
            Ok(expired)
        }
        None => Ok(current),
    }
}

async fn apply_one<T: WriteTx>(
    tx: &mut T,
    actor: &Actor,
    item: &ActionItem,
) -> StoreResult<ItemResult> {
    let Some((current, lead_id)) = tx.referral_for_update(&item.id).await? else {
        return Ok(Err(DomainError::NotFound));
    };
    // A referral past its expiry is expired first (the sweeper may lag), so
    // that the action meets it as it really is.
    let current = if can_see(&current, actor) {
        expire_if_due(tx, current, &lead_id).await?
    } else {
        current
    };
    // The one lookup the rules may ask for: whether a forward's target exists.
    let target = match &item.action {
        Action::Forward { to_partner, .. } => Some(to_partner.as_str()),
        _ => None,
    };
    let target_known = match target {
        Some(p) => tx.partner_exists(p).await?,
        None => false,
    };
    let known = |p: &str| target_known && target == Some(p);
    let now = tx.now();
    let mut fresh = || tx.new_id("r_");
    let decided = rules::decide(&current, actor, item, now, &known, &mut fresh);
    match decided {
        Ok(applied) => {
            tx.update(&current, &applied.referral, &lead_id).await?;
            if let Some(child) = &applied.forwarded {
                tx.insert(child, &lead_id).await?;
            }
            Ok(Ok(applied))
        }
        Err(e) => Ok(Err(e)),
    }
}

/// Applies actions in order, each independent; the answer is kept under
/// the key with them.
pub async fn apply<T: WriteTx>(
    tx: &mut T,
    actor: &Actor,
    items: &[ActionItem],
    idem: Option<IdemSave>,
) -> StoreResult<Vec<ItemResult>> {
    idem_guard(tx, idem_key(&idem)).await?;
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        results.push(apply_one(tx, actor, item).await?);
    }
    finish_idem(tx, idem, &results).await?;
    Ok(results)
}

/// Expires up to `limit` due referrals; returns how many.
pub async fn expire_due<T: WriteTx>(tx: &mut T, limit: usize) -> StoreResult<usize> {
    let mut n = 0;
    for id in tx.due_ids(limit).await? {
        if let Some((current, lead_id)) = tx.referral_for_update(&id).await? {
            let version = current.referral.version;
            if expire_if_due(tx, current, &lead_id).await?.referral.version != version {
                n += 1;
            }
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_answers_with_the_commit_unless_it_failed_on_its_own() {
        let failed = Some("disk full");
        let commit_failed = |r: StoreResult<u8>| matches!(r, Err(StoreError::Backend(e)) if e == "commit failed: disk full");
        assert!(commit_failed(answer_after_commit(Ok(1), failed)));
        // Its key may have been taken by an earlier job of the same group.
        let taken: StoreResult<u8> = Err(StoreError::Taken(IdemTaken::InFlight));
        assert!(commit_failed(answer_after_commit(taken, failed)));
        let own: StoreResult<u8> = Err(StoreError::Backend("its own".into()));
        assert!(matches!(
            answer_after_commit(own, failed),
            Err(StoreError::Backend(e)) if e == "its own"
        ));
        assert_eq!(answer_after_commit(Ok(1), None).unwrap(), 1);
        assert!(matches!(
            answer_after_commit::<u8>(Err(StoreError::Taken(IdemTaken::InFlight)), None),
            Err(StoreError::Taken(IdemTaken::InFlight))
        ));
    }
}
