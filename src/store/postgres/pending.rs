//! The writes of a group transaction, buffered until they are needed and
//! then sent as a few set-based statements (`INSERT ... SELECT FROM
//! UNNEST`, `UPDATE ... FROM UNNEST`), pipelined on one connection: a
//! group of accepts costs the same handful of round trips as one accept.
//!
//! A buffered write is undone by truncating the buffer (a job that fails,
//! see [`super::write::PgTx`]), so jobs need no savepoints. Before the
//! writes go out they are coalesced: a hop written twice (accepted, then
//! expired in a later job) is one row of one statement, with the version
//! the transaction first read it at as its guard.

use std::collections::HashMap;

use tokio_postgres::types::ToSql;

use super::read::pg;
use crate::domain::StoredReferral;
use crate::store::common::status_code;
use crate::store::{StoreError, StoreResult};

/// One buffered write.
pub enum Write {
    /// A new lead (the first hop's).
    Lead {
        id: String,
        accepted: Option<String>,
    },
    /// A new hop.
    Insert {
        row: HopRow,
        lead_id: String,
        from: String,
        to: String,
        domain: Option<String>,
        expires_at: i64,
    },
    /// A changed hop, guarded by the version it had before.
    Update { row: HopRow, before: i64 },
    /// A lead's accepted partner changed.
    Accepted {
        lead_id: String,
        accepted: Option<String>,
    },
    /// A response kept under an idempotency key.
    Response {
        user_id: String,
        key: String,
        hash: String,
        status: i32,
        body: Vec<u8>,
        at: i64,
        /// Responses at or before this may be replaced.
        stale: i64,
    },
}

/// What a hop's row changes to.
pub struct HopRow {
    pub id: String,
    pub status: i16,
    pub version: i64,
    pub body: String,
}

impl HopRow {
    pub fn of(stored: &StoredReferral, body: String) -> HopRow {
        let r = &stored.referral;
        HopRow {
            id: r.id.clone(),
            status: status_code(r.status) as i16,
            version: r.version as i64,
            body,
        }
    }
}

const INSERT_LEADS: &str = "INSERT INTO leads (id, accepted_partner) \
     SELECT * FROM UNNEST($1::text[], $2::text[])";
const INSERT_HOPS: &str = "INSERT INTO referrals (id, lead_id, status, from_partner, to_partner, \
     domain_norm, expires_at, version, body) \
     SELECT * FROM UNNEST($1::text[], $2::text[], $3::int2[], $4::text[], $5::text[], \
     $6::text[], $7::int8[], $8::int8[], $9::text[])";
pub(super) const UPDATE_HOPS: &str = "UPDATE referrals r SET status = u.status, version = u.version, \
     body = u.body FROM UNNEST($1::text[], $2::int2[], $3::int8[], $4::text[], $5::int8[]) \
     AS u(id, status, version, body, before) WHERE r.id = u.id AND r.version = u.before";
pub(super) const UPDATE_LEADS: &str = "UPDATE leads l SET accepted_partner = u.accepted \
     FROM UNNEST($1::text[], $2::text[]) AS u(id, accepted) WHERE l.id = u.id";
const SAVE_RESPONSES: &str = "INSERT INTO idempotency \
     (user_id, key, request_hash, status, body, created_at) \
     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int4[], $5::bytea[], $6::int8[]) \
     ON CONFLICT (user_id, key) DO UPDATE SET request_hash = excluded.request_hash, \
     status = excluded.status, body = excluded.body, created_at = excluded.created_at \
     WHERE idempotency.status = 0 OR idempotency.created_at <= $7";

/// The buffered writes, coalesced into columns, one set per statement.
#[derive(Default)]
struct Columns {
    leads: (Vec<String>, Vec<Option<String>>),
    lead_at: HashMap<String, usize>,
    ins: InsertColumns,
    ins_at: HashMap<String, usize>,
    upd: UpdateColumns,
    upd_at: HashMap<String, usize>,
    acc: (Vec<String>, Vec<Option<String>>),
    acc_at: HashMap<String, usize>,
    resp: ResponseColumns,
    stale: i64,
}

/// Id, status, version, body, and the version guarded.
type UpdateColumns = (Vec<String>, Vec<i16>, Vec<i64>, Vec<String>, Vec<i64>);

#[derive(Default)]
struct InsertColumns {
    id: Vec<String>,
    lead: Vec<String>,
    status: Vec<i16>,
    from: Vec<String>,
    to: Vec<String>,
    domain: Vec<Option<String>>,
    expires: Vec<i64>,
    version: Vec<i64>,
    body: Vec<String>,
}

#[derive(Default)]
struct ResponseColumns {
    user: Vec<String>,
    key: Vec<String>,
    hash: Vec<String>,
    status: Vec<i32>,
    body: Vec<Vec<u8>>,
    at: Vec<i64>,
}

impl Columns {
    fn add(&mut self, w: Write) {
        match w {
            Write::Lead { id, accepted } => {
                self.lead_at.insert(id.clone(), self.leads.0.len());
                self.leads.0.push(id);
                self.leads.1.push(accepted);
            }
            Write::Insert {
                row,
                lead_id,
                from,
                to,
                domain,
                expires_at,
            } => {
                let c = &mut self.ins;
                self.ins_at.insert(row.id.clone(), c.id.len());
                c.id.push(row.id);
                c.lead.push(lead_id);
                c.status.push(row.status);
                c.from.push(from);
                c.to.push(to);
                c.domain.push(domain);
                c.expires.push(expires_at);
                c.version.push(row.version);
                c.body.push(row.body);
            }
            Write::Update { row, before } => {
                if let Some(&i) = self.ins_at.get(&row.id) {
                    // Written after it was inserted: insert it as it is now.
                    (self.ins.status[i], self.ins.version[i]) = (row.status, row.version);
                    self.ins.body[i] = row.body;
                } else if let Some(&i) = self.upd_at.get(&row.id) {
                    // Written twice: the last values, the first guard.
                    (self.upd.1[i], self.upd.2[i]) = (row.status, row.version);
                    self.upd.3[i] = row.body;
                } else {
                    self.upd_at.insert(row.id.clone(), self.upd.0.len());
                    self.upd.0.push(row.id);
                    self.upd.1.push(row.status);
                    self.upd.2.push(row.version);
                    self.upd.3.push(row.body);
                    self.upd.4.push(before);
                }
            }
            Write::Accepted { lead_id, accepted } => {
                if let Some(&i) = self.lead_at.get(&lead_id) {
                    self.leads.1[i] = accepted;
                } else if let Some(&i) = self.acc_at.get(&lead_id) {
                    self.acc.1[i] = accepted;
                } else {
                    self.acc_at.insert(lead_id.clone(), self.acc.0.len());
                    self.acc.0.push(lead_id);
                    self.acc.1.push(accepted);
                }
            }
            Write::Response {
                user_id,
                key,
                hash,
                status,
                body,
                at,
                stale,
            } => {
                let r = &mut self.resp;
                r.user.push(user_id);
                r.key.push(key);
                r.hash.push(hash);
                r.status.push(status);
                r.body.push(body);
                r.at.push(at);
                self.stale = stale;
            }
        }
    }
}

type Params<'a> = Vec<&'a (dyn ToSql + Sync)>;

/// Sends `writes` as at most five statements, pipelined (each statement
/// is prepared first, so that they run in the order written: leads before
/// the hops that name them). An error when a guarded row had changed or
/// a key already held a fresh response: the caller then rolls the whole
/// transaction back.
pub async fn flush(tx: &deadpool_postgres::Client, writes: Vec<Write>) -> StoreResult<()> {
    if writes.is_empty() {
        return Ok(());
    }
    let mut c = Columns::default();
    for w in writes {
        c.add(w);
    }
    let mut work: Vec<(&str, Params<'_>, usize)> = Vec::new();
    if !c.leads.0.is_empty() {
        work.push((INSERT_LEADS, vec![&c.leads.0, &c.leads.1], 0));
    }
    let i = &c.ins;
    if !i.id.is_empty() {
        let p: Params<'_> = vec![
            &i.id, &i.lead, &i.status, &i.from, &i.to, &i.domain, &i.expires, &i.version, &i.body,
        ];
        work.push((INSERT_HOPS, p, 0));
    }
    let u = &c.upd;
    if !u.0.is_empty() {
        work.push((UPDATE_HOPS, vec![&u.0, &u.1, &u.2, &u.3, &u.4], u.0.len()));
    }
    if !c.acc.0.is_empty() {
        work.push((UPDATE_LEADS, vec![&c.acc.0, &c.acc.1], 0));
    }
    let r = &c.resp;
    if !r.user.is_empty() {
        let p: Params<'_> = vec![
            &r.user, &r.key, &r.hash, &r.status, &r.body, &r.at, &c.stale,
        ];
        work.push((SAVE_RESPONSES, p, r.user.len()));
    }
    let mut statements = Vec::with_capacity(work.len());
    for (sql, _, _) in &work {
        statements.push(tx.prepare_cached(sql).await.map_err(pg)?);
    }
    let runs = work
        .iter()
        .zip(&statements)
        .map(|((_, params, _), st)| tx.execute(st, params));
    let done = futures::future::join_all(runs).await;
    for ((sql, _, want), n) in work.iter().zip(done) {
        let n = n.map_err(pg)?;
        if *want > 0 && n != *want as u64 {
            let what = if *sql == UPDATE_HOPS {
                "a referral changed under the writer"
            } else {
                "an idempotency key already holds a response"
            };
            return Err(StoreError::Backend(format!(
                "{what} ({n} of {want} written)"
            )));
        }
    }
    Ok(())
}
