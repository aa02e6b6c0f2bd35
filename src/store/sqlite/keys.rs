//! SSH keys in the SQLite store (`leadx admin user add-key|keys|remove-key`
//! and the SSH front end's log-in): each change one write on the writer
//! thread, judged and done in the same transaction.

use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::writer::backend;
use crate::domain::Actor;
use crate::store::common::{from_secs, secs};
use crate::store::keys::{key_taken, no_active_user};
use crate::store::{KeyRecord, NewKey, StoreError, StoreResult};
use crate::wire::Role;

fn key_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<KeyRecord> {
    Ok(KeyRecord {
        user_id: row.get(0)?,
        fingerprint: row.get(1)?,
        public_key: row.get(2)?,
        comment: row.get(3)?,
        added_at: from_secs(row.get(4)?),
        last_used: row.get::<_, Option<i64>>(5)?.map(from_secs),
    })
}

const KEY_COLUMNS: &str = "user_id, fingerprint, public_key, comment, added_at, last_used";

fn keys_of(conn: &Connection, user_id: &str) -> rusqlite::Result<Vec<KeyRecord>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {KEY_COLUMNS} FROM ssh_keys WHERE user_id = ?1 ORDER BY added_at, fingerprint"
    ))?;
    st.query_map([user_id], key_row)?.collect()
}

impl SqliteStore {
    /// [`crate::store::Store::add_key`].
    pub fn add_key(&self, user_id: &str, key: &NewKey) -> StoreResult<KeyRecord> {
        let (user_id, key) = (user_id.to_owned(), key.clone());
        self.submit(1, move |ctx| {
            let active: Option<i64> = ctx
                .conn
                .query_row(
                    "SELECT 1 FROM users WHERE id = ?1 AND revoked_at IS NULL",
                    [&user_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            if active.is_none() {
                return Err(StoreError::Rejected(no_active_user(&user_id)));
            }
            let holder: Option<String> = ctx
                .conn
                .query_row(
                    "SELECT user_id FROM ssh_keys WHERE fingerprint = ?1",
                    [&key.fingerprint],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            if let Some(holder) = holder {
                return Err(StoreError::Rejected(key_taken(&key.fingerprint, &holder)));
            }
            let record = KeyRecord {
                user_id,
                fingerprint: key.fingerprint,
                public_key: key.public_key,
                comment: key.comment,
                added_at: ctx.now,
                last_used: None,
            };
            ctx.conn
                .execute(
                    "INSERT INTO ssh_keys (fingerprint, user_id, public_key, comment, added_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        record.fingerprint,
                        record.user_id,
                        record.public_key,
                        record.comment,
                        secs(record.added_at)
                    ],
                )
                .map_err(backend)?;
            Ok(record)
        })
    }

    /// [`crate::store::Store::list_keys`].
    pub fn list_keys(&self, user_id: &str) -> StoreResult<Vec<KeyRecord>> {
        self.readers.with(|c| keys_of(c, user_id))
    }

    /// [`crate::store::Store::remove_key`].
    pub fn remove_key(&self, user_id: &str, fingerprint: &str) -> StoreResult<bool> {
        let (user_id, fingerprint) = (user_id.to_owned(), fingerprint.to_owned());
        self.submit(1, move |ctx| {
            let n = ctx
                .conn
                .execute(
                    "DELETE FROM ssh_keys WHERE user_id = ?1 AND fingerprint = ?2",
                    params![user_id, fingerprint],
                )
                .map_err(backend)?;
            Ok(n == 1)
        })
    }

    /// [`crate::store::Store::authenticate_key`].
    pub fn authenticate_key(&self, fingerprint: &str) -> StoreResult<Option<Actor>> {
        let fingerprint = fingerprint.to_owned();
        self.submit(1, move |ctx| {
            let found = ctx
                .conn
                .query_row(
                    "SELECT u.id, u.name, u.partner_id, p.name, u.role \
                     FROM ssh_keys k JOIN users u ON u.id = k.user_id \
                     JOIN partners p ON p.id = u.partner_id \
                     WHERE k.fingerprint = ?1 AND u.revoked_at IS NULL",
                    [&fingerprint],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, String>(4)?,
                        ))
                    },
                )
                .optional()
                .map_err(backend)?;
            let Some((user_id, user_name, partner_id, partner_name, role)) = found else {
                return Ok(None);
            };
            let role = Role::parse(&role)
                .ok_or_else(|| StoreError::Backend(format!("bad role {role:?}")))?;
            ctx.conn
                .execute(
                    "UPDATE ssh_keys SET last_used = ?1 WHERE fingerprint = ?2",
                    params![secs(ctx.now), fingerprint],
                )
                .map_err(backend)?;
            Ok(Some(Actor {
                user_id,
                user_name,
                partner_id,
                partner_name,
                role,
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::store::keys::contract;
    use crate::store::sqlite::SqliteStore;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ssh_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("k.db"), crate::clock::system()).unwrap();
        contract::ssh_keys(&store).await;
    }
}
