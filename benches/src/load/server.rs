//! The server the harness starts when no `--target` is given: `contacto-server`'s library
//! (`contacto_server::serve`, with the configuration defaults of `ServerConfig`) in this process,
//! on a runtime and threads of its own (`contacto-server`), over a durable PostgreSQL cluster
//! (`fsync=on`, `synchronous_commit=on`) in a temporary directory that is removed at the end.
//!
//! In-process rather than spawning the `contacto-server` binary: the server is always built from
//! the same sources as the harness (`cargo run -p contacto-benches` does not rebuild another
//! package's binary, so a spawned one could be stale), the harness knows the database URL and
//! the webhook secret without scraping, and the two runtimes' threads are named, so the report
//! splits CPU between harness and server. What differs from the binary: no housekeeping task
//! (expired holds, purges), which no scenario depends on. Request logs go, as in production,
//! one JSON line per request, to `server.log` in the cluster's directory.

use std::net::SocketAddr;
use std::path::PathBuf;

use contacto_core::managed::{ManagedPostgres, PgBinaries};
use contacto_core::{Config, Contacto};
use contacto_server::config::{LogFormat, ServerConfig};
use secrecy::SecretString;
use tokio::sync::oneshot;
use tracing_appender::non_blocking::WorkerGuard;

use crate::directory_seed::BoxError;

/// The in-process server's settings.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Pooled database connections (`CONTACTO_DB_POOL_MAX_SIZE`).
    pub pool: usize,
    /// Worker threads of the server's runtime (the binary uses one per core).
    pub threads: usize,
    /// Write the request log (one JSON line per request, as in production).
    pub request_log: bool,
}

/// A server and its cluster; stopped and removed when dropped.
pub struct ManagedServer {
    cluster: ManagedPostgres,
    root: PathBuf,
    address: SocketAddr,
    database_url: String,
    webhook_secret: String,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The request log's writer thread, stopped (and its lines written) after the server.
    request_log: Option<WorkerGuard>,
}

/// A random lowercase hex string of `bytes` random bytes.
pub fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

impl ManagedServer {
    /// Creates and starts the cluster, then the server on a free loopback port.
    ///
    /// # Errors
    ///
    /// When PostgreSQL is missing or fails to start, or the server cannot migrate or listen.
    pub async fn start(options: &ServerOptions) -> Result<Self, BoxError> {
        let root = std::env::temp_dir().join(format!("contacto-load-{}", std::process::id()));
        let cluster_options = crate::bench_cluster_options(&root, 200);
        let cluster = ManagedPostgres::open(PgBinaries::locate(None)?, cluster_options)?;
        cluster.start()?;
        let database_url = cluster.connection_string("contacto");
        let mut server = Self {
            cluster,
            root,
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url,
            webhook_secret: random_hex(32),
            shutdown: None,
            thread: None,
            request_log: None,
        };
        server.cluster.ensure_database("contacto").await?;
        if options.request_log {
            server.request_log = Some(install_request_log(&server.root.join("server.log"))?);
        }
        server.spawn(options).await?;
        Ok(server)
    }

    async fn spawn(&mut self, options: &ServerOptions) -> Result<(), BoxError> {
        let config = ServerConfig {
            db_pool_max_size: options.pool,
            webhook_secret: Some(SecretString::from(self.webhook_secret.clone())),
            ..ServerConfig::default()
        };
        let core_config = Config {
            database: config.database(&self.database_url),
            auth: config.auth(SecretString::from(random_hex(32))),
            wallet: config.wallet(),
        };
        // The binary's runtime, with the harness's thread count and a name for the CPU report.
        let runtime = contacto_server::runtime_builder()
            .worker_threads(options.threads.max(1))
            .thread_name("contacto-server")
            .build()?;
        let (ready_tx, ready) = oneshot::channel::<Result<SocketAddr, String>>();
        let (shutdown, stop) = oneshot::channel::<()>();
        let http = config.http();
        let thread = std::thread::Builder::new()
            .name("contacto-server".into())
            .spawn(move || {
                runtime.block_on(async move {
                    // Core is built on this runtime, so the ledger's worker and the pool's
                    // connections run on the server's threads.
                    let started = async {
                        let core = Contacto::builder(core_config)
                            .build()
                            .map_err(|e| e.to_string())?;
                        core.migrate().await.map_err(|e| e.to_string())?;
                        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                            .await
                            .map_err(|e| e.to_string())?;
                        Ok::<_, String>((core, listener))
                    };
                    let (core, listener) = match started.await {
                        Ok(started) => started,
                        Err(err) => {
                            let _ = ready_tx.send(Err(err));
                            return;
                        }
                    };
                    let address = listener.local_addr().map_err(|e| e.to_string());
                    let _ = ready_tx.send(address);
                    contacto_server::serve(listener, core, http, async move {
                        let _ = stop.await;
                    })
                    .await;
                });
            })?;
        self.thread = Some(thread);
        self.shutdown = Some(shutdown);
        self.address = ready.await.map_err(|_| "the server thread died")??;
        Ok(())
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The application database.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// The deposit webhooks' HMAC key.
    pub fn webhook_secret(&self) -> &str {
        &self.webhook_secret
    }

    /// The cluster, for pgbench.
    pub fn cluster(&self) -> &ManagedPostgres {
        &self.cluster
    }

    /// Where the request log is.
    pub fn log_path(&self) -> PathBuf {
        self.root.join("server.log")
    }

    /// Stops the server (letting in-flight requests finish), then the cluster, and removes its
    /// directory.
    ///
    /// # Errors
    ///
    /// When the cluster does not stop or the directory cannot be removed.
    pub fn stop(mut self) -> Result<(), BoxError> {
        self.stop_all()
    }

    fn stop_all(&mut self) -> Result<(), BoxError> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        drop(self.request_log.take());
        self.cluster.stop()?;
        if self.root.exists() {
            std::fs::remove_dir_all(&self.root)?;
        }
        Ok(())
    }
}

impl Drop for ManagedServer {
    fn drop(&mut self) {
        if let Err(err) = self.stop_all() {
            eprintln!("stopping the server and its cluster: {err}");
        }
    }
}

/// The server's request log, as `contacto-server` writes it in production (JSON lines at
/// `info`, through the same writer thread), into a file instead of stdout so that it costs what
/// it costs there without mixing with the harness's output. The guard writes what is left when
/// the server stops.
fn install_request_log(path: &std::path::Path) -> Result<WorkerGuard, BoxError> {
    let file = std::fs::File::create(path)?;
    Ok(contacto_server::logging::init_with_writer(
        "info,refinery_core=warn",
        LogFormat::Json,
        file,
    )?)
}
