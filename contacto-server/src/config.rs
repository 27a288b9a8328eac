//! Server configuration: defaults, then an optional TOML file, then `CONTACTO_*` environment
//! variables, then command-line flags; validated as a whole at start-up.
//!
//! Every variable (the TOML key is the name without `CONTACTO_`, lower-cased):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CONTACTO_CONFIG` | none | path of a TOML file with any of the keys below |
//! | `CONTACTO_ENVIRONMENT` | `development` | `development`, `staging` or `production` |
//! | `CONTACTO_LISTEN` | `127.0.0.1:8080` | address to listen on (`--listen`) |
//! | `CONTACTO_DATABASE_URL` | none: managed local PostgreSQL | PostgreSQL URL |
//! | `CONTACTO_DATABASE_REPLICA_URLS` | none | streaming replicas for lag-tolerant reads, comma-separated URLs |
//! | `CONTACTO_DB_REPLICA_MAX_LAG_MS` | `2000` | a replica lagging more is taken out of rotation |
//! | `CONTACTO_DB_REPLICA_CHECK_INTERVAL_MS` | `250` | how often replica lag and health are checked |
//! | `CONTACTO_DATA_DIR` | `~/.local/share/contacto` (root: `/var/lib/contacto`) | managed cluster and generated secrets |
//! | `CONTACTO_PG_BIN_DIR` | searched | directory of `initdb`, `pg_ctl`, `postgres` |
//! | `CONTACTO_JWT_SECRET` | generated in the data dir (not in production) | token signing key, >= 32 bytes |
//! | `CONTACTO_TOKEN_TTL_SECS` | `3600` | bearer token lifetime |
//! | `CONTACTO_DB_POOL_MAX_SIZE` | `16` | most pooled connections (the ledger keeps two more of its own) |
//! | `CONTACTO_DB_CONNECT_TIMEOUT_MS` | `5000` | opening one connection |
//! | `CONTACTO_DB_WAIT_TIMEOUT_MS` | `5000` | waiting for a pooled connection (then 503) |
//! | `CONTACTO_DB_STATEMENT_TIMEOUT_MS` | `30000` | per statement; `0` for none |
//! | `CONTACTO_DB_PREPARED_STATEMENTS` | `true` | the ledger (small batches), directory searches without text and payments' reads of their wallets prepare their statements once per connection; `false` behind PgBouncer before 1.21 in transaction mode |
//! | `CONTACTO_SLOW_QUERY_MS` | none: `250` in the managed cluster | managed cluster's `log_min_duration_statement`: statements slower are logged (`0` all, `-1` none); for another server, a warning at start-up if it differs |
//! | `CONTACTO_MIGRATE_ON_START` | `true` | apply migrations when serving starts |
//! | `CONTACTO_BODY_LIMIT_BYTES` | `1048576` | largest request body (413 beyond) |
//! | `CONTACTO_SHUTDOWN_GRACE_SECS` | `30` | time in-flight requests get on shutdown |
//! | `CONTACTO_TRUST_PROXY` | `false` | client address from `X-Forwarded-For` |
//! | `CONTACTO_LOGIN_MAX_FAILURES_PER_ACCOUNT` | `5` | failed logins on an account from one address before that address is locked out of it (10x from all addresses: the account) |
//! | `CONTACTO_LOGIN_MAX_FAILURES_PER_ADDRESS` | `20` | failed logins before an address lock |
//! | `CONTACTO_LOGIN_LOCKOUT_SECS` | `900` | lock duration and counting window |
//! | `CONTACTO_CONTACT_LOOKUP_MAX_MISSES` | `20` | transfers to an email or phone that find nobody before the caller's look-ups are locked |
//! | `CONTACTO_CONTACT_LOOKUP_LOCKOUT_SECS` | `3600` | that lock's duration and counting window |
//! | `CONTACTO_REGISTRATION_MAX_TAKEN` | `20` | registrations refused for a taken email or phone before the client address is locked out of registering |
//! | `CONTACTO_REGISTRATION_LOCKOUT_SECS` | `3600` | that lock's duration and counting window |
//! | `CONTACTO_WEBHOOK_SECRET` | none: deposit webhooks refused | HMAC-SHA256 key of payment providers' webhooks, >= 16 bytes |
//! | `CONTACTO_DAILY_LIMITS_MINOR` | `[5000000, 50000000, 500000000]` | daily outgoing limits by verification level 0, 1, 2 |
//! | `CONTACTO_DEFAULT_MERCHANT_FEE_BPS` | `150` | fee of merchants without their own, in basis points |
//! | `CONTACTO_IDEMPOTENCY_RETENTION_SECS` | `604800` (7 days) | how long idempotency keys are remembered |
//! | `CONTACTO_BACKUP_DIR` | none: `backup --to DIR` needed | where `backup` writes and prunes backups |
//! | `CONTACTO_BACKUP_KEEP_DAILY` | `7` | days whose newest backup is kept (at least 1) |
//! | `CONTACTO_BACKUP_KEEP_WEEKLY` | `4` | ISO weeks whose newest backup is kept |
//! | `CONTACTO_BACKUP_HOOK` | none | shell command run after each backup (`$1` archive, `$2` manifest) |
//! | `CONTACTO_LOG` | `info,refinery_core=warn` | log filter (`debug`, `contacto_server=debug,info`) |
//! | `CONTACTO_LOG_FORMAT` | `pretty` in development, else `json` | `json` or `pretty` |

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use contacto_core::MIN_JWT_SECRET_BYTES;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Shortest `CONTACTO_WEBHOOK_SECRET` accepted: 128 bits if random. Payment providers issue
/// their own keys, so this is lower than the token key's floor, which we generate.
pub const MIN_WEBHOOK_SECRET_BYTES: usize = 16;

/// Where the server runs; production refuses unsafe defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// A developer's machine: managed database and generated secrets allowed.
    Development,
    /// Pre-production: like production, but a managed database and generated secret are allowed.
    Staging,
    /// Real users: an explicit database URL and JWT secret are required.
    Production,
}

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line, for log pipelines.
    Json,
    /// Human-readable lines, for terminals.
    Pretty,
}

/// The server's whole configuration (see the module documentation for every variable).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
#[expect(
    missing_docs,
    reason = "each field is documented in the table of the module docs"
)]
pub struct ServerConfig {
    pub environment: Environment,
    pub listen: SocketAddr,
    pub database_url: Option<SecretString>,
    pub database_replica_urls: Option<SecretString>,
    pub db_replica_max_lag_ms: u64,
    pub db_replica_check_interval_ms: u64,
    pub data_dir: Option<PathBuf>,
    pub pg_bin_dir: Option<PathBuf>,
    pub jwt_secret: Option<SecretString>,
    pub token_ttl_secs: u64,
    pub db_pool_max_size: usize,
    pub db_connect_timeout_ms: u64,
    pub db_wait_timeout_ms: u64,
    pub db_statement_timeout_ms: u64,
    pub db_prepared_statements: bool,
    pub slow_query_ms: Option<i64>,
    pub migrate_on_start: bool,
    pub body_limit_bytes: usize,
    pub shutdown_grace_secs: u64,
    pub trust_proxy: bool,
    pub login_max_failures_per_account: u32,
    pub login_max_failures_per_address: u32,
    pub login_lockout_secs: u64,
    pub contact_lookup_max_misses: u32,
    pub contact_lookup_lockout_secs: u64,
    pub registration_max_taken: u32,
    pub registration_lockout_secs: u64,
    pub log: String,
    pub log_format: Option<LogFormat>,
    pub webhook_secret: Option<SecretString>,
    pub daily_limits_minor: [i64; 3],
    pub idempotency_retention_secs: u64,
    pub default_merchant_fee_bps: i32,
    pub backup_dir: Option<PathBuf>,
    pub backup_keep_daily: u32,
    pub backup_keep_weekly: u32,
    pub backup_hook: Option<SecretString>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            environment: Environment::Development,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            database_replica_urls: None,
            db_replica_max_lag_ms: 2000,
            db_replica_check_interval_ms: 250,
            data_dir: None,
            pg_bin_dir: None,
            jwt_secret: None,
            token_ttl_secs: 3600,
            db_pool_max_size: 16,
            db_connect_timeout_ms: 5000,
            db_wait_timeout_ms: 5000,
            db_statement_timeout_ms: 30_000,
            db_prepared_statements: true,
            slow_query_ms: None,
            migrate_on_start: true,
            body_limit_bytes: crate::app::DEFAULT_BODY_LIMIT_BYTES,
            shutdown_grace_secs: 30,
            trust_proxy: false,
            login_max_failures_per_account: 5,
            login_max_failures_per_address: 20,
            login_lockout_secs: 900,
            contact_lookup_max_misses: 20,
            contact_lookup_lockout_secs: 3600,
            registration_max_taken: 20,
            registration_lockout_secs: 3600,
            log: "info,refinery_core=warn".to_owned(),
            log_format: None,
            webhook_secret: None,
            daily_limits_minor: contacto_core::WalletConfig::default().daily_limits.0,
            idempotency_retention_secs: 7 * 24 * 3600,
            default_merchant_fee_bps: contacto_core::WalletConfig::default()
                .default_merchant_fee_bps,
            backup_dir: None,
            backup_keep_daily: 7,
            backup_keep_weekly: 4,
            backup_hook: None,
        }
    }
}

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value could not be read.
    #[error("configuration: {0}")]
    Load(String),
    /// The values do not fit together or break a rule.
    #[error("configuration: {0}")]
    Invalid(String),
}

/// Variables that are read elsewhere and are not configuration keys.
const NOT_KEYS: &[&str] = &["CONFIG", "TEST_DATABASE_URL"];

impl ServerConfig {
    /// Loads defaults, the file (if any), then the environment, and validates the result.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the offending key.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(file) = file {
            if !file.is_file() {
                return Err(ConfigError::Load(format!(
                    "{} does not exist",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        let env = Env::prefixed("CONTACTO_").filter(|key| {
            !NOT_KEYS
                .iter()
                .any(|skip| key.as_str().eq_ignore_ascii_case(skip))
        });
        let config: Self = figment
            .merge(env)
            .extract()
            .map_err(|err| ConfigError::Load(err.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks rules that span fields.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] with the first rule broken.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |msg: &str| Err(ConfigError::Invalid(msg.to_owned()));
        if let Some(secret) = &self.jwt_secret
            && secret.expose_secret().len() < MIN_JWT_SECRET_BYTES
        {
            return Err(ConfigError::Invalid(format!(
                "CONTACTO_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes"
            )));
        }
        // An empty key (`CONTACTO_WEBHOOK_SECRET=` from an unset variable in an env file) would
        // let anyone sign a deposit's confirmation, so a short one is refused, not used.
        if let Some(secret) = &self.webhook_secret
            && secret.expose_secret().len() < MIN_WEBHOOK_SECRET_BYTES
        {
            return Err(ConfigError::Invalid(format!(
                "CONTACTO_WEBHOOK_SECRET must be at least {MIN_WEBHOOK_SECRET_BYTES} bytes"
            )));
        }
        if self.environment == Environment::Production {
            if self.database_url.is_none() {
                return invalid(
                    "production needs CONTACTO_DATABASE_URL: the managed local PostgreSQL is for \
                     development and staging",
                );
            }
            if self.jwt_secret.is_none() {
                return invalid(
                    "production needs CONTACTO_JWT_SECRET: generated secrets are for development",
                );
            }
        }
        if self.db_pool_max_size == 0 {
            return invalid("CONTACTO_DB_POOL_MAX_SIZE must be at least 1");
        }
        if self.db_replica_check_interval_ms == 0 {
            return invalid("CONTACTO_DB_REPLICA_CHECK_INTERVAL_MS must be at least 1");
        }
        if self.body_limit_bytes == 0 {
            return invalid("CONTACTO_BODY_LIMIT_BYTES must be at least 1");
        }
        if self.idempotency_retention_secs < 7 * 24 * 3600 {
            return invalid("CONTACTO_IDEMPOTENCY_RETENTION_SECS must be at least 7 days (604800)");
        }
        if !(0..=10_000).contains(&self.default_merchant_fee_bps) {
            return invalid("CONTACTO_DEFAULT_MERCHANT_FEE_BPS must be between 0 and 10000");
        }
        if self.daily_limits_minor.iter().any(|limit| *limit < 0) {
            return invalid("CONTACTO_DAILY_LIMITS_MINOR must not be negative");
        }
        if self.token_ttl_secs == 0 {
            return invalid("CONTACTO_TOKEN_TTL_SECS must be at least 1");
        }
        // An hour: a statement slower than that is already an incident, not a threshold.
        if self
            .slow_query_ms
            .is_some_and(|ms| !(-1..=3_600_000).contains(&ms))
        {
            return invalid("CONTACTO_SLOW_QUERY_MS must be -1 (none), 0 (all) or up to 3600000");
        }
        if self.login_max_failures_per_account == 0 || self.login_max_failures_per_address == 0 {
            return invalid("login failure limits must be at least 1");
        }
        if self.contact_lookup_max_misses == 0 || self.contact_lookup_lockout_secs == 0 {
            return invalid(
                "CONTACTO_CONTACT_LOOKUP_MAX_MISSES and CONTACTO_CONTACT_LOOKUP_LOCKOUT_SECS must be \
                 at least 1",
            );
        }
        if self.registration_max_taken == 0 || self.registration_lockout_secs == 0 {
            return invalid(
                "CONTACTO_REGISTRATION_MAX_TAKEN and CONTACTO_REGISTRATION_LOCKOUT_SECS must be at \
                 least 1",
            );
        }
        if self.backup_keep_daily == 0 {
            return invalid("CONTACTO_BACKUP_KEEP_DAILY must be at least 1");
        }
        Ok(())
    }

    /// The log format in effect: JSON outside development unless set.
    pub fn log_format(&self) -> LogFormat {
        self.log_format.unwrap_or(match self.environment {
            Environment::Development => LogFormat::Pretty,
            Environment::Staging | Environment::Production => LogFormat::Json,
        })
    }

    /// The data directory in effect.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(default_data_dir)
    }

    /// Core's pool settings for `url`.
    pub fn database(&self, url: &str) -> contacto_core::DatabaseConfig {
        let mut database = contacto_core::DatabaseConfig::new(url);
        database.pool_max_size = self.db_pool_max_size;
        database.connect_timeout = Duration::from_millis(self.db_connect_timeout_ms);
        database.wait_timeout = Duration::from_millis(self.db_wait_timeout_ms);
        database.statement_timeout = (self.db_statement_timeout_ms > 0)
            .then(|| Duration::from_millis(self.db_statement_timeout_ms));
        database.replicas = self.replica_urls();
        database.replica_max_lag = Duration::from_millis(self.db_replica_max_lag_ms);
        database.replica_check_interval = Duration::from_millis(self.db_replica_check_interval_ms);
        database.prepared_statements = self.db_prepared_statements;
        database
    }

    /// The replica URLs, split at commas (none of which can appear in a PostgreSQL URL unescaped).
    fn replica_urls(&self) -> Vec<SecretString> {
        self.database_replica_urls
            .as_ref()
            .map(|urls| {
                urls.expose_secret()
                    .split(',')
                    .map(str::trim)
                    .filter(|url| !url.is_empty())
                    .map(|url| SecretString::from(url.to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Core's authentication settings around `jwt_secret`.
    pub fn auth(&self, jwt_secret: SecretString) -> contacto_core::AuthConfig {
        let mut auth = contacto_core::AuthConfig::new(jwt_secret.expose_secret().to_owned());
        auth.token_ttl = Duration::from_secs(self.token_ttl_secs);
        auth.login_throttle.max_failures_per_account = self.login_max_failures_per_account;
        auth.login_throttle.max_failures_per_address = self.login_max_failures_per_address;
        auth.login_throttle.window = Duration::from_secs(self.login_lockout_secs);
        auth.login_throttle.lockout = Duration::from_secs(self.login_lockout_secs);
        auth.registration_throttle = contacto_core::RegistrationThrottle {
            max_taken: self.registration_max_taken,
            window: Duration::from_secs(self.registration_lockout_secs),
            lockout: Duration::from_secs(self.registration_lockout_secs),
        };
        auth
    }

    /// Core's wallet settings.
    pub fn wallet(&self) -> contacto_core::WalletConfig {
        contacto_core::WalletConfig {
            webhook_secret: self.webhook_secret.clone(),
            daily_limits: contacto_core::DailyLimits(self.daily_limits_minor),
            idempotency_retention: Duration::from_secs(self.idempotency_retention_secs),
            default_merchant_fee_bps: self.default_merchant_fee_bps,
            contact_lookups: contacto_core::ContactLookupThrottle {
                max_misses: self.contact_lookup_max_misses,
                window: Duration::from_secs(self.contact_lookup_lockout_secs),
                lockout: Duration::from_secs(self.contact_lookup_lockout_secs),
            },
        }
    }

    /// The HTTP settings.
    pub fn http(&self) -> crate::HttpOptions {
        crate::HttpOptions {
            body_limit_bytes: self.body_limit_bytes,
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
            trust_proxy: self.trust_proxy,
            ..crate::HttpOptions::default()
        }
    }
}

/// `$XDG_DATA_HOME/contacto`, `~/.local/share/contacto`, or for root `/var/lib/contacto`: root's
/// home is closed to the `postgres` user the managed cluster runs as.
fn default_data_dir() -> PathBuf {
    let is_root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    if is_root {
        return PathBuf::from("/var/lib/contacto");
    }
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("contacto");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".local/share/contacto"),
        None => PathBuf::from(".contacto"),
    }
}

#[cfg(test)]
#[expect(
    clippy::result_large_err,
    reason = "figment's Jail fixes the closures' error type; tests only"
)]
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn the_environment_overrides_the_file_which_overrides_defaults() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "contacto.toml",
                "listen = \"0.0.0.0:9000\"\ndb_pool_max_size = 4\n",
            )?;
            jail.set_env("CONTACTO_DB_POOL_MAX_SIZE", "7");
            jail.set_env("CONTACTO_JWT_SECRET", "12345678901234567890123456789012");
            let config = ServerConfig::load(Some(Path::new("contacto.toml"))).unwrap();
            assert_eq!(config.listen, "0.0.0.0:9000".parse().unwrap());
            assert_eq!(config.db_pool_max_size, 7);
            assert_eq!(config.token_ttl_secs, 3600);
            assert_eq!(
                config.jwt_secret.unwrap().expose_secret(),
                "12345678901234567890123456789012",
                "an all-digit secret stays a string"
            );
            Ok(())
        });
    }

    #[test]
    fn production_refuses_a_managed_database_or_a_generated_secret() {
        Jail::expect_with(|jail| {
            jail.set_env("CONTACTO_ENVIRONMENT", "production");
            let err = ServerConfig::load(None).unwrap_err();
            assert!(err.to_string().contains("CONTACTO_DATABASE_URL"), "{err}");
            jail.set_env("CONTACTO_DATABASE_URL", "postgres://db/contacto");
            let err = ServerConfig::load(None).unwrap_err();
            assert!(err.to_string().contains("CONTACTO_JWT_SECRET"), "{err}");
            jail.set_env("CONTACTO_JWT_SECRET", "x".repeat(40));
            let config = ServerConfig::load(None).unwrap();
            assert_eq!(config.log_format(), LogFormat::Json);
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_refused_with_their_name() {
        Jail::expect_with(|jail| {
            jail.set_env("CONTACTO_LISTEN", "not an address");
            let err = ServerConfig::load(None).unwrap_err();
            assert!(err.to_string().to_lowercase().contains("listen"), "{err}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("CONTACTO_JWT_SECRET", "short");
            let err = ServerConfig::load(None).unwrap_err();
            assert!(err.to_string().contains("at least 32 bytes"), "{err}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("CONTACTO_WEBHOOK_SECRET", "");
            let err = ServerConfig::load(None).unwrap_err();
            assert!(
                err.to_string()
                    .contains("CONTACTO_WEBHOOK_SECRET must be at least 16 bytes"),
                "{err}"
            );
            jail.set_env("CONTACTO_WEBHOOK_SECRET", "x".repeat(16));
            assert!(ServerConfig::load(None).unwrap().webhook_secret.is_some());
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("CONTACTO_SLOW_QUERY_MS", "-2");
            let err = ServerConfig::load(None).unwrap_err();
            assert!(err.to_string().contains("CONTACTO_SLOW_QUERY_MS"), "{err}");
            jail.set_env("CONTACTO_SLOW_QUERY_MS", "-1");
            assert_eq!(ServerConfig::load(None).unwrap().slow_query_ms, Some(-1));
            Ok(())
        });
        // A lock of no time would turn the contact look-ups' throttle off.
        for variable in [
            "CONTACTO_CONTACT_LOOKUP_MAX_MISSES",
            "CONTACTO_CONTACT_LOOKUP_LOCKOUT_SECS",
        ] {
            Jail::expect_with(|jail| {
                jail.set_env(variable, "0");
                let err = ServerConfig::load(None).unwrap_err();
                assert!(err.to_string().contains(variable), "{err}");
                jail.set_env(variable, "5");
                let lookups = ServerConfig::load(None).unwrap().wallet().contact_lookups;
                let (misses, lockout) = if variable.ends_with("MISSES") {
                    (5, 3600)
                } else {
                    (20, 5)
                };
                assert_eq!(
                    (lookups.max_misses, lookups.lockout.as_secs()),
                    (misses, lockout)
                );
                assert_eq!(lookups.window, lookups.lockout);
                Ok(())
            });
        }
    }

    #[test]
    fn registration_throttle_settings_reach_core_and_refuse_zero() {
        for variable in [
            "CONTACTO_REGISTRATION_MAX_TAKEN",
            "CONTACTO_REGISTRATION_LOCKOUT_SECS",
        ] {
            Jail::expect_with(|jail| {
                jail.set_env(variable, "0");
                let err = ServerConfig::load(None).unwrap_err();
                assert!(err.to_string().contains(variable), "{err}");
                jail.set_env(variable, "7");
                let config = ServerConfig::load(None).unwrap();
                let throttle = config
                    .auth(SecretString::from("x".repeat(32)))
                    .registration_throttle;
                let (taken, lockout) = if variable.ends_with("TAKEN") {
                    (7, 3600)
                } else {
                    (20, 7)
                };
                assert_eq!(
                    (throttle.max_taken, throttle.lockout.as_secs()),
                    (taken, lockout)
                );
                assert_eq!(throttle.window, throttle.lockout);
                Ok(())
            });
        }
    }

    #[test]
    fn replica_urls_are_split_at_commas_and_reach_core() {
        Jail::expect_with(|jail| {
            jail.set_env(
                "CONTACTO_DATABASE_REPLICA_URLS",
                "postgres://app:pw@replica-1/contacto, postgres://app:pw@replica-2:6432/contacto,",
            );
            jail.set_env("CONTACTO_DB_REPLICA_MAX_LAG_MS", "750");
            let config = ServerConfig::load(None).unwrap();
            let core = config.database("postgres://app:pw@primary/contacto");
            let replicas: Vec<String> = core
                .replicas
                .iter()
                .map(|url| url.expose_secret().to_owned())
                .collect();
            assert_eq!(
                replicas,
                [
                    "postgres://app:pw@replica-1/contacto",
                    "postgres://app:pw@replica-2:6432/contacto"
                ]
            );
            assert_eq!(core.replica_max_lag, Duration::from_millis(750));
            assert!(ServerConfig::default().database("x").replicas.is_empty());
            Ok(())
        });
    }

    #[test]
    fn prepared_statements_can_be_turned_off_for_a_transaction_pooler() {
        Jail::expect_with(|jail| {
            assert!(
                ServerConfig::load(None)
                    .unwrap()
                    .database("x")
                    .prepared_statements
            );
            jail.set_env("CONTACTO_DB_PREPARED_STATEMENTS", "false");
            assert!(
                !ServerConfig::load(None)
                    .unwrap()
                    .database("x")
                    .prepared_statements
            );
            Ok(())
        });
    }
}
