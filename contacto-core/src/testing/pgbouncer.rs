//! A real PgBouncer in front of a PostgreSQL server, for tests and benchmarks that must prove core
//! works through connection pooling.
//!
//! Layout of its directory (a fresh temporary one, removed when the [`PgBouncer`] is dropped or,
//! should the process die first, by a watchdog):
//!
//! ```text
//! <dir>/pgbouncer.ini   its configuration
//! <dir>/userlist.txt    the auth_file: the upstream user (and password, if the URL had one);
//!                       other roles are looked up through it (auth_user)
//! <dir>/.s.PGSQL.6432   the Unix socket clients connect to; it listens on no TCP port
//! <dir>/pgbouncer.log   its log
//! ```
//!
//! PgBouncer refuses to run as root: as root, it runs as the `postgres` system user, like the
//! managed cluster.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use tokio_postgres::config::Host;

use crate::db::managed::{ManagedError, postgres_user_when_root};

/// The port in the socket's file name: PgBouncer's usual one. The socket lives in a directory of
/// its own, so two PgBouncers (or a system one) never collide.
const LISTEN_PORT: u16 = 6432;

/// How long PgBouncer may take to open its socket: it starts in milliseconds; a loaded CI machine
/// building in parallel can be a hundred times slower.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Clients PgBouncer accepts in all: tests open a few pools of 8 at a time, the benchmark up to a
/// few hundred connections.
const MAX_CLIENT_CONN: u32 = 2000;

/// PgBouncer's pooling modes that Contacto supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMode {
    /// A server connection belongs to one client connection for the client's whole session.
    Session,
    /// A server connection belongs to a client only for the length of one transaction.
    Transaction,
}

impl PoolMode {
    /// The name `pgbouncer.ini` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
        }
    }
}

impl fmt::Display for PoolMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PoolMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "session" => Ok(PoolMode::Session),
            "transaction" => Ok(PoolMode::Transaction),
            other => Err(format!(
                "unknown PgBouncer pool mode {other:?}: expected `session` or `transaction` \
                 (statement mode breaks multi-statement transactions, which Contacto needs)"
            )),
        }
    }
}

/// How to run a [`PgBouncer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgBouncerOptions {
    /// The pooling mode.
    pub mode: PoolMode,
    /// `default_pool_size`: server connections per database and user. In session mode it must
    /// cover every client connection (a client keeps its server connection); in transaction mode
    /// it only needs to cover the transactions running at once.
    pub pool_size: u32,
}

impl PgBouncerOptions {
    /// `mode` sized for tests. Session mode gets 32 server connections per database, more than
    /// a test ever opens; transaction mode gets 4, half of a test's core pool, so that the
    /// transactions of different client connections take turns on the same server connections
    /// and any session state core relied on would leak and show.
    pub fn new(mode: PoolMode) -> Self {
        let pool_size = match mode {
            PoolMode::Session => 32,
            PoolMode::Transaction => 4,
        };
        Self { mode, pool_size }
    }
}

/// A PgBouncer process of its own in front of one PostgreSQL server, stopped and its directory
/// removed when dropped.
pub struct PgBouncer {
    dir: PathBuf,
    user: String,
    options: PgBouncerOptions,
    process: Option<Child>,
    watchdog: Option<Child>,
}

impl PgBouncer {
    /// Starts PgBouncer in front of the server `upstream` names (a URL or key-value connection
    /// string to any of its databases): a wildcard entry makes every database of that server
    /// reachable under its own name, and clients are trusted over PgBouncer's private socket.
    ///
    /// # Errors
    ///
    /// When PgBouncer is not installed (the message says how to install it), when `upstream` is
    /// not a connection string naming a user, or when PgBouncer does not start (the message
    /// carries the end of its log).
    pub fn start(upstream: &str, options: PgBouncerOptions) -> Result<Self, String> {
        let program = locate()?;
        let upstream = Upstream::parse(upstream)?;
        let owner = Owner::detect()?;
        let dir = std::env::temp_dir().join(format!(
            "contacto-pgbouncer-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        // The watchdog comes first: it cleans up even if this process dies while PgBouncer starts.
        let mut bouncer = Self {
            dir,
            user: upstream.user.clone(),
            options,
            process: None,
            watchdog: None,
        };
        bouncer.watchdog = Some(spawn_watchdog(&bouncer.dir)?);
        // On failure `bouncer` is dropped, which stops what started and removes the directory.
        bouncer.write_files(&upstream, &owner)?;
        let mut cmd = Command::new(&program);
        cmd.arg(bouncer.dir.join("pgbouncer.ini"))
            .current_dir(&bouncer.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // It logs to its file as well; stderr would interleave with the test harness's output.
            .stderr(Stdio::null());
        if let Owner::SystemUser { uid, gid } = owner {
            cmd.uid(uid).gid(gid);
        }
        bouncer.process = Some(
            cmd.spawn()
                .map_err(|err| format!("starting {}: {err}", program.display()))?,
        );
        bouncer.wait_until_listening()?;
        Ok(bouncer)
    }

    /// A connection string to database `dbname` through PgBouncer, as the upstream's user.
    pub fn url(&self, dbname: &str) -> String {
        format!(
            "host={} port={LISTEN_PORT} user={} dbname={}",
            quote(&self.dir.to_string_lossy()),
            quote(&self.user),
            quote(dbname)
        )
    }

    /// A connection string to PgBouncer's admin console (`SHOW POOLS`, `SHOW STATS`; simple
    /// query protocol only).
    pub fn admin_url(&self) -> String {
        self.url("pgbouncer")
    }

    /// How it runs.
    pub fn options(&self) -> PgBouncerOptions {
        self.options
    }

    /// PgBouncer's process id, to watch its CPU use.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(Child::id)
    }

    /// PgBouncer's log file.
    pub fn log_file(&self) -> PathBuf {
        self.dir.join("pgbouncer.log")
    }

    fn write_files(&self, upstream: &Upstream, owner: &Owner) -> Result<(), String> {
        let io = |what: &str| {
            let what = what.to_owned();
            move |err: std::io::Error| format!("{what}: {err}")
        };
        std::fs::create_dir_all(&self.dir).map_err(io("creating PgBouncer's directory"))?;
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))
            .map_err(io("restricting PgBouncer's directory"))?;
        let config = self.config(upstream);
        let userlist = format!(
            "{} {}\n",
            userlist_quote(&upstream.user),
            userlist_quote(upstream.password.as_deref().unwrap_or(""))
        );
        let files = [("pgbouncer.ini", config), ("userlist.txt", userlist)];
        for (name, text) in &files {
            let path = self.dir.join(name);
            std::fs::write(&path, text).map_err(io(&format!("writing {}", path.display())))?;
        }
        if let Owner::SystemUser { uid, gid } = owner {
            for path in std::iter::once(self.dir.clone())
                .chain(files.iter().map(|(name, _)| self.dir.join(name)))
            {
                std::os::unix::fs::chown(&path, Some(*uid), Some(*gid))
                    .map_err(io(&format!("handing {} to postgres", path.display())))?;
            }
        }
        Ok(())
    }

    /// The configuration `docs/OPERATIONS.md` recommends, with limits sized for a test run.
    fn config(&self, upstream: &Upstream) -> String {
        let dir = self.dir.to_string_lossy();
        format!(
            "[databases]\n\
             * = host={host} port={port}\n\
             \n\
             [pgbouncer]\n\
             listen_addr =\n\
             listen_port = {LISTEN_PORT}\n\
             unix_socket_dir = {dir}\n\
             auth_type = trust\n\
             auth_file = {dir}/userlist.txt\n\
             auth_user = {user}\n\
             admin_users = {user}\n\
             stats_users = {user}\n\
             pool_mode = {mode}\n\
             default_pool_size = {pool_size}\n\
             min_pool_size = 0\n\
             reserve_pool_size = 0\n\
             max_client_conn = {MAX_CLIENT_CONN}\n\
             server_reset_query = DISCARD ALL\n\
             ignore_startup_parameters = extra_float_digits, options\n\
             logfile = {dir}/pgbouncer.log\n\
             pidfile = {dir}/pgbouncer.pid\n\
             log_connections = 0\n\
             log_disconnections = 0\n",
            host = upstream.host,
            port = upstream.port,
            user = upstream.user,
            mode = self.options.mode,
            pool_size = self.options.pool_size,
        )
    }

    fn wait_until_listening(&mut self) -> Result<(), String> {
        let socket = self.dir.join(format!(".s.PGSQL.{LISTEN_PORT}"));
        let started = Instant::now();
        // Connecting, not the socket's file: the file exists from `bind`, a moment before
        // `listen`, and a client that came in between was refused (a flaky test in CI).
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            let exited = match self.process.as_mut().map(Child::try_wait) {
                Some(Ok(Some(status))) => Some(status.to_string()),
                Some(Err(err)) => Some(err.to_string()),
                _ => None,
            };
            if let Some(status) = exited {
                return Err(format!(
                    "PgBouncer exited at start ({status}):\n{}",
                    self.log_tail()
                ));
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(format!(
                    "PgBouncer did not open {} within {} s:\n{}",
                    socket.display(),
                    START_TIMEOUT.as_secs(),
                    self.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log_file()).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(10).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        // SIGKILL: its clients are gone or about to be, and nothing of it needs to survive.
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
}

impl fmt::Debug for PgBouncer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgBouncer")
            .field("dir", &self.dir)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The `pgbouncer` program: on `PATH`, else where Debian and most packages put it.
pub(super) fn locate() -> Result<PathBuf, String> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain(["/usr/sbin", "/usr/local/sbin", "/usr/local/bin"].map(PathBuf::from))
        .map(|dir| dir.join("pgbouncer"))
        .find(|program| program.is_file())
        .ok_or_else(|| {
            "PgBouncer was not found on PATH nor in /usr/sbin: install it (Debian/Ubuntu: \
             `apt-get install pgbouncer`; Fedora: `dnf install pgbouncer`; macOS: \
             `brew install pgbouncer`), or unset CONTACTO_TEST_PGBOUNCER to test against \
             PostgreSQL directly"
                .to_owned()
        })
}

/// Where PgBouncer's wildcard entry points, from a connection string.
struct Upstream {
    host: String,
    port: u16,
    user: String,
    password: Option<String>,
}

impl Upstream {
    fn parse(url: &str) -> Result<Self, String> {
        let config = tokio_postgres::Config::from_str(url)
            .map_err(|err| format!("PgBouncer's upstream is not a connection string: {err}"))?;
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(name)) => name.clone(),
            Some(Host::Unix(path)) => path.to_string_lossy().into_owned(),
            None => "localhost".to_owned(),
        };
        let user = config
            .get_user()
            .ok_or("PgBouncer's upstream connection string names no user")?
            .to_owned();
        let password = config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        Ok(Self {
            host,
            port: config.get_ports().first().copied().unwrap_or(5432),
            user,
            password,
        })
    }
}

/// The user PgBouncer runs as.
enum Owner {
    CurrentUser,
    SystemUser { uid: u32, gid: u32 },
}

impl Owner {
    fn detect() -> Result<Self, String> {
        match postgres_user_when_root() {
            Ok(None) => Ok(Owner::CurrentUser),
            Ok(Some((uid, gid))) => Ok(Owner::SystemUser { uid, gid }),
            Err(ManagedError::NoPostgresUser) => Err(
                "running as root, and PgBouncer refuses to run as root: create the `postgres` \
                 system user (installing the postgresql package does) or run as an ordinary user"
                    .to_owned(),
            ),
            Err(err) => Err(err.to_string()),
        }
    }
}

/// Stops PgBouncer and removes its directory if this process dies without doing it.
fn spawn_watchdog(dir: &Path) -> Result<Child, String> {
    const SCRIPT: &str = r#"
trap '' INT TERM HUP
while kill -0 "$1" 2>/dev/null; do sleep 0.2; done
if [ -f "$2/pgbouncer.pid" ]; then
  kill -KILL "$(cat "$2/pgbouncer.pid")" 2>/dev/null
fi
rm -rf "$2"
"#;
    Command::new("sh")
        .arg("-c")
        .arg(SCRIPT)
        .arg("contacto-pgbouncer-watchdog")
        .arg(std::process::id().to_string())
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: a Ctrl-C aimed at the test run must not kill the cleaner.
        .process_group(0)
        .spawn()
        .map_err(|err| format!("starting PgBouncer's watchdog (sh): {err}"))
}

/// Quotes a value for a libpq key-value connection string.
fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Quotes a value for PgBouncer's auth_file, where a double quote is doubled.
fn userlist_quote(value: &str) -> String {
    format!("\"{}\"", value.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_modes_parse_and_refuse_statement_mode() {
        assert_eq!("session".parse::<PoolMode>(), Ok(PoolMode::Session));
        assert_eq!(
            " transaction\n".parse::<PoolMode>(),
            Ok(PoolMode::Transaction)
        );
        let err = "statement".parse::<PoolMode>().unwrap_err();
        assert!(err.contains("multi-statement transactions"), "{err}");
    }

    #[test]
    fn upstreams_are_read_from_urls_and_key_value_strings() {
        let tcp = Upstream::parse("postgres://app:s3cret@db.internal:5433/contacto").unwrap();
        assert_eq!(
            (tcp.host.as_str(), tcp.port, tcp.user.as_str()),
            ("db.internal", 5433, "app")
        );
        assert_eq!(tcp.password.as_deref(), Some("s3cret"));
        let unix = Upstream::parse("host='/tmp/run' port=5432 user=contacto dbname=x").unwrap();
        assert_eq!((unix.host.as_str(), unix.password), ("/tmp/run", None));
        assert!(Upstream::parse("host=/tmp dbname=x").is_err(), "no user");
    }
}
