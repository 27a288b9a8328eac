//! Connection pools.

use std::str::FromStr;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime, Timeouts};
use secrecy::ExposeSecret;

use super::error::from_pool;
use crate::config::DatabaseConfig;
use crate::error::{Error, Result};

/// The pools core talks to. Today one primary; a lag-tolerant replica pool slots in beside it
/// without changing the stores, which only ever see a `GenericClient`.
#[derive(Clone)]
pub(crate) struct Db {
    primary: Pool,
}

impl Db {
    /// Builds the pool; connects lazily, so a database that is down now does not stop start-up.
    pub(crate) fn new(config: &DatabaseConfig) -> Result<Self> {
        let mut pg =
            tokio_postgres::Config::from_str(config.url.expose_secret()).map_err(|_| {
                Error::invalid("database.url", "invalid_format", "not a PostgreSQL URL")
            })?;
        pg.connect_timeout(config.connect_timeout);
        if pg.get_application_name().is_none() {
            pg.application_name("contacto");
        }
        if let Some(timeout) = config.statement_timeout {
            pg.options(format!("-c statement_timeout={}", timeout.as_millis()));
        }
        let manager = Manager::from_config(
            pg,
            tokio_postgres::NoTls,
            ManagerConfig {
                // Verified recycling costs a round trip per checkout; a connection that died is
                // still noticed (`is_closed`) and replaced, and the failed request gets a 503.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let primary = Pool::builder(manager)
            .max_size(config.pool_max_size)
            .timeouts(Timeouts {
                wait: Some(config.wait_timeout),
                create: Some(config.connect_timeout),
                recycle: Some(config.connect_timeout),
            })
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|err| Error::internal("building the connection pool", err))?;
        Ok(Self { primary })
    }

    /// The primary pool's size, open and idle connections, and waiting requests.
    pub(crate) fn pool_status(&self) -> deadpool_postgres::Status {
        self.primary.status()
    }

    /// A connection to the primary, for writes and reads that must see them.
    pub(crate) async fn primary(&self) -> Result<Object> {
        self.primary.get().await.map_err(from_pool)
    }
}
