//! SSH keys in the PostgreSQL store (`leadx admin user add-key|keys|
//! remove-key` and the SSH front end's log-in).

use tokio_postgres::Row;

use super::PgStore;
use super::read::{exec, row, rows};
use crate::domain::Actor;
use crate::store::common::{from_secs, secs};
use crate::store::keys::{key_taken, no_active_user};
use crate::store::{KeyRecord, NewKey, StoreError, StoreResult};
use crate::wire::Role;

fn key_row(r: &Row) -> KeyRecord {
    KeyRecord {
        user_id: r.get(0),
        fingerprint: r.get(1),
        public_key: r.get(2),
        comment: r.get(3),
        added_at: from_secs(r.get(4)),
        last_used: r.get::<_, Option<i64>>(5).map(from_secs),
    }
}

impl PgStore {
    /// [`crate::store::Store::add_key`]: one statement, so that two admins
    /// adding one key to two users at once leave it with one of them.
    pub(super) async fn add_key_impl(&self, user_id: &str, key: &NewKey) -> StoreResult<KeyRecord> {
        let conn = self.conn().await?;
        let added_at = chrono::SubsecRound::trunc_subsecs(self.now(), 0);
        let n = exec(
            &conn,
            "INSERT INTO ssh_keys (fingerprint, user_id, public_key, comment, added_at) \
             SELECT $1, $2, $3, $4, $5 \
             WHERE EXISTS (SELECT 1 FROM users WHERE id = $2 AND revoked_at IS NULL) \
             ON CONFLICT (fingerprint) DO NOTHING",
            &[
                &key.fingerprint,
                &user_id,
                &key.public_key,
                &key.comment,
                &secs(added_at),
            ],
        )
        .await?;
        if n == 1 {
            return Ok(KeyRecord {
                user_id: user_id.to_owned(),
                fingerprint: key.fingerprint.clone(),
                public_key: key.public_key.clone(),
                comment: key.comment.clone(),
                added_at,
                last_used: None,
            });
        }
        let holder = row(
            &conn,
            "SELECT user_id FROM ssh_keys WHERE fingerprint = $1",
            &[&key.fingerprint],
        )
        .await?;
        Err(StoreError::Rejected(match holder {
            Some(r) => key_taken(&key.fingerprint, &r.get::<_, String>(0)),
            None => no_active_user(user_id),
        }))
    }

    /// [`crate::store::Store::list_keys`].
    pub(super) async fn list_keys_impl(&self, user_id: &str) -> StoreResult<Vec<KeyRecord>> {
        let found = rows(
            &self.conn().await?,
            "SELECT user_id, fingerprint, public_key, comment, added_at, last_used \
             FROM ssh_keys WHERE user_id = $1 ORDER BY added_at, fingerprint",
            &[&user_id],
        )
        .await?;
        Ok(found.iter().map(key_row).collect())
    }

    /// [`crate::store::Store::remove_key`].
    pub(super) async fn remove_key_impl(
        &self,
        user_id: &str,
        fingerprint: &str,
    ) -> StoreResult<bool> {
        let n = exec(
            &self.conn().await?,
            "DELETE FROM ssh_keys WHERE user_id = $1 AND fingerprint = $2",
            &[&user_id, &fingerprint],
        )
        .await?;
        Ok(n == 1)
    }

    /// [`crate::store::Store::authenticate_key`]: finds the active user and
    /// marks the key used, in one statement.
    pub(super) async fn authenticate_key_impl(
        &self,
        fingerprint: &str,
    ) -> StoreResult<Option<Actor>> {
        let found = row(
            &self.conn().await?,
            "UPDATE ssh_keys k SET last_used = $2 \
             FROM users u JOIN partners p ON p.id = u.partner_id \
             WHERE k.fingerprint = $1 AND u.id = k.user_id AND u.revoked_at IS NULL \
             RETURNING u.id, u.name, u.partner_id, p.name, u.role",
            &[&fingerprint, &secs(self.now())],
        )
        .await?;
        let Some(r) = found else {
            return Ok(None);
        };
        let role: String = r.get(4);
        let role = Role::parse(&role)
            .ok_or_else(|| StoreError::Backend(format!("PostgreSQL: bad role {role:?}")))?;
        Ok(Some(Actor {
            user_id: r.get(0),
            user_name: r.get(1),
            partner_id: r.get(2),
            partner_name: r.get(3),
            role,
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::store::keys::contract;
    use crate::store::postgres::PgStore;
    use crate::store::postgres::test_db::TestDb;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ssh_keys() {
        let Some(db) = TestDb::create().await else {
            return;
        };
        let store = PgStore::connect(&db.url, crate::clock::system())
            .await
            .unwrap();
        contract::ssh_keys(&store).await;
    }
}
