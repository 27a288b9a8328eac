//! A backup on disk: `contacto-<UTC time>.dump`, the pg_dump archive, and
//! `contacto-<UTC time>.json`, its manifest. Both are written under a `.partial` name and renamed
//! when complete, the manifest last: a backup is finished when its manifest exists, and only
//! finished backups are restored, counted by retention, or deleted by it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

use super::{BackupError, io_error};

/// The manifest's own version, raised when a field changes meaning.
pub const MANIFEST_VERSION: u32 = 1;

/// The archive's format, as the manifest names it.
pub const FORMAT: &str = "pg_dump-custom";

/// Every file name starts with this.
const PREFIX: &str = "contacto-";

/// The creation time in file names: UTC, to the second, sorting as it reads.
const STAMP: &[BorrowedFormatItem<'_>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

/// Read size while hashing: large enough that system calls cost nothing next to the hash.
const CHUNK_BYTES: usize = 256 * 1024;

/// What a backup is, written next to its archive as pretty JSON. Never holds a password: the
/// database is named as `user@host:port/database`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_VERSION`].
    pub manifest_version: u32,
    /// [`FORMAT`].
    pub format: String,
    /// The archive's file name, in the manifest's directory.
    pub file: String,
    /// When the backup started: every transaction committed before this is in it.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the archive was complete.
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    /// The database backed up, without credentials.
    pub database: String,
    /// The archive's size.
    pub size_bytes: u64,
    /// The archive's SHA-256, lower-case hex.
    pub sha256: String,
    /// The newest migration applied to the database; `None` for an unmigrated database.
    pub schema_version: Option<i64>,
    /// The PostgreSQL server's version, as the archive records it.
    pub server_version: String,
    /// The version of the pg_dump that wrote the archive.
    pub pg_dump_version: String,
    /// The version of `contacto-server` that took the backup.
    pub contacto_version: String,
}

/// A finished backup found in a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// From the file name.
    pub created_at: OffsetDateTime,
    /// The manifest's path.
    pub manifest: PathBuf,
    /// The archive's path.
    pub archive: PathBuf,
}

/// `contacto-20250310T020000Z`: the name of a backup created at `at`, without extension.
pub fn stem(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    // The format has no fallible component for a valid date; an error would be a bug in STAMP.
    let stamp = utc
        .format(STAMP)
        .unwrap_or_else(|_| utc.unix_timestamp().to_string());
    format!("{PREFIX}{stamp}")
}

/// The creation time of the backup whose manifest is called `file_name`, if it is one of ours.
fn manifest_created_at(file_name: &str) -> Option<OffsetDateTime> {
    let stamp = file_name.strip_prefix(PREFIX)?.strip_suffix(".json")?;
    let at = time::PrimitiveDateTime::parse(stamp, STAMP).ok()?;
    Some(at.assume_utc())
}

/// The finished backups in `dir`, oldest first. Other files are ignored.
///
/// # Errors
///
/// When the directory cannot be read.
pub fn finished(dir: &Path) -> Result<Vec<Stored>, BackupError> {
    let entries = std::fs::read_dir(dir).map_err(io_error(format!("reading {}", dir.display())))?;
    let mut stored = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io_error(format!("reading {}", dir.display())))?;
        let name = entry.file_name();
        let Some(created_at) = name.to_str().and_then(manifest_created_at) else {
            continue;
        };
        stored.push(Stored {
            created_at,
            manifest: entry.path(),
            archive: dir.join(format!("{}.dump", stem(created_at))),
        });
    }
    stored.sort_by_key(|s| s.created_at);
    Ok(stored)
}

/// Creates `path` for writing, readable by its owner only (backups hold password hashes and
/// personal data), failing if it exists.
///
/// # Errors
///
/// When the file exists or cannot be created.
pub fn create_private(path: &Path) -> Result<File, BackupError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io_error(format!("creating {}", path.display())))
}

/// Writes the manifest to `path` (under a `.partial` name first, so it appears complete or not
/// at all) and makes the rename durable.
///
/// # Errors
///
/// When writing fails.
pub fn write(path: &Path, manifest: &Manifest) -> Result<(), BackupError> {
    let partial = path.with_extension("json.partial");
    let mut text = serde_json::to_vec_pretty(manifest)
        .map_err(|err| BackupError::Manifest(format!("encoding the manifest: {err}")))?;
    text.push(b'\n');
    let mut file = create_private(&partial)?;
    let written = file.write_all(&text).and_then(|()| file.sync_all());
    if let Err(err) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(io_error(format!("writing {}", partial.display()))(err));
    }
    rename_durably(&partial, path)
}

/// Renames `from` to `to` and syncs the directory, so the rename survives a crash.
///
/// # Errors
///
/// When renaming or syncing fails.
pub fn rename_durably(from: &Path, to: &Path) -> Result<(), BackupError> {
    std::fs::rename(from, to).map_err(io_error(format!(
        "renaming {} to {}",
        from.display(),
        to.display()
    )))?;
    if let Some(dir) = to.parent() {
        File::open(dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io_error(format!("syncing {}", dir.display())))?;
    }
    Ok(())
}

/// The backup `path` names: a manifest (`.json`), an archive (`.dump`, its manifest beside it),
/// or a directory, meaning its newest finished backup. Returns the manifest and the archive's
/// path.
///
/// # Errors
///
/// [`BackupError::Manifest`] when there is no such backup or its manifest is unreadable.
pub fn locate(path: &Path) -> Result<(Manifest, PathBuf), BackupError> {
    let manifest_path = if path.is_dir() {
        finished(path)?
            .pop()
            .map(|newest| newest.manifest)
            .ok_or_else(|| {
                BackupError::Manifest(format!("{} holds no finished backup", path.display()))
            })?
    } else if path.extension().is_some_and(|ext| ext == "dump") {
        path.with_extension("json")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read(&manifest_path).map_err(|err| {
        BackupError::Manifest(format!(
            "reading the manifest {}: {err}",
            manifest_path.display()
        ))
    })?;
    let manifest: Manifest = serde_json::from_slice(&text).map_err(|err| {
        BackupError::Manifest(format!(
            "{} is not a manifest: {err}",
            manifest_path.display()
        ))
    })?;
    if manifest.format != FORMAT {
        return Err(BackupError::Manifest(format!(
            "{} describes a `{}` backup; this version restores `{FORMAT}`",
            manifest_path.display(),
            manifest.format
        )));
    }
    // The archive must sit beside its manifest: a manifest cannot point anywhere else on disk.
    if Path::new(&manifest.file).file_name() != Some(std::ffi::OsStr::new(&manifest.file)) {
        return Err(BackupError::Manifest(format!(
            "{} names {:?}, which is not a file name",
            manifest_path.display(),
            manifest.file
        )));
    }
    let archive = manifest_path
        .parent()
        .unwrap_or(Path::new("."))
        .join(&manifest.file);
    Ok((manifest, archive))
}

/// Checks the archive's size and SHA-256 against its manifest.
///
/// # Errors
///
/// [`BackupError::Damaged`] on any difference, [`BackupError::Io`] when it cannot be read.
pub fn verify(archive: &Path, manifest: &Manifest) -> Result<(), BackupError> {
    let file = File::open(archive).map_err(io_error(format!("opening {}", archive.display())))?;
    let (size_bytes, sha256) =
        hash(file).map_err(io_error(format!("reading {}", archive.display())))?;
    let damaged = |detail: String| BackupError::Damaged {
        path: archive.to_path_buf(),
        detail,
    };
    if size_bytes != manifest.size_bytes {
        return Err(damaged(format!(
            "{size_bytes} bytes, the manifest says {}",
            manifest.size_bytes
        )));
    }
    if sha256 != manifest.sha256 {
        return Err(damaged(format!(
            "SHA-256 {sha256}, the manifest says {}",
            manifest.sha256
        )));
    }
    Ok(())
}

/// The size and SHA-256 of everything `reader` yields.
fn hash(mut reader: impl Read) -> std::io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buffer = vec![0u8; CHUNK_BYTES];
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        size += read as u64;
    }
    Ok((size, hex(&hasher.finalize())))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn names_carry_the_utc_time_and_parse_back() {
        let at = datetime!(2025-03-10 03:04:05.678 +01:00);
        assert_eq!(stem(at), "contacto-20250310T020405Z");
        assert_eq!(
            manifest_created_at("contacto-20250310T020405Z.json"),
            Some(datetime!(2025-03-10 02:04:05 UTC))
        );
        for other in [
            "contacto-20250310T020405Z.dump",
            "contacto-20250310T020405Z.json.partial",
            "contacto-latest.json",
            "notes.json",
        ] {
            assert_eq!(manifest_created_at(other), None, "{other}");
        }
    }

    #[test]
    fn hashes_are_sha256_in_lower_case_hex() {
        let (size, sha) = hash(&b"abc"[..]).unwrap();
        assert_eq!(size, 3);
        assert_eq!(
            sha,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
