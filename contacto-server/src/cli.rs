//! The `contacto-server` command: `serve` (the default), `migrate`, `create-admin`,
//! `top-statements`, and more.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use contacto_core::{Config, Contacto};
use tokio::net::TcpListener;

use crate::config::ServerConfig;
use crate::database::{Database, jwt_secret};

/// Errors of the command, reported on stderr.
pub type CliError = Box<dyn std::error::Error + Send + Sync>;

/// The environment variable an administrator's password may come from (never the command line,
/// where other users of the machine can read it).
pub const ADMIN_PASSWORD_VAR: &str = "CONTACTO_ADMIN_PASSWORD";

/// `contacto-server [--config FILE] [--listen ADDR] [COMMAND]`
#[derive(Debug, Parser)]
#[command(name = "contacto-server", version, about = "Contacto's API server")]
pub struct Cli {
    /// A TOML configuration file (keys as in the README's configuration table).
    #[arg(long, env = "CONTACTO_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// The address to listen on; overrides CONTACTO_LISTEN.
    #[arg(long, global = true)]
    pub listen: Option<SocketAddr>,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (migrating first unless CONTACTO_MIGRATE_ON_START=false).
    Serve,
    /// Apply pending migrations and exit (one instance applies, others wait; all or nothing).
    Migrate {
        /// List the migrations that would be applied, and apply none.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the statements that took the most database time (pg_stat_statements).
    TopStatements {
        /// How many statements (1 to 100).
        #[arg(
            long,
            default_value_t = contacto_core::api::DEFAULT_STATEMENTS_LIMIT,
            value_parser = clap::value_parser!(i64).range(1..=contacto_core::api::MAX_STATEMENTS_LIMIT)
        )]
        limit: i64,
        /// Print the report as JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Then forget this database's totals, so the next report covers what runs from now on.
        #[arg(long)]
        reset: bool,
    },
    /// Check the books (every transaction sums to zero, balances equal their entries, each
    /// currency balances); prints the report as JSON and exits non-zero on any discrepancy.
    Reconcile,
    /// Print the OpenAPI 3.1 document (or write it to --out); needs no database.
    ExportOpenapi {
        /// Where to write it; stdout when omitted.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the Postman v2.1 collection (or write it to --out); needs no database.
    ExportPostman {
        /// Where to write it; stdout when omitted.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The collection's default `baseUrl`.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        base_url: String,
    },
    /// Write a backup (pg_dump custom format and a manifest) to --to or CONTACTO_BACKUP_DIR, run
    /// CONTACTO_BACKUP_HOOK, then delete backups the retention policy no longer keeps.
    Backup(crate::backup::BackupArgs),
    /// Restore a backup into an empty database (or, with --replace, over a non-empty one) in one
    /// transaction, then reconcile; exits non-zero when the books do not balance.
    Restore(crate::backup::RestoreArgs),
    /// Create an administrator; the password comes from CONTACTO_ADMIN_PASSWORD or stdin.
    CreateAdmin {
        /// The administrator's email.
        #[arg(long)]
        email: String,
        /// The administrator's name.
        #[arg(long)]
        full_name: String,
    },
}

/// Runs the command.
///
/// # Errors
///
/// Configuration, database and start-up failures, with what to do about them.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    match &cli.command {
        Some(Command::ExportOpenapi { out }) => {
            return export(out.as_deref(), &crate::openapi::document());
        }
        Some(Command::ExportPostman { out, base_url }) => {
            let collection = crate::postman::collection(&crate::openapi::document(), base_url);
            return export(out.as_deref(), &collection);
        }
        _ => {}
    }
    let mut config = ServerConfig::load(cli.config.as_deref())?;
    if let Some(listen) = cli.listen {
        config.listen = listen;
    }
    // Kept to the end: dropping it writes the lines still buffered.
    let _log = crate::logging::init(&config)?;
    // Listening from the start: a signal during start-up or migration must still stop the managed
    // cluster on the way out, not kill the process and leave it running.
    let shutdown = ShutdownSignal::install()?;
    let command = cli.command.unwrap_or(Command::Serve);
    // The password is read before the database starts, so a typo costs nothing.
    let admin_password = match &command {
        Command::CreateAdmin { .. } => Some(read_admin_password()?),
        _ => None,
    };
    let database = Database::open(&config).await?;
    tracing::info!(database = %database.describe(), "database");
    let outcome = run_with_database(&config, &database, command, admin_password, shutdown).await;
    database.close().await;
    outcome
}

async fn run_with_database(
    config: &ServerConfig,
    database: &Database,
    command: Command,
    admin_password: Option<String>,
    shutdown: ShutdownSignal,
) -> Result<(), CliError> {
    let core = Contacto::builder(Config {
        database: config.database(database.url()),
        auth: config.auth(jwt_secret(config)?),
        wallet: config.wallet(),
    })
    .build()?;
    for replica in core.replicas() {
        tracing::info!(replica = %replica.name, "read replica configured");
    }
    match command {
        Command::ExportOpenapi { .. } | Command::ExportPostman { .. } => Ok(()),
        Command::Reconcile => {
            let report = shutdown
                .unless_interrupted(core.wallet().reconcile(None))
                .await??;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if report.balanced {
                Ok(())
            } else {
                Err("the books do not balance: see the report above".into())
            }
        }
        Command::Migrate { dry_run: false } => shutdown.unless_interrupted(migrate(&core)).await?,
        Command::Migrate { dry_run: true } => {
            let pending = shutdown
                .unless_interrupted(core.pending_migrations())
                .await?
                .map_err(|err| crate::error::error_chain(&err))?;
            match pending.len() {
                0 => println!("no migration would be applied: the schema is up to date"),
                n => println!("{n} migration(s) would be applied (dry run: none was):"),
            }
            for (version, name) in &pending {
                println!("  V{version}__{name}");
            }
            Ok(())
        }
        Command::TopStatements { limit, json, reset } => {
            let report = shutdown
                .unless_interrupted(core.top_statements(None, Some(limit)))
                .await??;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", crate::statements::table(&report));
            }
            if reset {
                shutdown
                    .unless_interrupted(core.reset_statements())
                    .await??;
                tracing::info!("statement statistics of this database reset");
            }
            Ok(())
        }
        Command::Backup(args) => {
            let backup = crate::backup::backup(config, database.url(), &core, &args);
            Ok(shutdown.unless_interrupted(backup).await??)
        }
        Command::Restore(args) => {
            let restore = crate::backup::restore(config, database.url(), &core, &args);
            Ok(shutdown.unless_interrupted(restore).await??)
        }
        Command::CreateAdmin { email, full_name } => {
            if config.migrate_on_start {
                shutdown.unless_interrupted(migrate(&core)).await??;
            }
            let password = admin_password.unwrap_or_default();
            let identity = core.identity();
            let created = identity.create_admin(&email, &password, &full_name);
            let admin = shutdown.unless_interrupted(created).await??;
            tracing::info!(user_id = %admin.id, "administrator created");
            Ok(())
        }
        Command::Serve => {
            if config.migrate_on_start {
                shutdown.unless_interrupted(migrate(&core)).await??;
            }
            crate::statements::log_slow_query_threshold(&core, config).await;
            let listener = TcpListener::bind(config.listen)
                .await
                .map_err(|err| format!("listening on {}: {err}", config.listen))?;
            let address = listener.local_addr()?;
            tracing::info!(address = %format!("http://{address}"), environment = ?config.environment, "listening");
            let maintenance = tokio::spawn(maintenance(core.clone()));
            let rebuild = tokio::spawn(rebuild_search_text(core.clone()));
            crate::serve(listener, core, config.http(), shutdown.received()).await;
            maintenance.abort();
            rebuild.abort();
            Ok(())
        }
    }
}

fn export(out: Option<&std::path::Path>, document: &serde_json::Value) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(document)? + "\n";
    match out {
        Some(path) => std::fs::write(path, text)
            .map_err(|err| format!("writing {}: {err}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(())
}

async fn migrate(core: &Contacto) -> Result<(), CliError> {
    // The whole chain: a failed migration's cause (the SQL error) is what the operator needs.
    let report = core
        .migrate()
        .await
        .map_err(|err| crate::error::error_chain(&err))?;
    if report.applied.is_empty() {
        tracing::info!("database schema is up to date");
    }
    for (version, name) in &report.applied {
        tracing::info!(version, name = %name, "migration applied");
    }
    Ok(())
}

fn read_admin_password() -> Result<String, CliError> {
    if let Ok(password) = std::env::var(ADMIN_PASSWORD_VAR) {
        return Ok(password);
    }
    eprintln!("administrator password (one line on stdin):");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Housekeeping while serving: expired holds are released every few seconds; expired
/// login-throttling records and idempotency keys are deleted every few minutes.
async fn maintenance(core: Contacto) {
    /// Holds lapse within this long of their deadline.
    const HOLD_SWEEP: std::time::Duration = std::time::Duration::from_secs(15);
    /// Often enough that the tables stay small, rarely enough to cost nothing.
    const PURGE_EVERY_SWEEPS: u32 = 20;
    let mut ticker = tokio::time::interval(HOLD_SWEEP);
    let mut sweeps = 0u32;
    loop {
        ticker.tick().await;
        match core.wallet().expire_holds().await {
            Ok(0) => {}
            Ok(released) => tracing::info!(released, "expired holds released"),
            Err(err) => tracing::warn!(error = %err, "releasing expired holds"),
        }
        sweeps += 1;
        if !sweeps.is_multiple_of(PURGE_EVERY_SWEEPS) {
            continue;
        }
        if let Err(err) = core.identity().purge_expired_throttling().await {
            tracing::warn!(error = %err, "purging login throttling");
        }
        if let Err(err) = core.wallet().purge_idempotency_keys().await {
            tracing::warn!(error = %err, "purging idempotency keys");
        }
    }
}

/// Rebuilds search vectors stored in an older format (migration V10) until none is left;
/// searches are right meanwhile, only slower. Gives up for this run on an error (the next start
/// resumes).
async fn rebuild_search_text(core: Contacto) {
    /// Profiles per transaction.
    const BATCH: i64 = 200;
    match core.directory().rebuild_all_search_text(BATCH).await {
        Ok(0) => {}
        Ok(rebuilt) => tracing::info!(rebuilt, "search vectors rebuilt in the current format"),
        Err(err) => tracing::warn!(error = %err, "rebuilding search vectors"),
    }
}

/// SIGINT or SIGTERM, listened for from start-up on; clones share the one signal.
#[derive(Clone)]
struct ShutdownSignal {
    received: tokio::sync::watch::Receiver<bool>,
}

impl ShutdownSignal {
    fn install() -> Result<Self, CliError> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let (sender, received) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            tracing::info!("shutdown signal received");
            let _ = sender.send(true);
        });
        Ok(Self { received })
    }

    /// Runs `work` unless a signal arrives first.
    async fn unless_interrupted<T>(&self, work: impl Future<Output = T>) -> Result<T, CliError> {
        tokio::select! {
            output = work => Ok(output),
            () = self.received() => Err("interrupted by a signal".into()),
        }
    }

    /// Completes once a signal has arrived (at once if one already has).
    async fn received(&self) {
        let mut received = self.received.clone();
        let _ = received.wait_for(|got| *got).await;
    }
}
