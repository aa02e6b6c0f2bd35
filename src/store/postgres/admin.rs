//! The partner and user lifecycle of the PostgreSQL store (`leadx admin
//! partner edit|remove`, `user rotate`). A removal runs in one
//! transaction that locks the partner's row first, so two removals (or a
//! removal and an edit) do not interleave.

use super::PgStore;
use super::read::{exec, pg, row, users};
use crate::domain::validate::validate_partner;
use crate::store::common::secs;
use crate::store::lifecycle::{has_active_users, named_in_referrals};
use crate::store::sqlite::{new_token, token_hash};
use crate::store::{StoreError, StoreResult, UserRecord};
use crate::wire::Partner;

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl PgStore {
    /// [`crate::store::Store::update_partner`].
    pub(super) async fn update_partner_impl(&self, partner: &Partner) -> StoreResult<bool> {
        validate_partner(partner).map_err(StoreError::Rejected)?;
        let categories = serde_json::to_string(&partner.categories).map_err(backend)?;
        let regions = serde_json::to_string(&partner.regions).map_err(backend)?;
        let n = exec(
            &self.conn().await?,
            "UPDATE partners SET name = $2, kind = $3, categories = $4, regions = $5 \
             WHERE id = $1",
            &[
                &partner.id,
                &partner.name,
                &partner.kind.as_str(),
                &categories,
                &regions,
            ],
        )
        .await?;
        Ok(n == 1)
    }

    /// [`crate::store::Store::remove_partner`].
    pub(super) async fn remove_partner_impl(&self, id: &str) -> StoreResult<bool> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await.map_err(pg)?;
        let id = id.to_owned();
        if row(
            &tx,
            "SELECT 1 FROM partners WHERE id = $1 FOR UPDATE",
            &[&id],
        )
        .await?
        .is_none()
        {
            return Ok(false);
        }
        let count = async |sql: &str| -> StoreResult<i64> {
            Ok(row(&tx, sql, &[&id])
                .await?
                .map(|r| r.get::<_, i64>(0))
                .unwrap_or(0))
        };
        let referrals =
            count("SELECT COUNT(*) FROM referrals WHERE from_partner = $1 OR to_partner = $1")
                .await?;
        if referrals > 0 {
            return Err(StoreError::Rejected(named_in_referrals(&id, referrals)));
        }
        let active =
            count("SELECT COUNT(*) FROM users WHERE partner_id = $1 AND revoked_at IS NULL")
                .await?;
        if active > 0 {
            return Err(StoreError::Rejected(has_active_users(&id, active)));
        }
        exec(&tx, "DELETE FROM users WHERE partner_id = $1", &[&id]).await?;
        exec(&tx, "DELETE FROM partners WHERE id = $1", &[&id]).await?;
        tx.commit().await.map_err(pg)?;
        Ok(true)
    }

    /// [`crate::store::Store::revoke_user`] (the caller drops this
    /// server's cached token look-ups; other servers hear `leadx_auth`).
    pub(super) async fn revoke_user_impl(&self, user_id: &str) -> StoreResult<bool> {
        let n = exec(
            &self.conn().await?,
            "UPDATE users SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            &[&secs(self.now()), &user_id],
        )
        .await?;
        Ok(n == 1)
    }

    /// [`crate::store::Store::rotate_user`].
    pub(super) async fn rotate_user_impl(
        &self,
        user_id: &str,
    ) -> StoreResult<Option<(UserRecord, String)>> {
        let token = new_token();
        let conn = self.conn().await?;
        let n = exec(
            &conn,
            "UPDATE users SET token_hash = $1 WHERE id = $2 AND revoked_at IS NULL",
            &[&&token_hash(&token)[..], &user_id],
        )
        .await?;
        if n == 0 {
            return Ok(None);
        }
        let user = users(&conn).await?.into_iter().find(|u| u.id == user_id);
        Ok(user.map(|u| (u, token)))
    }
}

#[cfg(test)]
mod tests {
    use crate::store::lifecycle::contract;
    use crate::store::postgres::PgStore;
    use crate::store::postgres::test_db::TestDb;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn partner_and_user_lifecycle() {
        let Some(db) = TestDb::create().await else {
            return;
        };
        let store = PgStore::connect(&db.url, crate::clock::system())
            .await
            .unwrap();
        contract::partner_and_user_lifecycle(&store).await;
    }
}
