//! A local PostgreSQL cluster that Contacto creates, starts and stops itself, from the PostgreSQL
//! server programs installed on the machine. The server uses it when no database URL is
//! configured; tests use it for their private cluster.
//!
//! Layout under the cluster's root directory:
//!
//! ```text
//! <root>/data          PGDATA (initdb)
//! <root>/run           the Unix socket; the cluster listens on no TCP port
//! <root>/postgres.log  the server's log
//! ```
//!
//! PostgreSQL refuses to run as root. When the current user is root, the cluster belongs to the
//! `postgres` system user and every PostgreSQL program is started as that user.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Where a cluster listens when nothing else is asked: the socket file's name carries the port.
pub const DEFAULT_PORT: u16 = 5432;

/// The superuser role created by `initdb`; connections over the private socket are trusted.
pub const SUPERUSER: &str = "contacto";

/// Seconds `pg_ctl` waits for the server to start or stop.
const PG_CTL_TIMEOUT_SECS: &str = "60";

/// What went wrong managing the local cluster.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManagedError {
    /// No PostgreSQL server programs were found.
    #[error(
        "PostgreSQL server programs (initdb, pg_ctl, postgres) were not found on PATH, through \
         pg_config, or under /usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: \
         `apt-get install postgresql`; Fedora: `dnf install postgresql-server`; macOS: \
         `brew install postgresql@16`), point CONTACTO_PG_BIN_DIR at their directory, or set \
         CONTACTO_DATABASE_URL to use an existing server"
    )]
    BinariesNotFound,
    /// Running as root, but there is no `postgres` system user to run PostgreSQL as.
    #[error(
        "running as root, and PostgreSQL refuses to run as root: create the `postgres` system \
         user (installing the postgresql package does) or run as an ordinary user"
    )]
    NoPostgresUser,
    /// The cluster directory cannot be reached by the user PostgreSQL runs as.
    #[error(
        "{path} is not reachable by the `{user}` user PostgreSQL runs as; choose a data directory \
         outside it (CONTACTO_DATA_DIR), for example under /var/lib"
    )]
    NotAccessible {
        /// The directory that blocks the way.
        path: PathBuf,
        /// The user PostgreSQL runs as.
        user: String,
    },
    /// A file-system operation failed.
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
    CommandFailed {
        /// The program and its main argument.
        program: String,
        /// Its exit status.
        status: String,
        /// What it printed, trimmed.
        output: String,
    },
}

fn io_error(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ManagedError {
    let context = context.into();
    move |source| ManagedError::Io { context, source }
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgBinaries {
    bin_dir: PathBuf,
}

impl PgBinaries {
    /// Finds the server programs: in `explicit` if given, else on `PATH`, else where `pg_config
    /// --bindir` says, else in the newest `/usr/lib/postgresql/*/bin`.
    ///
    /// # Errors
    ///
    /// [`ManagedError::BinariesNotFound`] when none of those places has them.
    pub fn locate(explicit: Option<&Path>) -> Result<Self, ManagedError> {
        if let Some(dir) = explicit {
            return Self::check(dir).ok_or(ManagedError::BinariesNotFound);
        }
        let on_path = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
            .unwrap_or_default();
        let from_pg_config = Command::new("pg_config")
            .arg("--bindir")
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        let mut debian: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
            .map(|dir| {
                dir.filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
                    .collect()
            })
            .unwrap_or_default();
        // Highest major version first: "9.6" < "15" numerically, not lexically.
        debian.sort_by_key(|p| {
            std::cmp::Reverse(
                p.parent()
                    .and_then(|v| v.file_name())
                    .and_then(|v| v.to_str())
                    .and_then(|v| v.split('.').next())
                    .and_then(|v| v.parse::<u32>().ok())
                    .unwrap_or(0),
            )
        });
        on_path
            .into_iter()
            .chain(from_pg_config)
            .chain(debian)
            .find_map(|dir| Self::check(&dir))
            .ok_or(ManagedError::BinariesNotFound)
    }

    fn check(dir: &Path) -> Option<Self> {
        // Symbolic links on PATH (`/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb`)
        // lead to the real directory, where the other programs (pgbench, pg_dump) live too.
        let bin_dir = fs::canonicalize(dir.join("initdb"))
            .ok()?
            .parent()?
            .to_path_buf();
        let complete = ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|program| bin_dir.join(program).is_file());
        complete.then_some(Self { bin_dir })
    }

    /// The directory that holds the programs.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The path of one program in that directory (`pg_dump`, `pgbench`, ...).
    pub fn program(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }
}

/// The system user PostgreSQL runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owner {
    /// The current, non-root user.
    CurrentUser,
    /// Root is running us: PostgreSQL runs as this system user.
    SystemUser { name: String, uid: u32, gid: u32 },
}

impl Owner {
    fn detect() -> Result<Self, ManagedError> {
        Ok(match postgres_user_when_root()? {
            None => Owner::CurrentUser,
            Some((uid, gid)) => Owner::SystemUser {
                name: "postgres".to_owned(),
                uid,
                gid,
            },
        })
    }

    fn name(&self) -> String {
        match self {
            Owner::CurrentUser => "current".to_owned(),
            Owner::SystemUser { name, .. } => name.clone(),
        }
    }

    /// Creates `dir` (and parents) and hands it to the owner. Parents created here get mode 0755
    /// whatever the umask, so the owner can walk down to `dir` (root's umask is often 077).
    fn create_dir(&self, dir: &Path) -> Result<(), ManagedError> {
        let missing: Vec<PathBuf> = dir
            .ancestors()
            .skip(1)
            .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
            .map(Path::to_path_buf)
            .collect();
        fs::create_dir_all(dir).map_err(io_error(format!("creating {}", dir.display())))?;
        for parent in missing {
            fs::set_permissions(&parent, fs::Permissions::from_mode(0o755)).map_err(io_error(
                format!("opening {} to postgres", parent.display()),
            ))?;
        }
        if let Owner::SystemUser { uid, gid, .. } = self {
            std::os::unix::fs::chown(dir, Some(*uid), Some(*gid))
                .map_err(io_error(format!("handing {} to postgres", dir.display())))?;
        }
        Ok(())
    }

    /// Checks that the owner can walk down to `dir`: every ancestor must let others through.
    fn check_reachable(&self, dir: &Path) -> Result<(), ManagedError> {
        let Owner::SystemUser { uid, .. } = self else {
            return Ok(());
        };
        for ancestor in dir.ancestors().skip(1) {
            let Ok(meta) = fs::metadata(ancestor) else {
                continue;
            };
            let others_may_enter = meta.permissions().mode() & 0o001 != 0;
            if meta.uid() != *uid && !others_may_enter {
                return Err(ManagedError::NotAccessible {
                    path: ancestor.to_path_buf(),
                    user: self.name(),
                });
            }
        }
        Ok(())
    }

    fn command(&self, program: &Path, cwd: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(cwd).stdin(Stdio::null());
        if let Owner::SystemUser { uid, gid, .. } = self {
            cmd.uid(*uid).gid(*gid);
        }
        cmd
    }
}

/// `None` when not running as root; as root, the `(uid, gid)` of the `postgres` system user that
/// PostgreSQL's programs (and PgBouncer) must run as instead, since they refuse root.
///
/// # Errors
///
/// [`ManagedError::NoPostgresUser`] as root without that user; the user id cannot be read.
pub fn postgres_user_when_root() -> Result<Option<(u32, u32)>, ManagedError> {
    if effective_uid()? != 0 {
        return Ok(None);
    }
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, "postgres"]).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().parse().ok())?
    };
    match (id("-u"), id("-g")) {
        (Some(uid), Some(gid)) => Ok(Some((uid, gid))),
        _ => Err(ManagedError::NoPostgresUser),
    }
}

/// The effective user id: the owner of `/proc/self` on Linux, else what `id -u` says.
pub fn effective_uid() -> Result<u32, ManagedError> {
    if let Ok(meta) = fs::metadata("/proc/self") {
        return Ok(meta.uid());
    }
    let out = Command::new("id")
        .arg("-u")
        .output()
        .map_err(io_error("running `id -u`"))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| ManagedError::Io {
            context: "reading the current user id".to_owned(),
            source: std::io::Error::other("`id -u` printed no number"),
        })
}

/// Settings of a managed cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The cluster's root directory (see the module documentation for its layout).
    pub root: PathBuf,
    /// `false` turns off fsync and synchronous commit: for tests only, never for real data.
    pub durable: bool,
    /// The port in the socket's file name.
    pub port: u16,
    /// `max_connections`.
    pub max_connections: u32,
    /// Further `postgresql.conf` settings, written verbatim (`("shared_buffers", "256MB")`).
    pub settings: Vec<(String, String)>,
}

impl ClusterOptions {
    /// Durable defaults for a cluster rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            durable: true,
            port: DEFAULT_PORT,
            max_connections: 100,
            settings: Vec::new(),
        }
    }
}

/// A local PostgreSQL cluster owned by this process.
#[derive(Debug)]
pub struct ManagedPostgres {
    bins: PgBinaries,
    options: ClusterOptions,
    owner: Owner,
}

impl ManagedPostgres {
    /// Opens the cluster at `options.root`, creating it with `initdb` on first use, and writes its
    /// settings. Does not start it.
    ///
    /// # Errors
    ///
    /// When running as root without a `postgres` user, when the directory is unreachable for the
    /// user PostgreSQL runs as, or when `initdb` fails.
    pub fn open(bins: PgBinaries, options: ClusterOptions) -> Result<Self, ManagedError> {
        let owner = Owner::detect()?;
        let bins = matching_binaries(bins, &options.root.join("data"))?;
        let cluster = Self {
            bins,
            options,
            owner,
        };
        cluster.owner.create_dir(&cluster.options.root)?;
        cluster.owner.check_reachable(&cluster.options.root)?;
        cluster.owner.create_dir(&cluster.socket_dir())?;
        if !cluster.data_dir().join("PG_VERSION").is_file() {
            cluster.initdb()?;
        }
        cluster.write_settings()?;
        Ok(cluster)
    }

    /// Creates a streaming replica of this running cluster at `options.root`: a base backup taken
    /// with `pg_basebackup -R`, which also writes the standby signal and the connection back to
    /// this cluster. Opens it (its own socket, port and settings) without starting it; an
    /// existing replica at that root is opened as it is.
    ///
    /// `options.max_connections` must be at least this cluster's, as PostgreSQL requires of a
    /// standby.
    ///
    /// # Errors
    ///
    /// When the directory is unusable or `pg_basebackup` fails.
    pub fn create_replica(&self, options: ClusterOptions) -> Result<Self, ManagedError> {
        self.owner.create_dir(&options.root)?;
        self.owner.check_reachable(&options.root)?;
        let data = options.root.join("data");
        if !data.join("PG_VERSION").is_file() {
            let mut cmd = self.pg_command("pg_basebackup");
            cmd.arg("-D")
                .arg(&data)
                .args(["-R", "-X", "stream", "-c", "fast", "-d"])
                .arg(self.connection_string("postgres"));
            if !options.durable {
                cmd.arg("--no-sync");
            }
            run(cmd, "pg_basebackup")?;
        }
        Self::open(self.bins.clone(), options)
    }

    fn initdb(&self) -> Result<(), ManagedError> {
        let attempt = |locale: &[&str]| {
            let mut cmd = self.pg_command("initdb");
            cmd.arg("-D")
                .arg(self.data_dir())
                .args(["-U", SUPERUSER, "--auth=trust", "--encoding=UTF8"])
                .args(locale);
            if !self.options.durable {
                cmd.arg("--no-sync");
            }
            run(cmd, "initdb")
        };
        // C.UTF-8 gives Unicode-aware lower() and friends without depending on the host's locales;
        // a system without it still gets a working cluster.
        attempt(&["--locale=C.UTF-8"]).or_else(|_| {
            let _ = fs::remove_dir_all(self.data_dir());
            attempt(&["--no-locale"])
        })
    }

    fn write_settings(&self) -> Result<(), ManagedError> {
        let data = self.data_dir();
        let main_conf = data.join("postgresql.conf");
        let include = "include_if_exists = 'contacto.conf'";
        let current = fs::read_to_string(&main_conf)
            .map_err(io_error(format!("reading {}", main_conf.display())))?;
        if !current.contains(include) {
            fs::write(&main_conf, format!("{current}\n{include}\n"))
                .map_err(io_error(format!("writing {}", main_conf.display())))?;
        }
        let mut conf =
            String::from("# Written by Contacto at every start; edits are overwritten.\n");
        let mut set = |key: &str, value: &str| conf.push_str(&format!("{key} = {value}\n"));
        set("listen_addresses", "''");
        set(
            "unix_socket_directories",
            &quote(&self.socket_dir().to_string_lossy()),
        );
        set("unix_socket_permissions", "0700");
        set("port", &self.options.port.to_string());
        set("max_connections", &self.options.max_connections.to_string());
        // JIT compilation costs tens of milliseconds and pays off only for long analytical
        // queries; Contacto's are short, and a directory search over many rows would otherwise
        // cross jit_above_cost and pay that on every call.
        set("jit", "off");
        // Query analysis: per-statement totals for `contacto-server top-statements` and the admin
        // endpoint, and slow statements in the log.
        set("shared_preload_libraries", "'pg_stat_statements'");
        set("pg_stat_statements.track", "top");
        set("log_min_duration_statement", "'250ms'");
        if !self.options.durable {
            set("fsync", "off");
            set("synchronous_commit", "off");
            set("full_page_writes", "off");
        }
        for (key, value) in &self.options.settings {
            set(key, value);
        }
        let path = data.join("contacto.conf");
        fs::write(&path, conf).map_err(io_error(format!("writing {}", path.display())))?;
        if let Owner::SystemUser { uid, gid, .. } = &self.owner {
            for file in [&main_conf, &path] {
                std::os::unix::fs::chown(file, Some(*uid), Some(*gid))
                    .map_err(io_error(format!("handing {} to postgres", file.display())))?;
            }
        }
        Ok(())
    }

    /// Starts the server and waits until it accepts connections. Returns `false` when a server
    /// was already running on this data directory (another process's, or one left by a crash):
    /// it is used as is, and whoever started it should be the one to stop it.
    ///
    /// # Errors
    ///
    /// When `pg_ctl start` fails; the message includes the end of the server's log.
    pub fn start(&self) -> Result<bool, ManagedError> {
        if self.is_running() {
            return Ok(false);
        }
        let mut cmd = self.pg_command("pg_ctl");
        cmd.arg("start")
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.log_file())
            .args(["-w", "-t", PG_CTL_TIMEOUT_SECS]);
        run(cmd, "pg_ctl start").map_err(|err| self.with_log_tail(err))?;
        Ok(true)
    }

    /// Stops the server, letting sessions end cleanly (`pg_ctl stop -m fast`).
    ///
    /// # Errors
    ///
    /// When `pg_ctl stop` fails.
    pub fn stop(&self) -> Result<(), ManagedError> {
        self.stop_with("fast")
    }

    /// Stops the server at once, as a crash would (`pg_ctl stop -m immediate`): the next start
    /// runs crash recovery.
    ///
    /// # Errors
    ///
    /// When `pg_ctl stop` fails.
    pub fn kill(&self) -> Result<(), ManagedError> {
        self.stop_with("immediate")
    }

    fn stop_with(&self, mode: &str) -> Result<(), ManagedError> {
        if !self.is_running() {
            return Ok(());
        }
        let mut cmd = self.pg_command("pg_ctl");
        cmd.arg("stop").arg("-D").arg(self.data_dir()).args([
            "-m",
            mode,
            "-w",
            "-t",
            PG_CTL_TIMEOUT_SECS,
        ]);
        run(cmd, "pg_ctl stop")
    }

    /// Whether a server is running on this data directory.
    pub fn is_running(&self) -> bool {
        let mut cmd = self.pg_command("pg_ctl");
        cmd.arg("status")
            .arg("-D")
            .arg(self.data_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd.status().is_ok_and(|status| status.success())
    }

    /// A connection string for `dbname`, over the private socket, as the superuser.
    pub fn connection_string(&self, dbname: &str) -> String {
        format!(
            "host={} port={} user={} dbname={}",
            quote(&self.socket_dir().to_string_lossy()),
            self.options.port,
            SUPERUSER,
            quote(dbname)
        )
    }

    /// Creates database `name` unless it exists.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Unavailable`] when the cluster does not answer.
    pub async fn ensure_database(&self, name: &str) -> crate::Result<()> {
        use super::error::PgResultExt;
        let (client, connection) =
            tokio_postgres::connect(&self.connection_string("postgres"), tokio_postgres::NoTls)
                .await
                .db("connecting to the managed cluster")?;
        let connection = tokio::spawn(connection);
        let exists = client
            .query_typed_opt(
                "SELECT 1 FROM pg_database WHERE datname = $1",
                &[(&name, tokio_postgres::types::Type::TEXT)],
            )
            .await
            .db("looking for the database")?
            .is_some();
        if !exists {
            let ident = format!("\"{}\"", name.replace('"', "\"\""));
            client
                .batch_execute(&format!("CREATE DATABASE {ident}"))
                .await
                .db("creating the database")?;
        }
        drop(client);
        let _ = connection.await;
        Ok(())
    }

    /// The cluster's root directory.
    pub fn root(&self) -> &Path {
        &self.options.root
    }

    /// PGDATA.
    pub fn data_dir(&self) -> PathBuf {
        self.options.root.join("data")
    }

    /// The directory holding the Unix socket.
    pub fn socket_dir(&self) -> PathBuf {
        self.options.root.join("run")
    }

    /// The port in the socket's name.
    pub fn port(&self) -> u16 {
        self.options.port
    }

    /// The server's log file.
    pub fn log_file(&self) -> PathBuf {
        self.options.root.join("postgres.log")
    }

    /// The programs this cluster runs.
    pub fn binaries(&self) -> &PgBinaries {
        &self.bins
    }

    /// A command for a PostgreSQL program, run as the cluster's owner (`pgbench`, `pg_dump`, ...).
    pub fn pg_command(&self, program: &str) -> Command {
        self.owner
            .command(&self.bins.program(program), &self.options.root)
    }

    fn with_log_tail(&self, err: ManagedError) -> ManagedError {
        let ManagedError::CommandFailed {
            program,
            status,
            output,
        } = err
        else {
            return err;
        };
        let log = fs::read_to_string(self.log_file()).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(10).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        ManagedError::CommandFailed {
            program,
            status,
            output: format!(
                "{output}\n--- end of {} ---\n{}",
                self.log_file().display(),
                tail.join("\n")
            ),
        }
    }
}

/// The major version of the server programs (`15` for "pg_ctl (PostgreSQL) 15.18").
fn major_version(bins: &PgBinaries) -> Option<String> {
    let out = Command::new(bins.program("pg_ctl"))
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split_whitespace().last()?;
    Some(version.split('.').next()?.to_owned())
}

/// An existing cluster can only be run by the major version that created it: after an upgrade,
/// prefer that version's programs when they are still installed.
fn matching_binaries(bins: PgBinaries, data: &Path) -> Result<PgBinaries, ManagedError> {
    let Ok(wanted) = fs::read_to_string(data.join("PG_VERSION")) else {
        return Ok(bins);
    };
    let wanted = wanted.trim();
    if major_version(&bins).as_deref() == Some(wanted) {
        return Ok(bins);
    }
    PgBinaries::check(&PathBuf::from(format!("/usr/lib/postgresql/{wanted}/bin"))).ok_or_else(|| {
        ManagedError::CommandFailed {
            program: "postgres".to_owned(),
            status: "version mismatch".to_owned(),
            output: format!(
                "the cluster in {} was created by PostgreSQL {wanted}, but the programs found in {} \
                 are another version: install PostgreSQL {wanted} or upgrade the cluster with \
                 pg_upgrade",
                data.display(),
                bins.bin_dir().display()
            ),
        }
    })
}

/// Quotes a value for `postgresql.conf` and libpq connection strings, which share the syntax.
fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn run(mut cmd: Command, program: &str) -> Result<(), ManagedError> {
    let output: Output = cmd
        .output()
        .map_err(io_error(format!("running {program}")))?;
    if output.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Err(ManagedError::CommandFailed {
        program: program.to_owned(),
        status: output.status.to_string(),
        output: text.trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_for_postgresql_conf() {
        assert_eq!(quote("/tmp/a b"), "'/tmp/a b'");
        assert_eq!(quote("it's"), "'it\\'s'");
    }

    #[test]
    fn a_directory_without_the_server_programs_is_refused() {
        let err = PgBinaries::locate(Some(Path::new("/nonexistent"))).unwrap_err();
        assert!(
            err.to_string().contains("apt-get install postgresql"),
            "{err}"
        );
    }
}
