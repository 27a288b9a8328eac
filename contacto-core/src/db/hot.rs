//! The ledger's posting path on one pooled connection, in as few round trips as PostgreSQL allows.
//!
//! A batch is two round trips: `BEGIN` leaves with the batch's reads, and `COMMIT` with its
//! writes. That relies on tokio-postgres sending a statement when its future is first polled, so
//! statements joined with `tokio::try_join!` reach the server in the order they are written and
//! the server runs them in that order. A statement that first had to be prepared would break
//! it (its `Execute` would leave a round trip later, after the `COMMIT`), so [`Hot::prepare`]
//! prepares the whole set before a batch starts, and [`Hot::query`] only ever sends a statement
//! in one go: prepared when the set holds it, planned on the spot (`query_typed`) otherwise.
//!
//! Prepared statements are reused across batches through the pool's per-connection cache, which
//! saves parsing and planning the same statements every time; the ledger uses them for small
//! batches only (`wallet::batcher`), whose plans do not depend on their size. They need a session of their own on the
//! server, which PgBouncer before 1.21 does not give in transaction mode:
//! [`DatabaseConfig::prepared_statements`](crate::DatabaseConfig::prepared_statements) turns them
//! off.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use deadpool_postgres::Object;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Row, Statement};

/// A statement of the hot path and the types of its parameters.
pub(crate) type HotStatement = (&'static str, &'static [Type]);

/// One pooled connection running ledger batches. Dropped inside a transaction (a batch that
/// failed before its commit), it closes the connection instead of returning it to the pool, so
/// no later user inherits an open or aborted transaction.
pub(crate) struct Hot {
    conn: Option<Object>,
    prepared: Option<HashMap<&'static str, Statement>>,
    in_transaction: AtomicBool,
}

impl Hot {
    /// Wraps a pooled connection; `prepared` says whether statements may be prepared on it.
    pub(crate) fn new(conn: Object, prepared: bool) -> Self {
        Self {
            conn: Some(conn),
            prepared: prepared.then(HashMap::new),
            in_transaction: AtomicBool::new(false),
        }
    }

    fn conn(&self) -> &Object {
        self.conn
            .as_ref()
            .expect("the connection is only taken on drop")
    }

    /// The connection, for statements off the hot path (sent one at a time, in order).
    pub(crate) fn client(&self) -> &tokio_postgres::Client {
        self.conn()
    }

    /// Prepares `statements` on this connection: one round trip for those the connection has not
    /// prepared before (the pool's cache answers the others at once); nothing when prepared
    /// statements are off.
    pub(crate) async fn prepare(
        &mut self,
        statements: &[HotStatement],
    ) -> Result<(), tokio_postgres::Error> {
        if self.prepared.is_none() {
            return Ok(());
        }
        let conn = self
            .conn
            .as_ref()
            .expect("the connection is only taken on drop");
        let ready = futures_util::future::try_join_all(
            statements
                .iter()
                .map(|(sql, types)| conn.prepare_typed_cached(sql, types)),
        )
        .await?;
        let prepared = self.prepared.as_mut().expect("checked above");
        for ((sql, _), statement) in statements.iter().zip(ready) {
            prepared.insert(sql, statement);
        }
        Ok(())
    }

    /// Runs `sql`, sent in one go when first polled: prepared if [`Hot::prepare`] prepared it
    /// with these parameter types, planned with its values otherwise.
    pub(crate) async fn query(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        let statement = self
            .prepared
            .as_ref()
            .and_then(|prepared| prepared.get(sql))
            .filter(|statement| {
                statement.params().len() == params.len()
                    && statement
                        .params()
                        .iter()
                        .zip(params)
                        .all(|(a, (_, b))| a == b)
            });
        match statement {
            Some(statement) => {
                let values: Vec<&(dyn ToSql + Sync)> = params.iter().map(|(v, _)| *v).collect();
                self.conn().query(statement, &values).await
            }
            None => self.conn().query_typed(sql, params).await,
        }
    }

    /// Starts the batch's transaction; join it before the batch's first statements.
    pub(crate) async fn begin(&self) -> Result<(), tokio_postgres::Error> {
        self.in_transaction.store(true, Ordering::Relaxed);
        self.conn().batch_execute("BEGIN").await
    }

    /// Commits the batch; join it after the batch's last statements. When one of them failed,
    /// PostgreSQL answers this `COMMIT` with a rollback and their own error reports the failure.
    pub(crate) async fn commit(&self) -> Result<(), tokio_postgres::Error> {
        let result = self.conn().batch_execute("COMMIT").await;
        if result.is_ok() {
            self.in_transaction.store(false, Ordering::Relaxed);
        }
        result
    }
}

impl Drop for Hot {
    fn drop(&mut self) {
        if self.in_transaction.load(Ordering::Relaxed)
            && let Some(conn) = self.conn.take()
        {
            drop(Object::take(conn));
        }
    }
}
