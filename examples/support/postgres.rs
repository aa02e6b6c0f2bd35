//! PostgreSQL for `scale_bench`: a throwaway database per case, stores
//! on it, its `synchronous_commit`, and the CPU an accept costs in this
//! process and in the database's backends.

use std::collections::HashMap;
use std::sync::Arc;

use leadx::clock;
use leadx::store::SharedStore;
use leadx::store::postgres::PgStore;
use leadx::store::postgres::test_db::TestDb;

use super::cpu_ticks;

/// A throwaway database; with `LEADX_BENCH_SYNC_COMMIT=off`, one whose
/// sessions commit without waiting for the WAL flush (the flush's share;
/// that database only, never the cluster's setting).
pub async fn bench_db() -> TestDb {
    let db = TestDb::create().await.expect("database");
    if std::env::var("LEADX_BENCH_SYNC_COMMIT").is_ok_and(|v| v == "off") {
        let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        let driver = tokio::spawn(conn);
        let name: String = client
            .query_one("SELECT current_database()", &[])
            .await
            .expect("name")
            .get(0);
        client
            .batch_execute(&format!(
                "ALTER DATABASE \"{name}\" SET synchronous_commit = off"
            ))
            .await
            .expect("synchronous_commit = off");
        drop(client);
        let _ = driver.await;
        println!("   (this database: synchronous_commit = off, LEADX_BENCH_SYNC_COMMIT)");
    }
    db
}

/// `n` stores on the database, each its own connections (pool, LISTEN,
/// writer), as `n` servers would have.
pub async fn pg_stores(db: &TestDb, n: usize) -> Vec<SharedStore> {
    let mut stores: Vec<SharedStore> = Vec::new();
    for _ in 0..n {
        let store = PgStore::connect(&db.url, clock::system()).await;
        stores.push(Arc::new(store.expect("connect")));
    }
    stores
}

/// The rows of one statement on a connection of its own to the database
/// at `url`, closed before this returns (so that it is no backend of the
/// database any more); `what` names the statement if it fails.
async fn query_once(
    url: &str,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    what: &str,
) -> Vec<tokio_postgres::Row> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect for {what}: {e}"));
    let driver = tokio::spawn(conn);
    let rows = client.query(sql, params).await;
    drop(client);
    let _ = driver.await;
    rows.unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// `SHOW synchronous_commit` on the database.
pub async fn synchronous_commit(url: &str) -> String {
    let rows = query_once(
        url,
        "SHOW synchronous_commit",
        &[],
        "SHOW synchronous_commit",
    );
    rows.await[0].get(0)
}

/// CPU ticks spent so far by this process and by each PostgreSQL backend
/// of a database (10 ms ticks, so whole runs only): what the machine's two
/// cores must give per accept, whatever else runs beside.
pub struct CpuSpent {
    me: u64,
    pg: HashMap<i32, u64>,
}

impl CpuSpent {
    pub async fn start(db: Option<&str>) -> CpuSpent {
        CpuSpent {
            me: cpu_ticks(std::process::id()),
            pg: backends_cpu(db).await,
        }
    }

    /// Milliseconds of CPU per accept since `start`: this process's, the
    /// database's backends'. A backend counts what it spent since `start`
    /// (all of it if it connected later); one gone by the end is left out,
    /// so a store closed just before the run (its backends ending as the
    /// run starts) does not take its earlier work away from the run's.
    pub async fn per_accept(&self, db: Option<&str>, accepts: usize) -> (f64, f64) {
        let me = cpu_ticks(std::process::id()) - self.me;
        let pg: u64 = backends_cpu(db)
            .await
            .iter()
            .map(|(pid, now)| now.saturating_sub(self.pg.get(pid).copied().unwrap_or(0)))
            .sum();
        let per = |ticks: u64| ticks as f64 * 10.0 / accepts as f64;
        (per(me), per(pg))
    }
}

/// CPU ticks used so far by each PostgreSQL backend connected to the
/// database at `url`, by process id (none without one).
pub async fn backends_cpu(url: Option<&str>) -> HashMap<i32, u64> {
    let Some(url) = url else {
        return HashMap::new();
    };
    let rows = query_once(
        url,
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
         AND pid <> pg_backend_pid()",
        &[],
        "the database's backends",
    );
    rows.await
        .iter()
        .filter_map(|r| {
            let pid: i32 = r.get(0);
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .map(|_| (pid, cpu_ticks(pid as u32)))
        })
        .collect()
}

/// How many referrals the database at `url` holds as accepted, read with
/// SQL (the `status` column holds a status's index in `Status::ALL`).
pub async fn accepted_in(url: &str) -> u64 {
    use leadx::wire::Status;
    let accepted = Status::ALL.iter().position(|s| *s == Status::Accepted);
    let accepted = i16::try_from(accepted.expect("Accepted is a status")).expect("small");
    let sql = "SELECT count(*) FROM referrals WHERE status = $1";
    let rows = query_once(url, sql, &[&accepted], "the count of accepted referrals").await;
    u64::try_from(rows[0].get::<_, i64>(0)).expect("a count")
}
