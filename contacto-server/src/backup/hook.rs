//! The backup hook (`CONTACTO_BACKUP_HOOK`): an operator's shell command run after each finished
//! backup, typically to copy it off-site.
//!
//! It runs as `sh -c "$CONTACTO_BACKUP_HOOK" contacto-backup-hook ARCHIVE MANIFEST`, so `$1` is
//! the archive and `$2` the manifest, which `CONTACTO_BACKUP_FILE` and `CONTACTO_BACKUP_MANIFEST`
//! also name, with `CONTACTO_BACKUP_SHA256` the archive's checksum. Its output goes where
//! Contacto's does. The command itself is never logged (it may hold a storage credential), and
//! it does not inherit Contacto's own secrets.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// The longest a hook may run: long enough to copy a large archive over a slow link, short enough
/// that a hung upload is noticed the same day.
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(3600);

/// Variables the hook never sees: Contacto's secrets, and libpq's password.
const WITHHELD: &[&str] = &[
    "CONTACTO_DATABASE_URL",
    "CONTACTO_JWT_SECRET",
    "CONTACTO_WEBHOOK_SECRET",
    "CONTACTO_ADMIN_PASSWORD",
    "CONTACTO_BACKUP_HOOK",
    "PGPASSWORD",
];

/// Runs the hook for the backup at `archive` and `manifest`.
///
/// # Errors
///
/// What went wrong, fit to follow "the backup hook": it failed with a status, could not start, or
/// ran past [`HOOK_TIMEOUT`] and was stopped.
pub async fn run(
    hook: &SecretString,
    archive: &Path,
    manifest: &Path,
    sha256: &str,
) -> Result<(), String> {
    let mut command = tokio::process::Command::new("sh");
    command
        .arg("-c")
        .arg(hook.expose_secret())
        .arg("contacto-backup-hook")
        .arg(archive)
        .arg(manifest)
        .env("CONTACTO_BACKUP_FILE", archive)
        .env("CONTACTO_BACKUP_MANIFEST", manifest)
        .env("CONTACTO_BACKUP_SHA256", sha256)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for variable in WITHHELD {
        command.env_remove(variable);
    }
    let mut child = command
        .spawn()
        .map_err(|err| format!("could not start (sh: {err})"))?;
    match tokio::time::timeout(HOOK_TIMEOUT, child.wait()).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(format!("failed ({status})")),
        Ok(Err(err)) => Err(format!("could not be waited for ({err})")),
        Err(_) => {
            let _ = child.kill().await;
            Err(format!(
                "ran longer than {} minutes and was stopped",
                HOOK_TIMEOUT.as_secs() / 60
            ))
        }
    }
}
