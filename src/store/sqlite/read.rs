//! Queries over one connection, used by the reader pool and, inside its
//! transaction, by the writer. Every statement is prepared once per
//! connection (`prepare_cached`).

use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::OpenHop;
use crate::domain::StoredReferral;
use crate::store::{ListPage, ListQuery, Scope, StoredEvent, UserRecord};
use crate::wire::{Partner, PartnerKind, Referral, ReferralBox, Role, Status, Timestamp};

pub use crate::store::common::{from_secs, secs, status_code, status_from_code};

fn bad_row(e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        Box::<dyn std::error::Error + Send + Sync>::from(e.to_string()),
    )
}

/// Decodes a stored body and the lead's accepted partner.
pub fn decode(body: &str, accepted_partner: Option<String>) -> rusqlite::Result<StoredReferral> {
    let referral: Referral = serde_json::from_str(body).map_err(bad_row)?;
    Ok(StoredReferral {
        referral,
        accepted_partner,
    })
}

const SELECT_REFERRAL: &str = "SELECT r.body, l.accepted_partner, r.lead_id FROM referrals r \
     JOIN leads l ON l.id = r.lead_id WHERE r.id = ?1";

/// One referral with its lead id.
pub fn referral_with_lead(
    conn: &Connection,
    id: &str,
) -> rusqlite::Result<Option<(StoredReferral, String)>> {
    let mut st = conn.prepare_cached(SELECT_REFERRAL)?;
    st.query_row([id], |row| {
        let body: String = row.get(0)?;
        let accepted: Option<String> = row.get(1)?;
        let lead: String = row.get(2)?;
        Ok((decode(&body, accepted)?, lead))
    })
    .optional()
}

/// One referral.
pub fn referral(conn: &Connection, id: &str) -> rusqlite::Result<Option<StoredReferral>> {
    Ok(referral_with_lead(conn, id)?.map(|(r, _)| r))
}

/// Whether a partner id exists.
pub fn partner_exists(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    let mut st = conn.prepare_cached("SELECT 1 FROM partners WHERE id = ?1")?;
    st.exists([id])
}

/// Open hops whose lead has this normalised domain.
pub fn open_hops(conn: &Connection, domain_norm: &str) -> rusqlite::Result<Vec<OpenHop>> {
    let mut st = conn.prepare_cached(
        "SELECT id, from_partner, to_partner FROM referrals \
         WHERE domain_norm = ?1 AND status IN (0, 1) ORDER BY id",
    )?;
    st.query_map([domain_norm], |row| {
        Ok(OpenHop {
            id: row.get(0)?,
            from_partner: row.get(1)?,
            to_partner: row.get(2)?,
        })
    })?
    .collect()
}

fn partner_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Partner> {
    let kind: String = row.get(2)?;
    let categories: String = row.get(3)?;
    let regions: String = row.get(4)?;
    Ok(Partner {
        id: row.get(0)?,
        name: row.get(1)?,
        kind: PartnerKind::parse(&kind).ok_or_else(|| bad_row(format!("partner kind {kind}")))?,
        categories: serde_json::from_str(&categories).map_err(bad_row)?,
        regions: serde_json::from_str(&regions).map_err(bad_row)?,
    })
}

/// One partner.
pub fn partner(conn: &Connection, id: &str) -> rusqlite::Result<Option<Partner>> {
    let mut st = conn
        .prepare_cached("SELECT id, name, kind, categories, regions FROM partners WHERE id = ?1")?;
    st.query_row([id], partner_row).optional()
}

/// The directory, ordered by id, filtered by a case-insensitive substring
/// of id, name or a category.
pub fn partners(conn: &Connection, q: Option<&str>) -> rusqlite::Result<Vec<Partner>> {
    let mut st = conn
        .prepare_cached("SELECT id, name, kind, categories, regions FROM partners ORDER BY id")?;
    let all = st.query_map([], partner_row)?;
    let needle = q
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_lowercase);
    let mut out = Vec::new();
    for p in all {
        let p = p?;
        let keep = match &needle {
            None => true,
            Some(n) => {
                p.id.to_lowercase().contains(n)
                    || p.name.to_lowercase().contains(n)
                    || p.categories.iter().any(|c| c.to_lowercase().contains(n))
            }
        };
        if keep {
            out.push(p);
        }
    }
    Ok(out)
}

/// Every user, ordered by partner then id.
pub fn users(conn: &Connection) -> rusqlite::Result<Vec<UserRecord>> {
    let mut st = conn.prepare_cached(
        "SELECT id, partner_id, name, role, created_at, revoked_at FROM users \
         ORDER BY partner_id, id",
    )?;
    st.query_map([], |row| {
        let role: String = row.get(3)?;
        Ok(UserRecord {
            id: row.get(0)?,
            partner_id: row.get(1)?,
            name: row.get(2)?,
            role: Role::parse(&role).ok_or_else(|| bad_row(format!("role {role}")))?,
            created_at: from_secs(row.get(4)?),
            revoked_at: row.get::<_, Option<i64>>(5)?.map(from_secs),
        })
    })?
    .collect()
}

/// The newest committed event's seq (0 when none was ever written).
pub fn last_seq(conn: &Connection) -> rusqlite::Result<u64> {
    let mut st = conn.prepare_cached(
        "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)",
    )?;
    st.query_row([], |r| r.get::<_, i64>(0))
        .map(|s| u64::try_from(s).unwrap_or(0))
}

/// Events after `seq`, in order.
pub fn events_after(
    conn: &Connection,
    seq: u64,
    limit: usize,
) -> rusqlite::Result<Vec<Arc<StoredEvent>>> {
    let mut st = conn.prepare_cached(
        "SELECT seq, body, accepted_partner FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let after = i64::try_from(seq).unwrap_or(i64::MAX);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    st.query_map(params![after, limit], |row| {
        let seq: i64 = row.get(0)?;
        let body: String = row.get(1)?;
        Ok(Arc::new(StoredEvent {
            seq: seq as u64,
            referral: decode(&body, row.get(2)?)?,
        }))
    })?
    .collect()
}

/// The lowest `after` a subscriber may resume from.
pub fn resume_floor(conn: &Connection) -> rusqlite::Result<u64> {
    let mut st = conn.prepare_cached("SELECT MIN(seq) FROM events")?;
    let min: Option<i64> = st.query_row([], |r| r.get(0))?;
    match min {
        Some(m) => Ok((m as u64).saturating_sub(1)),
        None => last_seq(conn),
    }
}

/// A bit per wanted status; every status when none is named.
fn status_mask(statuses: &[Status]) -> i64 {
    if statuses.is_empty() {
        return (1 << Status::ALL.len()) - 1;
    }
    statuses.iter().fold(0, |m, s| m | (1 << status_code(*s)))
}

const LIST_COLS: &str = "SELECT r.id, r.body, l.accepted_partner FROM referrals r \
     JOIN leads l ON l.id = r.lead_id";

/// One page of a list, read in one transaction with its `as_of`.
pub fn list(conn: &Connection, q: &ListQuery) -> rusqlite::Result<ListPage> {
    let tx = conn.unchecked_transaction()?;
    let mask = status_mask(&q.statuses);
    let after = q.after_id.clone().unwrap_or_default();
    let fetch = i64::try_from(q.limit.saturating_add(1)).unwrap_or(i64::MAX);
    let filter = "r.id > ?2 AND ((?3 >> r.status) & 1) = 1";
    let sql = match (&q.scope, q.box_) {
        (Scope::Everything, _) => {
            format!("{LIST_COLS} WHERE ?1 IS NOT NULL AND {filter} ORDER BY r.id LIMIT ?4")
        }
        (Scope::Partner(_), ReferralBox::Incoming) => {
            format!("{LIST_COLS} WHERE r.to_partner = ?1 AND {filter} ORDER BY r.id LIMIT ?4")
        }
        (Scope::Partner(_), ReferralBox::Outgoing) => {
            format!("{LIST_COLS} WHERE r.from_partner = ?1 AND {filter} ORDER BY r.id LIMIT ?4")
        }
        (Scope::Partner(_), ReferralBox::All) => format!(
            "{LIST_COLS} WHERE r.to_partner = ?1 AND {filter} \
             UNION ALL {LIST_COLS} WHERE r.from_partner = ?1 AND {filter} \
             ORDER BY 1 LIMIT ?4"
        ),
    };
    let who = match &q.scope {
        Scope::Partner(p) => p.as_str(),
        Scope::Everything => "",
    };
    let mut items = Vec::new();
    {
        let mut st = tx.prepare_cached(&sql)?;
        let rows = st.query_map(params![who, after, mask, fetch], |row| {
            let body: String = row.get(1)?;
            decode(&body, row.get(2)?)
        })?;
        for r in rows {
            items.push(r?);
        }
    }
    let as_of = last_seq(&tx)?;
    tx.commit()?;
    let has_more = items.len() > q.limit;
    items.truncate(q.limit);
    Ok(ListPage {
        items,
        has_more,
        as_of,
    })
}

/// Referral counts by status.
pub fn count_by_status(conn: &Connection) -> rusqlite::Result<Vec<(Status, u64)>> {
    let mut st = conn
        .prepare_cached("SELECT status, COUNT(*) FROM referrals GROUP BY status ORDER BY status")?;
    let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (code, n) = row?;
        if let Some(s) = status_from_code(code) {
            out.push((s, n as u64));
        }
    }
    Ok(out)
}

/// The earliest `expires_at` of a pending referral.
pub fn next_expiry(conn: &Connection) -> rusqlite::Result<Option<Timestamp>> {
    let mut st = conn.prepare_cached("SELECT MIN(expires_at) FROM referrals WHERE status = 0")?;
    let t: Option<i64> = st.query_row([], |r| r.get(0))?;
    Ok(t.map(from_secs))
}

/// The user with this token hash, if active: (user, partner name, stored hash).
pub fn user_by_token_hash(
    conn: &Connection,
    hash: &[u8],
) -> rusqlite::Result<Option<(UserRecord, String, Vec<u8>)>> {
    let mut st = conn.prepare_cached(
        "SELECT u.id, u.partner_id, u.name, u.role, u.created_at, p.name, u.token_hash \
         FROM users u JOIN partners p ON p.id = u.partner_id \
         WHERE u.token_hash = ?1 AND u.revoked_at IS NULL",
    )?;
    st.query_row([hash], |row| {
        let role: String = row.get(3)?;
        Ok((
            UserRecord {
                id: row.get(0)?,
                partner_id: row.get(1)?,
                name: row.get(2)?,
                role: Role::parse(&role).ok_or_else(|| bad_row(format!("role {role}")))?,
                created_at: from_secs(row.get(4)?),
                revoked_at: None,
            },
            row.get(5)?,
            row.get(6)?,
        ))
    })
    .optional()
}
