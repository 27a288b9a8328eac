//! What PostgreSQL spent its time on, statement by statement (`pg_stat_statements`, planning
//! tracked): the benchmarks' `--statements`.

use tokio_postgres::Client;

/// The settings that load `pg_stat_statements` and have it time planning too, for the cluster's
/// options (they take effect at its start).
pub fn settings() -> [(String, String); 2] {
    [
        (
            "shared_preload_libraries".into(),
            "pg_stat_statements".into(),
        ),
        ("pg_stat_statements.track_planning".into(), "on".into()),
    ]
}

/// Creates the extension in `client`'s database if needed, and forgets everything counted so far.
pub async fn reset(client: &Client) -> Result<(), tokio_postgres::Error> {
    client
        .batch_execute(
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; \
             SELECT pg_stat_statements_reset()",
        )
        .await
}

/// One statement's totals since the reset.
#[derive(Debug, Clone)]
pub struct Spent {
    /// Times it ran.
    pub calls: i64,
    /// Milliseconds planning it, in all.
    pub plan_ms: f64,
    /// Milliseconds running it, in all.
    pub exec_ms: f64,
    /// Rows it returned or wrote, in all.
    pub rows: i64,
    /// Shared buffers it hit or read, per call.
    pub buffers_per_call: i64,
    /// Bytes of write-ahead log it wrote, in all.
    pub wal_bytes: f64,
    /// Its text, normalised (values as `$n`), on one line.
    pub query: String,
}

impl Spent {
    /// The first `chars` characters of its text, from the first occurrence of `from` when given
    /// and found (`"WHERE "`: what tells a directory search from another).
    pub fn excerpt(&self, from: Option<&str>, chars: usize) -> String {
        let start = from.and_then(|from| self.query.find(from)).unwrap_or(0);
        self.query[start..].chars().take(chars).collect()
    }
}

/// The `limit` statements of `client`'s database that took the most time (planning and running)
/// since the reset, most first. Other databases (pgbench's) are left out.
pub async fn top(client: &Client, limit: i64) -> Result<Vec<Spent>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT calls, total_plan_time, total_exec_time, rows, \
                    (shared_blks_hit + shared_blks_read) / greatest(calls, 1), \
                    wal_bytes::float8, \
                    regexp_replace(query, '\\s+', ' ', 'g') \
               FROM pg_stat_statements \
              WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
              ORDER BY total_plan_time + total_exec_time DESC LIMIT $1",
            &[&limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| Spent {
            calls: row.get(0),
            plan_ms: row.get(1),
            exec_ms: row.get(2),
            rows: row.get(3),
            buffers_per_call: row.get(4),
            wal_bytes: row.get(5),
            query: row.get(6),
        })
        .collect())
}

/// The totals of every statement of `client`'s database since the reset: calls, milliseconds
/// planning, milliseconds running.
pub async fn totals(client: &Client) -> Result<(i64, f64, f64), tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT coalesce(sum(calls), 0)::int8, coalesce(sum(total_plan_time), 0), \
                    coalesce(sum(total_exec_time), 0) \
               FROM pg_stat_statements \
              WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[],
        )
        .await?;
    Ok((row.get(0), row.get(1), row.get(2)))
}
