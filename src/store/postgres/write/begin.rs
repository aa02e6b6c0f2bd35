//! How a group's write transaction begins: `BEGIN`, pipelined with the
//! prefetch of what the group's jobs named (see [`PgTx::prefetch`]).

use std::collections::HashMap;

use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, Statement};

use super::super::read::{self, pg};
use super::idem::{KEPT_UNDER_KEYS, KEY_LOCK_SEED, LOCK_KEYS};
use super::{Journal, PgTx, Seen};
use crate::store::StoreResult;
use crate::wire::Timestamp;

/// Begins a write transaction. Every statement of one reaches the rows it
/// names through an index, one probe per row (by primary key, or a partial
/// index for the domain and expiry look-ups), whatever the group's size:
/// the planner is told so, for this transaction only. Left to its cost
/// model it answered a group of a few dozen with a hash join over a
/// whole-table scan: of `leads` (its update, and the join that reads the
/// referrals' leads) on a table of some thousands rows, and of
/// `idempotency` under a generic plan made while that table was small
/// (docs/PERFORMANCE.md, "Plans that scan whole tables"), a cost that grows
/// with the table and is paid by every group.
pub(in crate::store::postgres) const BEGIN: &str = "BEGIN ISOLATION LEVEL READ COMMITTED; \
     SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; \
     SET LOCAL enable_mergejoin = off";

/// Reads and locks the referrals a group names, in id order.
pub(in crate::store::postgres) const LOCK_REFERRALS: &str = "SELECT r.id, r.body, \
     l.accepted_partner, r.lead_id FROM referrals r \
     JOIN leads l ON l.id = r.lead_id WHERE r.id = ANY($1) ORDER BY r.id FOR UPDATE OF r";

/// What a group's jobs will read: referrals by id, and idempotency keys
/// (user, key) they will hold and check.
#[derive(Debug, Default)]
pub struct Hint {
    pub referrals: Vec<String>,
    pub keys: Vec<(String, String)>,
}

impl PgTx {
    /// Begins a transaction on `conn` (READ COMMITTED: rows it changes are
    /// locked, rows it reads under `PgTx::referral_for_update` too) and
    /// reads what the group's jobs named ([`Hint`]), in one round trip:
    /// `BEGIN` goes out pipelined with the prefetch's statements. On a
    /// failure the transaction is rolled back (awaited) and the error
    /// returned.
    pub async fn begin(
        conn: deadpool_postgres::Client,
        now: Timestamp,
        hint: &Hint,
    ) -> StoreResult<PgTx> {
        let mut tx = PgTx {
            conn: Some(conn),
            open: false,
            // Whole seconds, as the wire carries them.
            now: chrono::SubsecRound::trunc_subsecs(now, 0),
            ids: ulid::Generator::new(),
            events: Vec::new(),
            writes: Vec::new(),
            seen: Seen::new(),
            leads: HashMap::new(),
            keys: HashMap::new(),
            job: Journal::default(),
            broken: false,
        };
        if let Err(e) = tx.prefetch(hint).await {
            // Awaited, so that the keys it held are free before its
            // callers hear of the failure (if the rollback fails too, the
            // connection is closed instead).
            tx.rollback().await;
            return Err(e);
        }
        Ok(tx)
    }

    /// Sends `BEGIN` and reads what the group's jobs named, in one
    /// pipelined round trip: the referrals, locked in id order (so that
    /// groups on several servers lock alike), and the idempotency keys,
    /// each held by this transaction if no other holds it, then what is
    /// kept under them. The statements are prepared first, so that they go
    /// out in the order they are first polled (tokio-postgres sends a
    /// request on its first poll): `BEGIN`, then the keys' locks before the
    /// read of what is kept under them.
    async fn prefetch(&mut self, hint: &Hint) -> StoreResult<()> {
        let mut ids: Vec<&str> = hint.referrals.iter().map(String::as_str).collect();
        ids.sort_unstable();
        ids.dedup();
        let users: Vec<&str> = hint.keys.iter().map(|k| k.0.as_str()).collect();
        let keys: Vec<&str> = hint.keys.iter().map(|k| k.1.as_str()).collect();
        let prepared = self.prepare_keys(!users.is_empty(), !ids.is_empty()).await;
        let [locks, kept, referrals] = self.sql(prepared)?;
        let seed = KEY_LOCK_SEED;
        let (lock_params, kept_params): ([&(dyn ToSql + Sync); 3], [&(dyn ToSql + Sync); 2]) =
            ([&users, &keys, &seed], [&users, &keys]);
        let referral_params: [&(dyn ToSql + Sync); 1] = [&ids];
        self.open = true;
        // READ COMMITTED whatever the database's default: the idempotency
        // keys rely on a later statement seeing what an earlier lock
        // holder committed. The planner settings: see [`BEGIN`].
        let (begun, locks, kept, referrals) = futures::join!(
            self.c().batch_execute(BEGIN),
            query(self.c(), locks, &lock_params),
            query(self.c(), kept, &kept_params),
            query(self.c(), referrals, &referral_params),
        );
        let begun = begun.map_err(pg);
        self.sql(begun)?;
        let (locks, kept, referrals) = (self.sql(locks)?, self.sql(kept)?, self.sql(referrals)?);
        for r in referrals {
            let stored = read::decode(r.get(1), r.get(2))?;
            self.seen.insert(r.get(0), (stored, r.get(3)));
        }
        self.record_keys(locks, kept);
        Ok(())
    }

    /// The statements that hold keys and read what is kept under them
    /// (when `keys`), and that lock referrals (when `referrals`), prepared.
    async fn prepare_keys(
        &self,
        keys: bool,
        referrals: bool,
    ) -> StoreResult<[Option<Statement>; 3]> {
        let mut out = [None, None, None];
        for (i, (sql, wanted)) in [
            (LOCK_KEYS, keys),
            (KEPT_UNDER_KEYS, keys),
            (LOCK_REFERRALS, referrals),
        ]
        .into_iter()
        .enumerate()
        {
            if wanted {
                out[i] = Some(self.c().prepare_cached(sql).await.map_err(pg)?);
            }
        }
        Ok(out)
    }
}

/// Runs a prepared statement, if there is one.
async fn query(
    tx: &deadpool_postgres::Client,
    st: Option<Statement>,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Vec<Row>> {
    match st {
        Some(st) => tx.query(&st, params).await.map_err(pg),
        None => Ok(Vec::new()),
    }
}
