//! The public façade: one cheap-to-clone handle, with a handle per feature.

use std::sync::Arc;

use crate::api::{Readiness, WalletId};
use crate::config::Config;
use crate::db::{self, Db, MigrationReport};
use crate::error::Result;
use crate::identity::{Hasher, Identity, TokenKeys};
use crate::metrics::Metrics;
use crate::wallet::{Ledger, Wallets};

/// Contacto's core, embedded: `contacto.identity().register(..)`. Clones share one pool.
#[derive(Clone)]
pub struct Contacto {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    db: Db,
    /// Started on first use, on the runtime of that first caller.
    ledger: std::sync::OnceLock<Ledger>,
    /// System account ids by (role, currency): they never change, so each is read once.
    system_accounts: std::sync::RwLock<std::collections::HashMap<(String, String), WalletId>>,
    /// Wilayas and categories, read on first use.
    directory_reference: tokio::sync::OnceCell<std::sync::Arc<crate::directory::Reference>>,
    /// Spelling corrections of search words, cached briefly.
    directory_corrections: crate::directory::Corrections,
    /// Result pages of broad searches, cached briefly.
    directory_results: crate::directory::ResultCache,
    tokens: TokenKeys,
    hasher: Hasher,
    metrics: Metrics,
}

/// Builds a [`Contacto`]; see [`Contacto::builder`].
pub struct ContactoBuilder {
    config: Config,
    registry: Option<prometheus::Registry>,
}

impl ContactoBuilder {
    /// Registers core's metrics in `registry` instead of a private one, so an application can
    /// expose them with its own.
    pub fn registry(mut self, registry: prometheus::Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Builds the handle. Connections open lazily: a database that is down now yields
    /// [`crate::Error::Unavailable`] per call, not a failed start.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Validation`] for an unusable configuration (a malformed database URL, a
    /// JWT secret that is too short, impossible argon2 parameters).
    pub fn build(self) -> Result<Contacto> {
        let config = self.config;
        let db = Db::new(&config.database)?;
        let tokens = TokenKeys::new(&config.auth.jwt_secret, config.auth.token_ttl)?;
        let hasher = Hasher::new(config.auth.password_hashing)?;
        let metrics = Metrics::new(self.registry.unwrap_or_default(), &db)?;
        Ok(Contacto {
            inner: Arc::new(Inner {
                config,
                db,
                ledger: std::sync::OnceLock::new(),
                system_accounts: std::sync::RwLock::default(),
                directory_reference: tokio::sync::OnceCell::new(),
                directory_corrections: crate::directory::Corrections::default(),
                directory_results: crate::directory::ResultCache::default(),
                tokens,
                hasher,
                metrics,
            }),
        })
    }
}

impl Contacto {
    /// A builder around `config`.
    pub fn builder(config: Config) -> ContactoBuilder {
        ContactoBuilder {
            config,
            registry: None,
        }
    }

    /// Accounts, logins, tokens and API keys.
    pub fn identity(&self) -> Identity<'_> {
        Identity::new(self)
    }

    /// Wallets, transfers, deposits and reconciliation.
    pub fn wallet(&self) -> Wallets<'_> {
        Wallets::new(self)
    }

    /// Professionals, services, reviews and search.
    pub fn directory(&self) -> crate::directory::Directory<'_> {
        crate::directory::Directory::new(self)
    }

    /// The configured read replicas and what the last health check saw of each: whether reads
    /// go to it, and its lag. Empty when none are configured.
    pub fn replicas(&self) -> Vec<crate::ReplicaStatus> {
        self.db().replica_status()
    }

    /// Notes that `principal`'s write was acknowledged, so that their next reads see it (they go
    /// to the primary until a replica has replayed it).
    pub(crate) fn wrote(&self, principal: &crate::Principal) {
        self.db().wrote(principal.user_id);
    }

    /// Applies pending migrations. Safe to call from several instances at once: one applies, the
    /// others wait and find nothing to do.
    ///
    /// # Errors
    ///
    /// [`crate::Error::SchemaAhead`] when the database has migrations this build does not know,
    /// [`crate::Error::Unavailable`], or [`crate::Error::Internal`] when a migration fails (its
    /// transaction is rolled back, leaving the schema as it was).
    pub async fn migrate(&self) -> Result<MigrationReport> {
        let mut conn = self.db().primary().await?;
        db::run_migrations(&mut conn).await
    }

    /// `(version, name)` of each migration [`Contacto::migrate`] would apply now, oldest first,
    /// after the same checks; applies and creates nothing.
    ///
    /// # Errors
    ///
    /// [`crate::Error::SchemaAhead`] when the database has migrations this build does not know,
    /// [`crate::Error::Unavailable`].
    pub async fn pending_migrations(&self) -> Result<Vec<(i64, String)>> {
        let conn = self.db().primary().await?;
        db::pending_migrations(&**conn).await
    }

    /// The statements of this database that took the most execution time, as
    /// `pg_stat_statements` counts them (installing the extension on first use if the role may),
    /// with the slow-query threshold. `limit` defaults to [`crate::api::DEFAULT_STATEMENTS_LIMIT`].
    /// Administrators only; `None` is a trusted caller (the command line).
    ///
    /// # Errors
    ///
    /// [`crate::Error::Forbidden`], [`crate::Error::Validation`] for a limit outside 1 to
    /// [`crate::api::MAX_STATEMENTS_LIMIT`], [`crate::Error::StatementsUnavailable`] saying what
    /// the operator must do, [`crate::Error::Unavailable`].
    pub async fn top_statements(
        &self,
        principal: Option<&crate::Principal>,
        limit: Option<i64>,
    ) -> Result<crate::api::StatementsReport> {
        db::statements::authorise(principal)?;
        let limit = db::statements::checked_limit(limit)?;
        let conn = self.db().primary().await?;
        db::statements::top(&**conn, limit).await
    }

    /// Forgets this database's statement totals, so the next report covers what runs from now on.
    /// For operators' tools: no principal is checked.
    ///
    /// # Errors
    ///
    /// [`crate::Error::StatementsUnavailable`] (also when the role may not reset),
    /// [`crate::Error::Unavailable`].
    pub async fn reset_statements(&self) -> Result<()> {
        let conn = self.db().primary().await?;
        db::statements::reset(&**conn).await
    }

    /// PostgreSQL's `log_min_duration_statement`: statements running longer are logged; `None`
    /// when none are logged by duration.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Unavailable`].
    pub async fn slow_query_threshold(&self) -> Result<Option<std::time::Duration>> {
        let conn = self.db().primary().await?;
        db::statements::slow_query_threshold(&**conn).await
    }

    /// Whether the database answers and its schema is at least as new as this build's.
    pub async fn readiness(&self) -> Readiness {
        let expected = db::expected_version();
        let applied = match self.db().primary().await {
            Ok(conn) => db::applied_version(&**conn).await.map_err(|_| ()),
            Err(_) => Err(()),
        };
        match applied {
            Ok(version) => Readiness {
                // A newer schema is fine: migrations are expand-then-contract, so the previous
                // build keeps working while a rolling deployment replaces it.
                ready: version.is_some_and(|v| v >= expected),
                database: true,
                schema_version: version,
                expected_schema_version: expected,
            },
            Err(()) => Readiness {
                ready: false,
                database: false,
                schema_version: None,
                expected_schema_version: expected,
            },
        }
    }

    /// The registry core's metrics live in.
    pub fn registry(&self) -> &prometheus::Registry {
        self.inner.metrics.registry()
    }

    /// The configuration this handle was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub(crate) fn db(&self) -> &Db {
        &self.inner.db
    }

    pub(crate) fn ledger(&self) -> &Ledger {
        self.inner.ledger.get_or_init(|| {
            Ledger::spawn(
                self.inner.db.clone(),
                self.inner.metrics.clone(),
                self.inner.config.wallet.daily_limits,
            )
        })
    }

    pub(crate) fn system_accounts(
        &self,
    ) -> &std::sync::RwLock<std::collections::HashMap<(String, String), WalletId>> {
        &self.inner.system_accounts
    }

    pub(crate) fn directory_reference(
        &self,
    ) -> &tokio::sync::OnceCell<std::sync::Arc<crate::directory::Reference>> {
        &self.inner.directory_reference
    }

    pub(crate) fn directory_corrections(&self) -> &crate::directory::Corrections {
        &self.inner.directory_corrections
    }

    pub(crate) fn directory_results(&self) -> &crate::directory::ResultCache {
        &self.inner.directory_results
    }

    pub(crate) fn tokens(&self) -> &TokenKeys {
        &self.inner.tokens
    }

    pub(crate) fn hasher(&self) -> &Hasher {
        &self.inner.hasher
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }
}
