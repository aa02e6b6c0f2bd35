//! Queries over one pooled connection or inside a transaction. Every
//! statement is prepared once per connection (`prepare_cached`).

use std::sync::Arc;

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::conn::error_text;
use crate::domain::OpenHop;
use crate::domain::StoredReferral;
use crate::store::common::{from_secs, status_code, status_from_code};
use crate::store::{ListPage, ListQuery, Scope, StoreError, StoreResult, StoredEvent, UserRecord};
use crate::wire::{Partner, PartnerKind, Referral, ReferralBox, Role, Status, Timestamp};

/// A driver error as the store reports it.
pub fn pg(e: tokio_postgres::Error) -> StoreError {
    StoreError::Backend(format!("PostgreSQL: {}", error_text(&e)))
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("PostgreSQL: bad stored row: {what}"))
}

/// Runs a cached statement and returns its rows.
pub async fn rows(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> StoreResult<Vec<Row>> {
    let st = c.prepare_cached(sql).await.map_err(pg)?;
    c.query(&st, params).await.map_err(pg)
}

/// Runs a cached statement and returns its first row, if any.
pub async fn row(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> StoreResult<Option<Row>> {
    let st = c.prepare_cached(sql).await.map_err(pg)?;
    c.query_opt(&st, params).await.map_err(pg)
}

/// Runs a cached statement and returns how many rows it changed.
pub async fn exec(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> StoreResult<u64> {
    let st = c.prepare_cached(sql).await.map_err(pg)?;
    c.execute(&st, params).await.map_err(pg)
}

/// A limit as a query parameter.
pub fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Decodes a stored body and the lead's accepted partner.
pub fn decode(body: &str, accepted_partner: Option<String>) -> StoreResult<StoredReferral> {
    let referral: Referral = serde_json::from_str(body).map_err(corrupt)?;
    Ok(StoredReferral {
        referral,
        accepted_partner,
    })
}

/// One referral with its lead id; `for update` locks its row until the
/// transaction ends.
pub async fn referral_with_lead(
    c: &impl GenericClient,
    id: &str,
    for_update: bool,
) -> StoreResult<Option<(StoredReferral, String)>> {
    let sql = if for_update {
        "SELECT r.body, l.accepted_partner, r.lead_id FROM referrals r \
         JOIN leads l ON l.id = r.lead_id WHERE r.id = $1 FOR UPDATE OF r"
    } else {
        "SELECT r.body, l.accepted_partner, r.lead_id FROM referrals r \
         JOIN leads l ON l.id = r.lead_id WHERE r.id = $1"
    };
    match row(c, sql, &[&id]).await? {
        Some(r) => Ok(Some((decode(r.get(0), r.get(1))?, r.get(2)))),
        None => Ok(None),
    }
}

/// Whether a partner id exists.
pub async fn partner_exists(c: &impl GenericClient, id: &str) -> StoreResult<bool> {
    Ok(row(c, "SELECT 1 FROM partners WHERE id = $1", &[&id])
        .await?
        .is_some())
}

/// Open hops whose lead has this normalised domain.
pub async fn open_hops(c: &impl GenericClient, domain_norm: &str) -> StoreResult<Vec<OpenHop>> {
    let found = rows(
        c,
        "SELECT id, from_partner, to_partner FROM referrals \
         WHERE domain_norm = $1 AND status IN (0, 1) ORDER BY id",
        &[&domain_norm],
    )
    .await?;
    Ok(found
        .iter()
        .map(|r| OpenHop {
            id: r.get(0),
            from_partner: r.get(1),
            to_partner: r.get(2),
        })
        .collect())
}

fn partner_row(row: &Row) -> StoreResult<Partner> {
    let kind: String = row.get(2);
    let categories: String = row.get(3);
    let regions: String = row.get(4);
    Ok(Partner {
        id: row.get(0),
        name: row.get(1),
        kind: PartnerKind::parse(&kind).ok_or_else(|| corrupt(format!("partner kind {kind}")))?,
        categories: serde_json::from_str(&categories).map_err(corrupt)?,
        regions: serde_json::from_str(&regions).map_err(corrupt)?,
    })
}

/// One partner.
pub async fn partner(c: &impl GenericClient, id: &str) -> StoreResult<Option<Partner>> {
    let found = row(
        c,
        "SELECT id, name, kind, categories, regions FROM partners WHERE id = $1",
        &[&id],
    )
    .await?;
    found.as_ref().map(partner_row).transpose()
}

/// The directory, ordered by id, filtered by a case-insensitive substring
/// of id, name or a category.
pub async fn partners(c: &impl GenericClient, q: Option<&str>) -> StoreResult<Vec<Partner>> {
    let all = rows(
        c,
        "SELECT id, name, kind, categories, regions FROM partners ORDER BY id",
        &[],
    )
    .await?;
    let needle = q
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_lowercase);
    let mut out = Vec::new();
    for row in &all {
        let p = partner_row(row)?;
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

fn role(s: &str) -> StoreResult<Role> {
    Role::parse(s).ok_or_else(|| corrupt(format!("role {s}")))
}

/// Every user, ordered by partner then id.
pub async fn users(c: &impl GenericClient) -> StoreResult<Vec<UserRecord>> {
    let all = rows(
        c,
        "SELECT id, partner_id, name, role, created_at, revoked_at FROM users \
         ORDER BY partner_id, id",
        &[],
    )
    .await?;
    all.iter()
        .map(|r| {
            Ok(UserRecord {
                id: r.get(0),
                partner_id: r.get(1),
                name: r.get(2),
                role: role(r.get(3))?,
                created_at: from_secs(r.get(4)),
                revoked_at: r.get::<_, Option<i64>>(5).map(from_secs),
            })
        })
        .collect()
}

/// The active user with this token hash: (user, partner name, stored hash).
pub async fn user_by_token_hash(
    c: &impl GenericClient,
    hash: &[u8],
) -> StoreResult<Option<(UserRecord, String, Vec<u8>)>> {
    let found = row(
        c,
        "SELECT u.id, u.partner_id, u.name, u.role, u.created_at, p.name, u.token_hash \
         FROM users u JOIN partners p ON p.id = u.partner_id \
         WHERE u.token_hash = $1 AND u.revoked_at IS NULL",
        &[&hash],
    )
    .await?;
    let Some(r) = found else { return Ok(None) };
    Ok(Some((
        UserRecord {
            id: r.get(0),
            partner_id: r.get(1),
            name: r.get(2),
            role: role(r.get(3))?,
            created_at: from_secs(r.get(4)),
            revoked_at: None,
        },
        r.get(5),
        r.get(6),
    )))
}

/// The newest committed event's seq (0 when none was ever written).
pub async fn last_seq(c: &impl GenericClient) -> StoreResult<u64> {
    let r = row(c, "SELECT last FROM event_seq WHERE id = 1", &[]).await?;
    Ok(r.map(|r| r.get::<_, i64>(0)).unwrap_or(0).max(0) as u64)
}

/// Committed events after `seq`, in order, at most `limit`.
pub async fn events_after(
    c: &impl GenericClient,
    seq: u64,
    max: usize,
) -> StoreResult<Vec<Arc<StoredEvent>>> {
    let after = i64::try_from(seq).unwrap_or(i64::MAX);
    let found = rows(
        c,
        "SELECT seq, body, accepted_partner FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
        &[&after, &limit(max)],
    )
    .await?;
    found
        .iter()
        .map(|r| {
            Ok(Arc::new(StoredEvent {
                seq: r.get::<_, i64>(0) as u64,
                referral: decode(r.get(1), r.get(2))?,
            }))
        })
        .collect()
}

/// The lowest `after` a subscriber may resume from.
pub async fn resume_floor(c: &impl GenericClient) -> StoreResult<u64> {
    let r = row(c, "SELECT MIN(seq) FROM events", &[]).await?;
    match r.and_then(|r| r.get::<_, Option<i64>>(0)) {
        Some(min) => Ok((min as u64).saturating_sub(1)),
        None => last_seq(c).await,
    }
}

/// Status codes a list wants; every status when none is named.
fn status_codes(statuses: &[Status]) -> Vec<i16> {
    let all: &[Status] = if statuses.is_empty() {
        &Status::ALL
    } else {
        statuses
    };
    all.iter().map(|s| status_code(*s) as i16).collect()
}

const LIST_COLS: &str = "SELECT r.id, r.body, l.accepted_partner FROM referrals r \
     JOIN leads l ON l.id = r.lead_id";

/// The SQL of one list page: $1 after id, $2 statuses, $3 limit, $4 partner.
fn list_sql(q: &ListQuery) -> String {
    let filter = "r.id > $1 AND r.status = ANY($2)";
    match (&q.scope, q.box_) {
        (Scope::Everything, _) => {
            format!("{LIST_COLS} WHERE $4::text IS NOT NULL AND {filter} ORDER BY r.id LIMIT $3")
        }
        (Scope::Partner(_), ReferralBox::Incoming) => {
            format!("{LIST_COLS} WHERE r.to_partner = $4 AND {filter} ORDER BY r.id LIMIT $3")
        }
        (Scope::Partner(_), ReferralBox::Outgoing) => {
            format!("{LIST_COLS} WHERE r.from_partner = $4 AND {filter} ORDER BY r.id LIMIT $3")
        }
        (Scope::Partner(_), ReferralBox::All) => format!(
            "({LIST_COLS} WHERE r.to_partner = $4 AND {filter} ORDER BY r.id LIMIT $3) \
             UNION ALL \
             ({LIST_COLS} WHERE r.from_partner = $4 AND r.to_partner <> $4 AND {filter} \
              ORDER BY r.id LIMIT $3) \
             ORDER BY 1 LIMIT $3"
        ),
    }
}

/// One page of a list and its `as_of`, read in one REPEATABLE READ
/// snapshot: the page holds exactly the changes up to `as_of`.
pub async fn list(c: &mut deadpool_postgres::Client, q: &ListQuery) -> StoreResult<ListPage> {
    let tx = c
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(pg)?;
    // Every statement below sees the transaction's one snapshot.
    let as_of = last_seq(&tx).await?;
    let after = q.after_id.clone().unwrap_or_default();
    let who = match &q.scope {
        Scope::Partner(p) => p.as_str(),
        Scope::Everything => "",
    };
    let fetch = limit(q.limit.saturating_add(1));
    let found = rows(
        &tx,
        &list_sql(q),
        &[&after, &status_codes(&q.statuses), &fetch, &who],
    )
    .await?;
    tx.commit().await.map_err(pg)?;
    let mut items = found
        .iter()
        .map(|r| decode(r.get(1), r.get(2)))
        .collect::<StoreResult<Vec<_>>>()?;
    let has_more = items.len() > q.limit;
    items.truncate(q.limit);
    Ok(ListPage {
        items,
        has_more,
        as_of,
    })
}

/// Referral counts by status.
pub async fn count_by_status(c: &impl GenericClient) -> StoreResult<Vec<(Status, u64)>> {
    let found = rows(
        c,
        "SELECT status, COUNT(*) FROM referrals GROUP BY status ORDER BY status",
        &[],
    )
    .await?;
    Ok(found
        .iter()
        .filter_map(|r| {
            let code: i16 = r.get(0);
            let n: i64 = r.get(1);
            status_from_code(i64::from(code)).map(|s| (s, n as u64))
        })
        .collect())
}

/// The earliest `expires_at` of a pending referral.
pub async fn next_expiry(c: &impl GenericClient) -> StoreResult<Option<Timestamp>> {
    let r = row(
        c,
        "SELECT MIN(expires_at) FROM referrals WHERE status = 0",
        &[],
    )
    .await?;
    Ok(r.and_then(|r| r.get::<_, Option<i64>>(0)).map(from_secs))
}
