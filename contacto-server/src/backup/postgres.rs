//! PostgreSQL's client programs, run for backups and restores: `pg_dump` writes the archive,
//! `pg_restore` turns it back into SQL, `psql` runs that SQL in one transaction.
//!
//! The connection reaches them as libpq environment variables (`PGHOST`, `PGPASSWORD`, ...),
//! never as arguments, which every user of the machine can read in `ps`.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};

use contacto_core::managed::PgBinaries;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use tokio_postgres::config::{ChannelBinding, Host, LoadBalanceHosts, SslMode, TargetSessionAttrs};

use super::manifest::hex;
use super::{BackupError, io_error};

/// How long pg_dump waits for a table lock before giving up. A lock request that waits queues
/// every later query on that table behind it; a failed backup, retried tomorrow, is better than a
/// stalled API.
const LOCK_WAIT_TIMEOUT: &str = "30s";

/// Bytes read from pg_dump per write: large enough that system calls cost nothing next to
/// hashing, small enough to be nothing in memory.
const CHUNK_BYTES: usize = 256 * 1024;

/// What the output of a failed program is cut to, in characters: its last lines say why.
const MAX_OUTPUT_CHARS: usize = 4000;

/// The marker of the refusal the restore's first statement raises on a database that is not
/// empty; `{detail}` in [`BackupError::NotEmpty`] is the rest of that line.
const NOT_EMPTY_MARKER: &str = "contacto-restore: not empty:";

/// Runs first, in the restore's transaction: refuses a database that has relations of its own
/// (tables, views, sequences, indexes; not those of an extension), so a backup is never mixed
/// into existing data.
const REFUSE_NOT_EMPTY: &str = r#"
DO $guard$
DECLARE
    relations bigint;
BEGIN
    SELECT count(*) INTO relations
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e');
    IF relations > 0 THEN
        RAISE EXCEPTION 'contacto-restore: not empty: % tables, views, sequences or indexes', relations;
    END IF;
END
$guard$;
"#;

/// `--replace`: runs first, in the restore's transaction: drops every schema but PostgreSQL's own,
/// with everything in them (extensions installed there included), and re-creates an empty
/// `public`, which the archive expects to exist.
const DROP_EVERYTHING: &str = r#"
SET client_min_messages = warning;
DO $replace$
DECLARE
    schema_name name;
BEGIN
    FOR schema_name IN
        SELECT nspname FROM pg_namespace
        WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\_%'
    LOOP
        EXECUTE format('DROP SCHEMA %I CASCADE', schema_name);
    END LOOP;
END
$replace$;
CREATE SCHEMA public;
"#;

/// Where the programs are: `CONTACTO_PG_BIN_DIR`, else beside the server programs Contacto finds
/// for its managed cluster, else `PATH`.
#[derive(Debug, Clone)]
pub struct Programs {
    bin_dir: Option<PathBuf>,
}

impl Programs {
    /// Finds the directory (see the type's documentation).
    pub fn locate(explicit: Option<&Path>) -> Self {
        let bin_dir = match explicit {
            Some(dir) => Some(dir.to_path_buf()),
            None => PgBinaries::locate(None)
                .ok()
                .map(|bins| bins.bin_dir().to_path_buf())
                .filter(|dir| dir.join("pg_dump").is_file()),
        };
        Self { bin_dir }
    }

    fn command(&self, name: &str) -> Command {
        let program = match &self.bin_dir {
            Some(dir) => dir.join(name),
            None => PathBuf::from(name),
        };
        let mut command = Command::new(program);
        // An interrupted backup or restore stops its programs: an abandoned psql would otherwise
        // commit whatever it had read.
        command.stdin(Stdio::null()).kill_on_drop(true);
        command
    }

    fn spawn(&self, name: &str, mut command: Command) -> Result<Child, BackupError> {
        command.spawn().map_err(|err| {
            if err.kind() == std::io::ErrorKind::NotFound {
                BackupError::Io {
                    context: format!(
                        "{name} was not found{}: install PostgreSQL's client programs (the \
                         server's major version or newer) or set CONTACTO_PG_BIN_DIR",
                        self.bin_dir
                            .as_ref()
                            .map(|dir| format!(" in {}", dir.display()))
                            .unwrap_or_default()
                    ),
                    source: err,
                }
            } else {
                io_error(format!("running {name}"))(err)
            }
        })
    }
}

/// The libpq environment that connects to `url` exactly as core does, password included. Settings
/// the URL leaves at their default are not set, so an operator's own `PGSSLMODE` and friends still
/// apply.
///
/// # Errors
///
/// [`BackupError::Url`] when the URL does not parse; the message never contains it.
pub fn connection_env(url: &str) -> Result<Vec<(&'static str, String)>, BackupError> {
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|err| BackupError::Url(format!("{err}")))?;
    let mut env = Vec::new();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    if !hosts.is_empty() {
        env.push(("PGHOST", hosts.join(",")));
    }
    let addrs: Vec<String> = config
        .get_hostaddrs()
        .iter()
        .map(ToString::to_string)
        .collect();
    if !addrs.is_empty() {
        env.push(("PGHOSTADDR", addrs.join(",")));
    }
    let ports: Vec<String> = config.get_ports().iter().map(ToString::to_string).collect();
    if !ports.is_empty() {
        env.push(("PGPORT", ports.join(",")));
    }
    if let Some(user) = config.get_user() {
        env.push(("PGUSER", user.to_owned()));
    }
    // Core's default database is the user's name, as libpq's is; set it anyway, so an inherited
    // PGDATABASE cannot point the backup at another database.
    if let Some(dbname) = config.get_dbname().or(config.get_user()) {
        env.push(("PGDATABASE", dbname.to_owned()));
    }
    if let Some(password) = config.get_password() {
        let password = String::from_utf8(password.to_vec())
            .map_err(|_| BackupError::Url("the password is not UTF-8".to_owned()))?;
        env.push(("PGPASSWORD", password));
    }
    if let Some(options) = config.get_options() {
        env.push(("PGOPTIONS", options.to_owned()));
    }
    if let Some(name) = config.get_application_name() {
        env.push(("PGAPPNAME", name.to_owned()));
    }
    if let Some(timeout) = config.get_connect_timeout() {
        // Whole seconds, rounded up: libpq's unit.
        let secs = timeout.as_millis().div_ceil(1000).max(1);
        env.push(("PGCONNECT_TIMEOUT", secs.to_string()));
    }
    match config.get_ssl_mode() {
        SslMode::Disable => env.push(("PGSSLMODE", "disable".to_owned())),
        SslMode::Require => env.push(("PGSSLMODE", "require".to_owned())),
        _ => {}
    }
    match config.get_channel_binding() {
        ChannelBinding::Disable => env.push(("PGCHANNELBINDING", "disable".to_owned())),
        ChannelBinding::Require => env.push(("PGCHANNELBINDING", "require".to_owned())),
        _ => {}
    }
    match config.get_target_session_attrs() {
        TargetSessionAttrs::ReadWrite => {
            env.push(("PGTARGETSESSIONATTRS", "read-write".to_owned()));
        }
        TargetSessionAttrs::ReadOnly => {
            env.push(("PGTARGETSESSIONATTRS", "read-only".to_owned()));
        }
        _ => {}
    }
    if config.get_load_balance_hosts() == LoadBalanceHosts::Random {
        env.push(("PGLOADBALANCEHOSTS", "random".to_owned()));
    }
    Ok(env)
}

/// What pg_dump wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Bytes.
    pub size_bytes: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

/// Runs pg_dump (custom format, one consistent snapshot) into `file`, created at `out`, hashing
/// it on the way, and syncs it.
///
/// # Errors
///
/// When pg_dump fails (its message included) or the file cannot be written.
pub async fn dump(
    programs: &Programs,
    env: &[(&'static str, String)],
    mut file: std::fs::File,
    out: &Path,
) -> Result<Written, BackupError> {
    let mut command = programs.command("pg_dump");
    command
        .args([
            "--format=custom",
            "--no-password",
            &format!("--lock-wait-timeout={LOCK_WAIT_TIMEOUT}"),
        ])
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = programs.spawn("pg_dump", command)?;
    let stderr = collect(child.stderr.take());
    let mut archive = child.stdout.take().ok_or_else(|| BackupError::Io {
        context: "reading pg_dump's output".to_owned(),
        source: std::io::Error::other("no pipe"),
    })?;
    let mut hasher = Sha256::new();
    let mut size_bytes = 0u64;
    let mut buffer = vec![0u8; CHUNK_BYTES];
    let context = format!("writing {}", out.display());
    loop {
        let read = archive
            .read(&mut buffer)
            .await
            .map_err(io_error("reading pg_dump's output"))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        std::io::Write::write_all(&mut file, &buffer[..read]).map_err(io_error(&context))?;
        size_bytes += read as u64;
    }
    let status = child.wait().await.map_err(io_error("running pg_dump"))?;
    let stderr = stderr.await;
    if !status.success() {
        return Err(failed("pg_dump", status, &stderr));
    }
    file.sync_all().map_err(io_error(&context))?;
    Ok(Written {
        size_bytes,
        sha256: hex(&hasher.finalize()),
    })
}

/// What an archive's header says about where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveInfo {
    /// "Dumped from database version".
    pub server_version: String,
    /// "Dumped by pg_dump version".
    pub pg_dump_version: String,
}

/// Reads the archive's table of contents with `pg_restore --list`: proof that it is a complete
/// archive pg_restore can read, and the versions it records.
///
/// # Errors
///
/// When pg_restore cannot read it.
pub async fn describe_archive(
    programs: &Programs,
    archive: &Path,
) -> Result<ArchiveInfo, BackupError> {
    let mut command = programs.command("pg_restore");
    command
        .arg("--list")
        .arg(archive)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = programs
        .spawn("pg_restore", command)?
        .wait_with_output()
        .await
        .map_err(io_error("running pg_restore --list"))?;
    if !output.status.success() {
        return Err(failed("pg_restore --list", output.status, &output.stderr));
    }
    let list = String::from_utf8_lossy(&output.stdout);
    let header = |key: &str| {
        list.lines()
            .find_map(|line| {
                line.split_once(key)
                    .map(|(_, value)| value.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned())
    };
    Ok(ArchiveInfo {
        server_version: header("Dumped from database version:"),
        pg_dump_version: header("Dumped by pg_dump version:"),
    })
}

/// Restores `archive` into the database in one transaction: `pg_restore` writes the SQL, `psql`
/// runs it after a first statement that refuses a database that is not empty or, with
/// `replace`, empties it. The transaction commits only when pg_restore has written everything
/// and every statement succeeded; otherwise psql is stopped mid-transaction and PostgreSQL rolls
/// it back, leaving the database as it was.
///
/// # Errors
///
/// [`BackupError::NotEmpty`], or the failing program and its message.
pub async fn restore(
    programs: &Programs,
    env: &[(&'static str, String)],
    archive: &Path,
    replace: bool,
) -> Result<(), BackupError> {
    let mut reader = programs.command("pg_restore");
    // Objects belong to the user restoring (the one Contacto connects as), whoever owned them
    // where the backup was taken.
    reader
        .arg("--file=-")
        .arg("--no-owner")
        .arg(archive)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut reader = programs.spawn("pg_restore", reader)?;
    let reader_stderr = collect(reader.stderr.take());
    let mut psql = programs.command("psql");
    psql.args([
        "--no-psqlrc",
        "--quiet",
        "--no-password",
        "--set=ON_ERROR_STOP=1",
        "--single-transaction",
        "--command",
        if replace {
            DROP_EVERYTHING
        } else {
            REFUSE_NOT_EMPTY
        },
        "--file=-",
    ])
    .envs(env.iter().map(|(k, v)| (*k, v)))
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    let mut psql = programs.spawn("psql", psql)?;
    let psql_stderr = collect(psql.stderr.take());

    let copied = match (reader.stdout.take(), psql.stdin.take()) {
        (Some(mut sql), Some(mut input)) => {
            // psql commits when its input ends: it ends only after all of pg_restore's output,
            // and `input` is dropped (closed) only once pg_restore has succeeded, below.
            let copied = tokio::io::copy(&mut sql, &mut input).await;
            drop(sql);
            copied.map(|_| input)
        }
        _ => Err(std::io::Error::other("no pipe")),
    };
    let reader_status = reader
        .wait()
        .await
        .map_err(io_error("running pg_restore"))?;
    let reader_stderr = reader_stderr.await;
    let fed = match copied {
        Ok(input) if reader_status.success() => {
            drop(input);
            Ok(())
        }
        Ok(_) => Err(failed("pg_restore", reader_status, &reader_stderr)),
        Err(err) => Err(io_error("feeding pg_restore's output to psql")(err)),
    };
    if fed.is_err() {
        // Killing psql drops its connection, and PostgreSQL rolls the transaction back.
        let _ = psql.start_kill();
    }
    let psql_status = psql.wait().await.map_err(io_error("running psql"))?;
    let psql_stderr = psql_stderr.await;
    let text = String::from_utf8_lossy(&psql_stderr);
    if let Some((_, detail)) = text
        .lines()
        .find_map(|line| line.split_once(NOT_EMPTY_MARKER))
    {
        return Err(BackupError::NotEmpty(detail.trim().to_owned()));
    }
    // psql that stopped by itself (an exit code, not our signal) says why better than the
    // pg_restore whose pipe it closed.
    if !psql_status.success() && psql_status.code().is_some() {
        return Err(failed("psql", psql_status, &psql_stderr));
    }
    fed?;
    if !psql_status.success() {
        return Err(failed("psql", psql_status, &psql_stderr));
    }
    Ok(())
}

/// Reads a pipe to its end in the background, so a chatty program never blocks on it.
fn collect(pipe: Option<impl AsyncRead + Unpin + Send + 'static>) -> impl Future<Output = Vec<u8>> {
    let task = tokio::spawn(async move {
        let mut text = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut text).await;
        }
        text
    });
    async move { task.await.unwrap_or_default() }
}

fn failed(program: &str, status: ExitStatus, output: &[u8]) -> BackupError {
    let text = String::from_utf8_lossy(output);
    let text = text.trim();
    let start = text
        .char_indices()
        .rev()
        .nth(MAX_OUTPUT_CHARS)
        .map_or(0, |(i, _)| i);
    BackupError::Program {
        program: program.to_owned(),
        status: status.to_string(),
        output: text[start..].to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(url: &str) -> Vec<(&'static str, String)> {
        connection_env(url).unwrap()
    }

    fn get<'a>(env: &'a [(&'static str, String)], key: &str) -> Option<&'a str> {
        env.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_url_becomes_libpq_variables_with_the_password_decoded() {
        let env = env_of("postgres://app:p%40ss%20word@db.internal:6432/contacto?sslmode=require");
        assert_eq!(get(&env, "PGHOST"), Some("db.internal"));
        assert_eq!(get(&env, "PGPORT"), Some("6432"));
        assert_eq!(get(&env, "PGUSER"), Some("app"));
        assert_eq!(get(&env, "PGDATABASE"), Some("contacto"));
        assert_eq!(get(&env, "PGPASSWORD"), Some("p@ss word"));
        assert_eq!(get(&env, "PGSSLMODE"), Some("require"));
    }

    #[test]
    fn a_key_value_string_becomes_libpq_variables() {
        let env = env_of(
            "host='/var/run/contacto run' port=5433 user=contacto dbname='contacto' \
             password='it\\'s' connect_timeout=3 application_name=backup",
        );
        assert_eq!(get(&env, "PGHOST"), Some("/var/run/contacto run"));
        assert_eq!(get(&env, "PGPORT"), Some("5433"));
        assert_eq!(get(&env, "PGCONNECT_TIMEOUT"), Some("3"));
        assert_eq!(get(&env, "PGAPPNAME"), Some("backup"));
        assert_eq!(get(&env, "PGPASSWORD"), Some("it's"));
    }

    #[test]
    fn several_hosts_are_kept_in_order_and_defaults_are_left_to_libpq() {
        let env = env_of("postgresql://app@a.internal:5432,b.internal:5433/contacto");
        assert_eq!(get(&env, "PGHOST"), Some("a.internal,b.internal"));
        assert_eq!(get(&env, "PGPORT"), Some("5432,5433"));
        assert_eq!(get(&env, "PGPASSWORD"), None);
        assert_eq!(
            get(&env, "PGSSLMODE"),
            None,
            "prefer is libpq's own default"
        );
    }

    #[test]
    fn the_database_defaults_to_the_user_as_it_does_for_core() {
        assert_eq!(
            get(&env_of("postgres://app@db/"), "PGDATABASE"),
            Some("app")
        );
    }

    #[test]
    fn a_bad_url_is_refused_without_repeating_it() {
        let err = connection_env("postgres://app:s3cret@db:notaport/x").unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[test]
    fn long_program_output_keeps_its_end() {
        let output = format!("{}the reason", "x".repeat(10_000));
        let BackupError::Program { output, .. } = failed(
            "pg_dump",
            std::os::unix::process::ExitStatusExt::from_raw(256),
            output.as_bytes(),
        ) else {
            panic!("a program failure");
        };
        assert!(output.ends_with("the reason"));
        assert!(output.chars().count() <= MAX_OUTPUT_CHARS + 1);
    }
}
