//! PostgreSQL plumbing shared by every feature: the connection pools, the mapping of database
//! failures to domain errors, migrations, and the managed local cluster.
//!
//! Stores run their statements through `query_typed` (one round trip, unnamed statement), so they
//! do not rely on a named prepared statement outliving its transaction: the same code runs on a
//! direct connection and behind PgBouncer in transaction-pooling mode. The exceptions are the
//! ledger's batches (`hot`), directory searches without text and a payment's read of its wallets,
//! which prepare their statements once per connection ([`query_prepared`]) unless
//! [`DatabaseConfig::prepared_statements`](crate::DatabaseConfig::prepared_statements) is off.

pub(crate) mod error;
pub(crate) mod hot;
pub mod managed;
mod migrate;
mod pool;
mod replicas;
pub(crate) mod statements;

pub use migrate::MigrationReport;
pub(crate) use migrate::{applied_version, expected_version, pending_migrations, run_migrations};
pub(crate) use pool::{Db, read_on};
pub use replicas::ReplicaStatus;

/// Runs `sql` on a pooled connection, prepared once per connection when `prepared` (PostgreSQL may
/// then reuse a generic plan instead of planning it again), else as an unnamed statement.
pub(crate) async fn query_prepared(
    client: &deadpool_postgres::ClientWrapper,
    prepared: bool,
    sql: &str,
    params: &[(
        &(dyn tokio_postgres::types::ToSql + Sync),
        tokio_postgres::types::Type,
    )],
) -> Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
    /// Statements kept per connection: each holds a plan in its server process. Callers have a
    /// few hundred shapes at most (directory searches: the filters present, the sort); past this
    /// the cache starts over.
    const MAX_PREPARED: usize = 256;
    if !prepared {
        return client.query_typed(sql, params).await;
    }
    if client.statement_cache.size() >= MAX_PREPARED {
        client.statement_cache.clear();
    }
    let types: Vec<_> = params.iter().map(|(_, ty)| ty.clone()).collect();
    let values: Vec<_> = params.iter().map(|(value, _)| *value).collect();
    let statement = client.prepare_typed_cached(sql, &types).await?;
    client.query(&statement, &values).await
}

/// A database URL or connection string with its password removed, fit for logs and start-up
/// messages: `postgres@/var/lib/contacto/postgres/run:5432/contacto`.
pub fn redacted_url(url: &str) -> String {
    let Ok(config) = url.parse::<tokio_postgres::Config>() else {
        return "<unparseable database URL>".to_owned();
    };
    let host = config
        .get_hosts()
        .first()
        .map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".to_owned());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{}:{}/{}",
        config.get_user().unwrap_or("(default user)"),
        host,
        port,
        config.get_dbname().unwrap_or("(default database)")
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacted_urls_never_show_the_password() {
        let shown = super::redacted_url("postgres://app:s3cret@db.internal:6432/contacto");
        assert_eq!(shown, "app@db.internal:6432/contacto");
        assert!(
            !super::redacted_url("host=/tmp user=u password=s3cret dbname=d").contains("s3cret")
        );
    }
}
