//! `contacto-server backup` and `contacto-server restore`: logical backups of the database with
//! pg_dump, a manifest beside each, retention, an off-site hook, and restores that refuse to mix
//! a backup into existing data and end with reconciliation. `docs/OPERATIONS.md` says why
//! pg_dump's custom format, and how point-in-time recovery works instead.
//!
//! # Layout
//!
//! - this file: the two commands, step by step, and their errors;
//! - [`manifest`]: file names, the manifest, finding and verifying a backup;
//! - [`retention`]: the pure rule saying which backups to keep;
//! - [`postgres`]: running pg_dump, pg_restore and psql, with the connection in their environment;
//! - [`hook`]: the operator's command run after each backup.

pub mod hook;
pub mod manifest;
pub mod postgres;
pub mod retention;

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use contacto_core::Contacto;
use contacto_core::api::ReconciliationReport;
use serde::Serialize;
use time::OffsetDateTime;

use crate::config::ServerConfig;
use manifest::{FORMAT, MANIFEST_VERSION, Manifest};
use postgres::Programs;
use retention::Retention;

/// `contacto-server backup [--to DIR]`.
#[derive(Debug, Clone, clap::Args)]
pub struct BackupArgs {
    /// The directory to write the backup to; overrides CONTACTO_BACKUP_DIR. Retention prunes
    /// older backups there.
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,
}

/// `contacto-server restore BACKUP [--replace]`.
#[derive(Debug, Clone, clap::Args)]
pub struct RestoreArgs {
    /// A backup's manifest (`.json`) or archive (`.dump`), or a directory to restore its newest
    /// finished backup from.
    #[arg(value_name = "BACKUP")]
    pub backup: PathBuf,
    /// Restore into a database that is not empty: drop every schema in it, with everything in
    /// them, in the same transaction as the restore (a failed restore changes nothing).
    #[arg(long)]
    pub replace: bool,
}

/// Why a backup or a restore failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Neither `--to` nor `CONTACTO_BACKUP_DIR`.
    #[error("no backup directory: pass --to DIR or set CONTACTO_BACKUP_DIR")]
    NoDirectory,
    /// A file could not be read or written, or a program could not be run.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// A PostgreSQL program failed.
    #[error("`{program}` failed ({status}): {output}")]
    Program {
        /// The program.
        program: String,
        /// Its exit status.
        status: String,
        /// The end of what it printed.
        output: String,
    },
    /// The database URL does not parse (the message never repeats it).
    #[error("CONTACTO_DATABASE_URL: {0}")]
    Url(String),
    /// No such backup, or an unreadable manifest.
    #[error("{0}")]
    Manifest(String),
    /// The archive differs from its manifest.
    #[error(
        "{path} does not match its manifest ({detail}): the backup is damaged and was not \
         restored; restore another one"
    )]
    Damaged {
        /// The archive.
        path: PathBuf,
        /// What differs.
        detail: String,
    },
    /// The target database has data and `--replace` was not given.
    #[error(
        "the database is not empty ({0}), and restore never mixes a backup into existing data: \
         restore into an empty database, or pass --replace to drop its contents in the same \
         transaction as the restore. Nothing was written"
    )]
    NotEmpty(String),
    /// A migration ran while the backup was taken.
    #[error(
        "the schema changed from version {before} to {after} while the backup was taken; it was \
         discarded: run it again"
    )]
    SchemaChanged {
        /// Before pg_dump.
        before: SchemaVersion,
        /// After pg_dump.
        after: SchemaVersion,
    },
    /// The restored schema is not the one the manifest names.
    #[error("the restored database is at schema version {restored}, its manifest says {manifest}")]
    SchemaMismatch {
        /// Read from the restored database.
        restored: SchemaVersion,
        /// From the manifest.
        manifest: SchemaVersion,
    },
    /// The database did not answer.
    #[error("the database did not answer")]
    Unavailable,
    /// Core failed (reconciliation).
    #[error(transparent)]
    Core(#[from] contacto_core::Error),
    /// The hook failed; the backup itself is complete.
    #[error(
        "the backup hook {reason}; the backup itself is complete ({archive}), and no old backup \
         was deleted"
    )]
    Hook {
        /// What went wrong.
        reason: String,
        /// The finished backup.
        archive: PathBuf,
    },
    /// Reconciliation found discrepancies in the restored books.
    #[error("the restored books do not balance: see the report above")]
    Unbalanced,
}

/// A schema version as messages show it: the newest migration, or "none".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaVersion(pub Option<i64>);

impl std::fmt::Display for SchemaVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(version) => write!(f, "{version}"),
            None => f.write_str("none (unmigrated)"),
        }
    }
}

pub(crate) fn io_error(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
    let context = context.into();
    move |source| BackupError::Io { context, source }
}

/// Takes a backup of the database at `url` into `--to` or `CONTACTO_BACKUP_DIR`, runs the hook,
/// prunes old backups, and prints the manifest.
///
/// # Errors
///
/// [`BackupError`]; a failed backup leaves no file behind, a failed hook deletes nothing.
pub async fn backup(
    config: &ServerConfig,
    url: &str,
    core: &Contacto,
    args: &BackupArgs,
) -> Result<(), BackupError> {
    let dir = args
        .to
        .clone()
        .or_else(|| config.backup_dir.clone())
        .ok_or(BackupError::NoDirectory)?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(io_error(format!("creating {}", dir.display())))?;
    let env = postgres::connection_env(url)?;
    let programs = Programs::locate(config.pg_bin_dir.as_deref());

    let schema_version = SchemaVersion(read_schema_version(core).await?);
    let created_at = OffsetDateTime::now_utc();
    let stem = manifest::stem(created_at);
    let archive = dir.join(format!("{stem}.dump"));
    let manifest_path = dir.join(format!("{stem}.json"));
    if archive.exists() || manifest_path.exists() {
        return Err(io_error(format!("writing {}", archive.display()))(
            std::io::ErrorKind::AlreadyExists.into(),
        ));
    }
    let partial_path = dir.join(format!("{stem}.dump.partial"));
    let file = manifest::create_private(&partial_path)?;
    let partial = Partial::new(partial_path);
    let written = postgres::dump(&programs, &env, file, &partial.path).await?;
    let after = read_schema_version(core).await?;
    if after != schema_version.0 {
        return Err(BackupError::SchemaChanged {
            before: schema_version,
            after: SchemaVersion(after),
        });
    }
    let archive_info = postgres::describe_archive(&programs, &partial.path).await?;
    partial.keep_as(&archive)?;
    let manifest = Manifest {
        manifest_version: MANIFEST_VERSION,
        format: FORMAT.to_owned(),
        file: format!("{stem}.dump"),
        created_at,
        finished_at: OffsetDateTime::now_utc(),
        database: contacto_core::redacted_url(url),
        size_bytes: written.size_bytes,
        sha256: written.sha256,
        schema_version: schema_version.0,
        server_version: archive_info.server_version,
        pg_dump_version: archive_info.pg_dump_version,
        contacto_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    manifest::write(&manifest_path, &manifest)?;
    tracing::info!(
        archive = %archive.display(),
        size_bytes = manifest.size_bytes,
        sha256 = %manifest.sha256,
        schema_version = %schema_version,
        "backup written"
    );

    if let Some(hook) = &config.backup_hook {
        tracing::info!("running the backup hook");
        hook::run(hook, &archive, &manifest_path, &manifest.sha256)
            .await
            .map_err(|reason| BackupError::Hook {
                reason,
                archive: archive.clone(),
            })?;
        tracing::info!("backup hook finished");
    }
    prune(
        &dir,
        Retention {
            daily: config.backup_keep_daily,
            weekly: config.backup_keep_weekly,
        },
    )?;
    print_json(&manifest);
    Ok(())
}

/// Deletes the finished backups in `dir` that `retention` does not keep, and nothing else.
fn prune(dir: &Path, retention: Retention) -> Result<(), BackupError> {
    let stored = manifest::finished(dir)?;
    let created: Vec<OffsetDateTime> = stored.iter().map(|backup| backup.created_at).collect();
    let kept = retention::keep(&created, retention);
    for (i, backup) in stored.iter().enumerate() {
        if kept.contains(&i) {
            continue;
        }
        // The manifest first: a crash between the two leaves an archive nobody counts, never a
        // manifest promising an archive that is gone.
        std::fs::remove_file(&backup.manifest)
            .map_err(io_error(format!("deleting {}", backup.manifest.display())))?;
        match std::fs::remove_file(&backup.archive) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                return Err(io_error(format!("deleting {}", backup.archive.display()))(
                    err,
                ));
            }
            _ => {}
        }
        tracing::info!(archive = %backup.archive.display(), "old backup deleted");
    }
    Ok(())
}

/// What `restore` prints.
#[derive(Debug, Serialize)]
struct RestoreReport<'a> {
    restored: &'a Path,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    schema_version: Option<i64>,
    expected_schema_version: i64,
    /// `None` for an unmigrated database, which has no books to check.
    reconciliation: Option<ReconciliationReport>,
}

/// Verifies the backup `args` names, restores it into the database at `url` in one transaction,
/// then reconciles and prints the report.
///
/// # Errors
///
/// [`BackupError`]; [`BackupError::Unbalanced`] after a restore whose books do not balance.
pub async fn restore(
    config: &ServerConfig,
    url: &str,
    core: &Contacto,
    args: &RestoreArgs,
) -> Result<(), BackupError> {
    let (manifest, archive) = manifest::locate(&args.backup)?;
    let (to_verify, expected) = (archive.clone(), manifest.clone());
    tokio::task::spawn_blocking(move || manifest::verify(&to_verify, &expected))
        .await
        .map_err(|err| io_error("verifying the archive")(std::io::Error::other(err)))??;
    tracing::info!(
        archive = %archive.display(),
        created_at = %manifest.created_at,
        schema_version = %SchemaVersion(manifest.schema_version),
        "checksum verified; restoring"
    );
    let env = postgres::connection_env(url)?;
    let programs = Programs::locate(config.pg_bin_dir.as_deref());
    postgres::restore(&programs, &env, &archive, args.replace).await?;

    let readiness = core.readiness().await;
    if !readiness.database {
        return Err(BackupError::Unavailable);
    }
    if readiness.schema_version != manifest.schema_version {
        return Err(BackupError::SchemaMismatch {
            restored: SchemaVersion(readiness.schema_version),
            manifest: SchemaVersion(manifest.schema_version),
        });
    }
    tracing::info!("backup restored; reconciling");
    let reconciliation = match manifest.schema_version {
        Some(_) => Some(core.wallet().reconcile(None).await?),
        None => None,
    };
    let balanced = reconciliation.as_ref().is_none_or(|report| report.balanced);
    print_json(&RestoreReport {
        restored: &archive,
        created_at: manifest.created_at,
        schema_version: readiness.schema_version,
        expected_schema_version: readiness.expected_schema_version,
        reconciliation,
    });
    if readiness
        .schema_version
        .is_some_and(|v| v < readiness.expected_schema_version)
    {
        tracing::warn!(
            "the backup's schema is older than this build's: run `contacto-server migrate` \
             before serving"
        );
    }
    if balanced {
        Ok(())
    } else {
        Err(BackupError::Unbalanced)
    }
}

async fn read_schema_version(core: &Contacto) -> Result<Option<i64>, BackupError> {
    let readiness = core.readiness().await;
    if readiness.database {
        Ok(readiness.schema_version)
    } else {
        Err(BackupError::Unavailable)
    }
}

fn print_json(value: &impl Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(err) => tracing::error!(error = %err, "encoding the report"),
    }
}

/// An archive this run created and is writing: deleted when dropped (a failure, an interruption),
/// unless kept under its final name.
struct Partial {
    path: PathBuf,
    kept: bool,
}

impl Partial {
    fn new(path: PathBuf) -> Self {
        Self { path, kept: false }
    }

    fn keep_as(mut self, path: &Path) -> Result<(), BackupError> {
        manifest::rename_durably(&self.path, path)?;
        self.kept = true;
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
