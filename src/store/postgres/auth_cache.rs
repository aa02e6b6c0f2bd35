//! Token look-ups cached by one server, dropped when any server (or the
//! admin CLI) changes users or partners.
//!
//! Every request authenticates; on PostgreSQL that was a `SELECT` (a round
//! trip and a backend's work) per request. Here a server keeps what it
//! found, by token hash, while its `LISTEN` connection is up: a trigger on
//! `users` and `partners` (migration 4) notifies `leadx_auth` in the
//! transaction of every change, and the listener drops the whole cache
//! when that notification arrives, i.e. milliseconds after the change
//! commits. While the connection is down (or not yet up) nothing is
//! cached and every request asks the database, as before. A look-up that
//! was running when the cache was dropped does not put its (maybe stale)
//! answer in: each drop moves a generation on, and an answer is kept only
//! under the generation its look-up started in. Unknown tokens are never
//! cached, and no answer older than [`MAX_AGE`] (5 s) is given, so a
//! listener that died without a word, or notifications that never come,
//! cannot keep a revoked token working longer than that. This server's
//! own changes drop its cache at once, before they return (see
//! `PgStore::revoke_user` and the others).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{PgStore, read};
use crate::domain::Actor;
use crate::store::StoreResult;
use crate::store::common::{actor_if_hash_matches, token_hash};

/// Entries kept at most; past it the cache starts again empty.
const MAX_ENTRIES: usize = 100_000;
/// The oldest answer the cache gives, whatever it heard: a bound on a
/// stale answer should the `LISTEN` connection die without a word (until
/// the listener's probe finds it lost) or notifications never come (a
/// connection pooler in transaction mode).
pub const MAX_AGE: Duration = Duration::from_secs(5);

/// See the module's documentation.
#[derive(Debug, Default)]
pub struct AuthCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Whether changes are being heard (the `LISTEN` connection is up).
    live: bool,
    generation: u64,
    actors: HashMap<[u8; 32], (Actor, Instant)>,
}

impl AuthCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached actor for this token hash, or the generation a look-up
    /// starts in (to hand to [`AuthCache::keep`]).
    pub fn find(&self, hash: &[u8; 32]) -> Result<Actor, u64> {
        self.find_at(hash, Instant::now())
    }

    fn find_at(&self, hash: &[u8; 32], now: Instant) -> Result<Actor, u64> {
        let inner = self.lock();
        match inner.actors.get(hash) {
            Some((actor, at)) if inner.live && now.saturating_duration_since(*at) < MAX_AGE => {
                Ok(actor.clone())
            }
            _ => Err(inner.generation),
        }
    }

    /// Keeps what a look-up that started in `generation` found, unless
    /// the cache was dropped meanwhile or changes are not being heard.
    pub fn keep(&self, hash: [u8; 32], generation: u64, actor: &Actor) {
        let mut inner = self.lock();
        if !inner.live || inner.generation != generation {
            return;
        }
        if inner.actors.len() >= MAX_ENTRIES {
            inner.actors.clear();
        }
        inner.actors.insert(hash, (actor.clone(), Instant::now()));
    }

    /// Drops everything (a change was heard, or made here).
    pub fn drop_all(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.actors.clear();
    }

    /// Whether changes are heard from now on (`true` once `LISTEN` runs,
    /// `false` when its connection is lost); either way what was cached is
    /// dropped.
    pub fn set_live(&self, live: bool) {
        let mut inner = self.lock();
        inner.live = live;
        inner.generation += 1;
        inner.actors.clear();
    }
}

impl PgStore {
    /// [`crate::store::Store::authenticate`]: the cache, else the database
    /// (hash look-up, constant-time comparison), kept for next time.
    pub(super) async fn authenticate_impl(&self, token: &str) -> StoreResult<Option<Actor>> {
        let hash = token_hash(token);
        let generation = match self.auth.find(&hash) {
            Ok(actor) => return Ok(Some(actor)),
            Err(generation) => generation,
        };
        let found = read::user_by_token_hash(&self.conn().await?, &hash).await?;
        let actor = actor_if_hash_matches(found, &hash);
        if let Some(actor) = &actor {
            self.auth.keep(hash, generation, actor);
        }
        Ok(actor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Role;

    fn actor(name: &str) -> Actor {
        Actor {
            user_id: "u_1".into(),
            user_name: name.into(),
            partner_id: "p".into(),
            partner_name: "P".into(),
            role: Role::Agent,
        }
    }

    #[test]
    fn nothing_is_cached_until_changes_are_heard() {
        let cache = AuthCache::default();
        let generation = cache.find(&[1; 32]).unwrap_err();
        cache.keep([1; 32], generation, &actor("a"));
        assert!(cache.find(&[1; 32]).is_err());
        cache.set_live(true);
        let generation = cache.find(&[1; 32]).unwrap_err();
        cache.keep([1; 32], generation, &actor("a"));
        assert_eq!(cache.find(&[1; 32]).unwrap().user_name, "a");
        // The connection is lost: nothing is answered from the cache.
        cache.set_live(false);
        assert!(cache.find(&[1; 32]).is_err());
    }

    #[test]
    fn no_answer_is_older_than_max_age() {
        let cache = AuthCache::default();
        cache.set_live(true);
        let generation = cache.find(&[1; 32]).unwrap_err();
        cache.keep([1; 32], generation, &actor("a"));
        let now = Instant::now();
        assert!(cache.find_at(&[1; 32], now).is_ok());
        assert!(
            cache.find_at(&[1; 32], now + MAX_AGE).is_err(),
            "an answer older than MAX_AGE was given"
        );
    }

    #[test]
    fn a_change_drops_everything_and_a_look_up_running_across_it_keeps_nothing() {
        let cache = AuthCache::default();
        cache.set_live(true);
        let generation = cache.find(&[1; 32]).unwrap_err();
        cache.keep([1; 32], generation, &actor("a"));
        let running = cache.find(&[2; 32]).unwrap_err();
        cache.drop_all();
        assert!(cache.find(&[1; 32]).is_err(), "dropped");
        // The look-up that started before the change answers after it.
        cache.keep([2; 32], running, &actor("stale"));
        assert!(cache.find(&[2; 32]).is_err(), "a stale answer was kept");
    }
}
