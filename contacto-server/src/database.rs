//! The database the server uses: the configured URL, or a managed local cluster it starts and
//! stops itself. Also the generated JWT secret of development set-ups.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use contacto_core::managed::{ClusterOptions, ManagedError, ManagedPostgres, PgBinaries};
use secrecy::{ExposeSecret, SecretString};

use crate::config::ServerConfig;

/// The database of the managed cluster.
const MANAGED_DATABASE: &str = "contacto";

/// Why the database could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// The managed cluster could not be created or started.
    #[error(transparent)]
    Managed(#[from] ManagedError),
    /// The managed cluster started but did not answer.
    #[error("the managed PostgreSQL did not answer: {0}")]
    Core(#[from] contacto_core::Error),
    /// A secret file could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
}

/// The database in use, and the cluster to stop at shutdown if the server manages one.
pub struct Database {
    url: String,
    managed: Option<ManagedPostgres>,
    /// Whether this process started the managed cluster, and so must stop it. A cluster that was
    /// already running belongs to whoever started it.
    stop_on_close: bool,
}

impl Database {
    /// Uses `CONTACTO_DATABASE_URL`, or creates (first run) and starts the managed cluster under
    /// the data directory and makes sure its database exists.
    ///
    /// # Errors
    ///
    /// [`DatabaseError`] saying what to install or fix.
    pub async fn open(config: &ServerConfig) -> Result<Self, DatabaseError> {
        if let Some(url) = &config.database_url {
            return Ok(Self {
                url: url.expose_secret().to_owned(),
                managed: None,
                stop_on_close: false,
            });
        }
        let root = config.data_dir().join("postgres");
        let bin_dir = config.pg_bin_dir.clone();
        let options = cluster_options(config, root);
        let (cluster, started) = tokio::task::spawn_blocking(move || {
            let bins = PgBinaries::locate(bin_dir.as_deref())?;
            let cluster = ManagedPostgres::open(bins, options)?;
            let started = cluster.start()?;
            Ok::<_, ManagedError>((cluster, started))
        })
        .await
        .map_err(|err| DatabaseError::Io {
            context: "starting the managed PostgreSQL".to_owned(),
            source: std::io::Error::other(err),
        })??;
        if !started {
            tracing::warn!(
                data_dir = %cluster.data_dir().display(),
                "the managed PostgreSQL was already running: using it, and leaving it running on exit"
            );
        }
        let database = Self {
            url: cluster.connection_string(MANAGED_DATABASE),
            managed: Some(cluster),
            stop_on_close: started,
        };
        match database.ensure_managed_database().await {
            Ok(()) => Ok(database),
            Err(err) => {
                database.close().await;
                Err(err)
            }
        }
    }

    async fn ensure_managed_database(&self) -> Result<(), DatabaseError> {
        if let Some(cluster) = &self.managed {
            cluster.ensure_database(MANAGED_DATABASE).await?;
        }
        Ok(())
    }

    /// The connection string.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What to tell the operator about the database, without credentials.
    pub fn describe(&self) -> String {
        match &self.managed {
            Some(cluster) => format!(
                "managed PostgreSQL in {} (socket {}, log {})",
                cluster.data_dir().display(),
                cluster.socket_dir().display(),
                cluster.log_file().display()
            ),
            None => contacto_core::redacted_url(&self.url),
        }
    }

    /// Stops the managed cluster, if this process started it.
    pub async fn close(self) {
        if let Some(cluster) = self.managed.filter(|_| self.stop_on_close) {
            let stopped = tokio::task::spawn_blocking(move || cluster.stop()).await;
            match stopped {
                Ok(Ok(())) => tracing::info!("managed PostgreSQL stopped"),
                Ok(Err(err)) => tracing::error!(error = %err, "stopping the managed PostgreSQL"),
                Err(err) => tracing::error!(error = %err, "stopping the managed PostgreSQL"),
            }
        }
    }
}

/// The managed cluster's settings: its defaults, and the configured slow-query threshold.
fn cluster_options(config: &ServerConfig, root: std::path::PathBuf) -> ClusterOptions {
    let mut options = ClusterOptions::new(root);
    if let Some(ms) = config.slow_query_ms {
        // Written after the defaults, so it overrides the managed cluster's 250 ms.
        options
            .settings
            .push(("log_min_duration_statement".to_owned(), ms.to_string()));
    }
    options
}

/// The configured JWT secret, or one generated once and kept in `<data dir>/jwt-secret` (mode
/// 0600), so tokens survive restarts of a development server.
///
/// # Errors
///
/// When the secret file cannot be read or written.
pub fn jwt_secret(config: &ServerConfig) -> Result<SecretString, DatabaseError> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.clone());
    }
    let dir = config.data_dir();
    let path = dir.join("jwt-secret");
    let io = |context: &str, path: &Path| {
        let context = format!("{context} {}", path.display());
        move |source| DatabaseError::Io { context, source }
    };
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if existing.len() >= contacto_core::MIN_JWT_SECRET_BYTES {
            return Ok(SecretString::from(existing));
        }
    }
    std::fs::create_dir_all(&dir).map_err(io("creating", &dir))?;
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .map_err(io("writing", &path))?;
    file.write_all(secret.as_bytes())
        .map_err(io("writing", &path))?;
    Ok(SecretString::from(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slow_query_threshold_is_written_only_when_configured() {
        let mut config = ServerConfig::default();
        assert!(
            cluster_options(&config, "/tmp/c".into())
                .settings
                .is_empty()
        );
        config.slow_query_ms = Some(-1);
        assert_eq!(
            cluster_options(&config, "/tmp/c".into()).settings,
            [("log_min_duration_statement".to_owned(), "-1".to_owned())]
        );
    }
}
