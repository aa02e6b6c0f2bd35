//! A write transaction reaches the rows it names through indexes, one
//! probe per row, however a group's size weighs against a table's: left to
//! its cost model, the planner answered a few dozen ids on a table of some
//! thousands rows with a hash join over a whole-table scan, a cost that
//! grows with the table and is paid by every group (see
//! `write::begin::BEGIN`).

use tokio_postgres::types::ToSql;

use super::*;
use crate::store::postgres::pending::{UPDATE_HOPS, UPDATE_LEADS};
use crate::store::postgres::write::begin::{BEGIN, LOCK_REFERRALS};
use crate::store::postgres::write::idem::KEPT_UNDER_KEYS;

/// PostgreSQL's default cost model, under which the scans were chosen
/// (whatever the server's configuration says).
const DEFAULT_COSTS: &str = "SET LOCAL random_page_cost = 4; SET LOCAL seq_page_cost = 1; \
     SET LOCAL cpu_tuple_cost = 0.01; SET LOCAL cpu_index_tuple_cost = 0.005; \
     SET LOCAL cpu_operator_cost = 0.0025; SET LOCAL effective_cache_size = '4GB'";

/// Every plan node PostgreSQL may choose, as it is out of the box: the
/// control, without the write transaction's settings.
const PLAIN_BEGIN: &str = "BEGIN; SET LOCAL enable_seqscan = on; SET LOCAL enable_hashjoin = on; \
     SET LOCAL enable_mergejoin = on; SET LOCAL enable_indexscan = on; \
     SET LOCAL enable_bitmapscan = on; SET LOCAL enable_nestloop = on";

/// The plan of `sql` with `params` (a custom plan: the values are
/// bound), in a transaction begun by `begin` (rolled back).
async fn plan(
    c: &tokio_postgres::Client,
    begin: &str,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> String {
    c.batch_execute(&format!("{begin}; {DEFAULT_COSTS}"))
        .await
        .unwrap();
    let rows = c.query(&format!("EXPLAIN {sql}"), params).await.unwrap();
    c.batch_execute("ROLLBACK").await.unwrap();
    let lines: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    lines.join("\n")
}

/// Whether a plan reads more than the rows it names: a scan of a whole
/// table, a hash or merge join, or an index scan without a condition.
fn scans(plan: &str) -> bool {
    let index_scans = plan.matches(" using ").count();
    let conditioned = plan.matches("Index Cond").count();
    ["Seq Scan", "Hash Join", "Merge Join"]
        .iter()
        .any(|s| plan.contains(s))
        || index_scans > conditioned
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_of_64_probes_indexes_where_the_planner_would_scan_whole_tables() {
    let w = world_or_skip!();
    let c = admin(&w.db.url).await;
    c.batch_execute(
        "INSERT INTO leads (id) SELECT 'l' || i FROM generate_series(1, 20000) i;
         INSERT INTO referrals (id, lead_id, status, from_partner, to_partner, expires_at, \
             version, body) \
           SELECT 'r' || i, 'l' || i, 0, 'a', 'b', 0, 1, '{}' FROM generate_series(1, 20000) i;
         INSERT INTO idempotency (user_id, key, request_hash, status, body, created_at) \
           SELECT 'u', 'k' || i, 'h', 200, '\\x', 0 FROM generate_series(1, 20000) i;
         ANALYZE leads; ANALYZE referrals; ANALYZE idempotency;",
    )
    .await
    .unwrap();
    let n = 64;
    let pick = |p: &str| -> Vec<String> { (1..=n).map(|i| format!("{p}{}", i * 300)).collect() };
    let (leads, referrals, keys) = (pick("l"), pick("r"), pick("k"));
    let users = vec!["u".to_string(); n];
    let accepted = vec![Some("b".to_string()); n];
    let (status, version, body) = (vec![1i16; n], vec![2i64; n], vec!["{}".to_string(); n]);
    let before = vec![1i64; n];
    let statements: [(&str, &str, Vec<&(dyn ToSql + Sync)>); 4] = [
        ("UPDATE_LEADS", UPDATE_LEADS, vec![&leads, &accepted]),
        (
            "UPDATE_HOPS",
            UPDATE_HOPS,
            vec![&referrals, &status, &version, &body, &before],
        ),
        ("KEPT_UNDER_KEYS", KEPT_UNDER_KEYS, vec![&users, &keys]),
        ("LOCK_REFERRALS", LOCK_REFERRALS, vec![&referrals]),
    ];
    let mut scanned_without = Vec::new();
    for (name, sql, params) in &statements {
        let with = plan(&c, BEGIN, sql, params).await;
        assert!(!scans(&with), "{name} in a write transaction:\n{with}");
        if scans(&plan(&c, PLAIN_BEGIN, sql, params).await) {
            scanned_without.push(*name);
        }
    }
    // The test can fail: without the write transaction's settings the
    // planner scans `leads` whole (for its update, and for the join that
    // reads the referrals' leads).
    assert!(
        scanned_without.contains(&"UPDATE_LEADS") && scanned_without.contains(&"LOCK_REFERRALS"),
        "expected whole-table scans without the settings, got them for {scanned_without:?}"
    );
}
