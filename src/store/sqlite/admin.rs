//! The partner and user lifecycle of the SQLite store (`leadx admin
//! partner edit|remove`, `user rotate`): each one write on the writer
//! thread, judged and done in the same transaction.

use rusqlite::params;

use super::writer::backend;
use super::{SqliteStore, new_token, read, token_hash};
use crate::domain::validate::validate_partner;
use crate::store::lifecycle::{has_active_users, named_in_referrals};
use crate::store::{StoreError, StoreResult, UserRecord};
use crate::wire::Partner;

impl SqliteStore {
    /// [`crate::store::Store::update_partner`].
    pub fn update_partner(&self, partner: &Partner) -> StoreResult<bool> {
        validate_partner(partner).map_err(StoreError::Rejected)?;
        let p = partner.clone();
        self.submit(1, move |ctx| {
            let categories = serde_json::to_string(&p.categories).map_err(backend)?;
            let regions = serde_json::to_string(&p.regions).map_err(backend)?;
            let n = ctx
                .conn
                .execute(
                    "UPDATE partners SET name = ?2, kind = ?3, categories = ?4, regions = ?5 \
                     WHERE id = ?1",
                    params![p.id, p.name, p.kind.as_str(), categories, regions],
                )
                .map_err(backend)?;
            Ok(n == 1)
        })
    }

    /// [`crate::store::Store::remove_partner`].
    pub fn remove_partner(&self, id: &str) -> StoreResult<bool> {
        let id = id.to_owned();
        self.submit(1, move |ctx| {
            if !read::partner_exists(ctx.conn, &id).map_err(backend)? {
                return Ok(false);
            }
            let count = |sql: &str| -> StoreResult<i64> {
                ctx.conn
                    .query_row(sql, [&id], |r| r.get(0))
                    .map_err(backend)
            };
            let referrals =
                count("SELECT COUNT(*) FROM referrals WHERE from_partner = ?1 OR to_partner = ?1")?;
            if referrals > 0 {
                return Err(StoreError::Rejected(named_in_referrals(&id, referrals)));
            }
            let active =
                count("SELECT COUNT(*) FROM users WHERE partner_id = ?1 AND revoked_at IS NULL")?;
            if active > 0 {
                return Err(StoreError::Rejected(has_active_users(&id, active)));
            }
            ctx.conn
                .execute("DELETE FROM users WHERE partner_id = ?1", [&id])
                .map_err(backend)?;
            ctx.conn
                .execute("DELETE FROM partners WHERE id = ?1", [&id])
                .map_err(backend)?;
            Ok(true)
        })
    }

    /// [`crate::store::Store::rotate_user`].
    pub fn rotate_user(&self, user_id: &str) -> StoreResult<Option<(UserRecord, String)>> {
        let user_id = user_id.to_owned();
        self.submit(1, move |ctx| {
            let token = new_token();
            let n = ctx
                .conn
                .execute(
                    "UPDATE users SET token_hash = ?1 WHERE id = ?2 AND revoked_at IS NULL",
                    params![&token_hash(&token)[..], user_id],
                )
                .map_err(backend)?;
            if n == 0 {
                return Ok(None);
            }
            let user = read::users(ctx.conn)
                .map_err(backend)?
                .into_iter()
                .find(|u| u.id == user_id);
            Ok(user.map(|u| (u, token)))
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::store::lifecycle::contract;
    use crate::store::sqlite::SqliteStore;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn partner_and_user_lifecycle() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("x.db"), crate::clock::system()).unwrap();
        contract::partner_and_user_lifecycle(&store).await;
    }
}
