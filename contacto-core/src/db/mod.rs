//! PostgreSQL plumbing shared by every feature: the connection pools, the mapping of database
//! failures to domain errors, migrations, and the managed local cluster.
//!
//! Stores run their statements through `query_typed` (one round trip, unnamed statement), so they
//! do not rely on a named prepared statement outliving its transaction: the same code runs on a
//! direct connection and behind PgBouncer in transaction-pooling mode. The exceptions are the
//! ledger's batches (`hot`) and directory searches without text, which prepare their statements
//! once per connection unless
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
