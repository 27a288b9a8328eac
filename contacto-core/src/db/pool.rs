//! Connection pools.

use std::str::FromStr;

use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime, Timeouts};
use secrecy::ExposeSecret;

use super::error::from_pool;
use super::replicas::{Fallback, Replica, ReplicaStatus, Replicas};
use crate::api::UserId;
use crate::config::DatabaseConfig;
use crate::error::{Error, ErrorKind, Result};

/// The pools core talks to: the primary, and the read replicas when any are configured. The stores
/// only ever see a `GenericClient`, so a read runs the same on either.
#[derive(Clone)]
pub(crate) struct Db {
    primary: Pool,
    /// The ledger worker's own connections to the primary, one per batch in flight ([`Db::hot`]).
    ledger: Pool,
    replicas: Option<Arc<Replicas>>,
    prepared_statements: bool,
}

/// Connections the ledger keeps to the primary, besides the pool: one per batch it may have in
/// flight.
const LEDGER_POOL_MAX_SIZE: usize = crate::wallet::batcher::LANES;

/// One pool to `url`; `field` names the setting in errors.
fn pool(url: &str, field: &str, config: &DatabaseConfig) -> Result<Pool> {
    let mut pg = tokio_postgres::Config::from_str(url)
        .map_err(|_| Error::invalid(field, "invalid_format", "not a PostgreSQL URL"))?;
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
    Pool::builder(manager)
        .max_size(config.pool_max_size)
        .timeouts(Timeouts {
            wait: Some(config.wait_timeout),
            create: Some(config.connect_timeout),
            recycle: Some(config.connect_timeout),
        })
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|err| Error::internal("building the connection pool", err))
}

impl Db {
    /// Builds the pools; they connect lazily, so a database that is down now does not stop
    /// start-up.
    pub(crate) fn new(config: &DatabaseConfig) -> Result<Self> {
        let primary = pool(config.url.expose_secret(), "database.url", config)?;
        let ledger = pool(
            config.url.expose_secret(),
            "database.url",
            &DatabaseConfig {
                pool_max_size: LEDGER_POOL_MAX_SIZE,
                ..config.clone()
            },
        )?;
        let replicas = if config.replicas.is_empty() {
            None
        } else {
            let pools = config
                .replicas
                .iter()
                .enumerate()
                .map(|(i, url)| {
                    let url = url.expose_secret();
                    let field = format!("database.replicas[{i}]");
                    Ok((super::redacted_url(url), pool(url, &field, config)?))
                })
                .collect::<Result<Vec<_>>>()?;
            Some(Arc::new(Replicas::new(
                pools,
                config.replica_max_lag,
                config.replica_check_interval,
            )))
        };
        Ok(Self {
            primary,
            ledger,
            replicas,
            prepared_statements: config.prepared_statements,
        })
    }

    /// The primary pool's size, open and idle connections, and waiting requests.
    pub(crate) fn pool_status(&self) -> deadpool_postgres::Status {
        self.primary.status()
    }

    /// A connection to the primary, for writes and reads that must see them.
    pub(crate) async fn primary(&self) -> Result<Object> {
        self.primary.get().await.map_err(from_pool)
    }

    /// Whether statements may be prepared once per connection and reused
    /// ([`crate::DatabaseConfig::prepared_statements`]).
    pub(crate) fn prepared_statements(&self) -> bool {
        self.prepared_statements
    }

    /// A connection to the primary for one of the ledger's batches (`super::hot`), from the
    /// ledger's own pool of [`LEDGER_POOL_MAX_SIZE`]; `small` says whether the batch may use
    /// prepared statements. Outside the shared pool, so that reads holding every pooled
    /// connection never make a commit wait; and opened by the ledger's worker on its own runtime
    /// (`wallet::batcher`), which then drives the connection's socket.
    pub(crate) async fn hot(&self, small: bool) -> Result<super::hot::Hot> {
        Ok(super::hot::Hot::new(
            self.ledger.get().await.map_err(from_pool)?,
            small && self.prepared_statements,
        ))
    }

    /// Notes that `user`'s write was acknowledged: their reads go to the primary until a replica
    /// has replayed it. Free when there are no replicas.
    pub(crate) fn wrote(&self, user: UserId) {
        if let Some(replicas) = &self.replicas {
            replicas.wrote(user);
        }
    }

    /// A connection for a read that tolerates replica lag: to a replica in rotation that has
    /// replayed the caller's last write (any replica in rotation for a public read), else to the
    /// primary. Use it through [`read_on!`], which also retries on the primary a read that fails
    /// on a replica.
    pub(crate) async fn reader(&self, caller: Option<UserId>) -> Result<Reader<'_>> {
        if let Some(replicas) = &self.replicas {
            replicas.ensure_monitor(&self.primary);
            match replicas.candidates(caller) {
                Ok(candidates) => {
                    for replica in candidates {
                        match replica.connection().await {
                            Some(client) => {
                                return Ok(Reader {
                                    client,
                                    replica: Some((replica, replicas)),
                                });
                            }
                            None => replica.failed(),
                        }
                    }
                    replicas.fell_back(Fallback::ReplicaFailed);
                }
                Err(why) => replicas.fell_back(why),
            }
        }
        Ok(Reader {
            client: self.primary().await?,
            replica: None,
        })
    }

    /// The replicas and what the monitor last saw of them; empty without replicas.
    pub(crate) fn replica_status(&self) -> Vec<ReplicaStatus> {
        self.replicas
            .as_ref()
            .map(|replicas| replicas.status())
            .unwrap_or_default()
    }

    /// Reads by the primary that a replica could have served, by reason.
    pub(crate) fn fallbacks(&self) -> Vec<(&'static str, u64)> {
        let Some(replicas) = &self.replicas else {
            return Vec::new();
        };
        Fallback::ALL
            .iter()
            .map(|why| {
                (
                    why.label(),
                    replicas.fallbacks[*why as usize].load(std::sync::atomic::Ordering::Relaxed),
                )
            })
            .collect()
    }
}

/// A connection chosen by [`Db::reader`].
pub(crate) struct Reader<'a> {
    client: Object,
    replica: Option<(&'a Replica, &'a Replicas)>,
}

impl Reader<'_> {
    /// The connection.
    pub(crate) fn client(&self) -> &Object {
        &self.client
    }

    /// Settles a read: `None` when it failed on a replica for want of the replica (the replica
    /// leaves rotation, and the read should run again on the primary), else its result.
    pub(crate) fn finish<T>(self, result: Result<T>) -> Option<Result<T>> {
        let Some((replica, replicas)) = self.replica else {
            return Some(result);
        };
        match result {
            Err(err) if err.kind() == ErrorKind::Unavailable => {
                replica.failed();
                replicas.fell_back(Fallback::ReplicaFailed);
                None
            }
            done => {
                replica.served();
                Some(done)
            }
        }
    }
}

/// Runs a lag-tolerant read: `read_on!(db, caller, |client| { ...; Ok(value) })`. The body is
/// an async block over `client: &Object` on the connection [`Db::reader`] chose; when it fails on
/// a replica for want of the replica, it runs again on the primary, so the caller sees no error
/// from a replica going away. (A macro rather than an async closure: the futures of generic async
/// closures cannot yet be proven `Send`, which a server's spawned tasks need.)
macro_rules! read_on {
    ($db:expr, $caller:expr, |$client:ident| $body:block) => {{
        let db: &$crate::db::Db = $db;
        let reader = db.reader($caller).await?;
        let result = async {
            let $client = reader.client();
            $body
        }
        .await;
        match reader.finish(result) {
            Some(done) => done,
            None => {
                let primary = db.primary().await?;
                let $client = &primary;
                async { $body }.await
            }
        }
    }};
}
pub(crate) use read_on;
