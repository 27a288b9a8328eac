//! Test support (feature `testing`): a private PostgreSQL cluster per test process, a template
//! database migrated once, and a fresh database per test cloned from it.
//!
//! With `CONTACTO_TEST_DATABASE_URL` set, the template and the per-test databases are created on
//! that server instead of a private cluster. Without it, PostgreSQL's server programs must be
//! installed: a test never skips silently, it fails saying what to install.
//!
//! With `CONTACTO_TEST_PGBOUNCER` set to `transaction` or `session`, a real PgBouncer in that
//! pooling mode is started in front of that server, and every [`TestDatabase::url`] (so every core
//! a test builds) goes through it; creating, migrating and dropping databases still goes direct.
//! Without PgBouncer installed, the tests fail saying how to install it.
//!
//! Nothing outlives the test process: each database is dropped when its [`TestDatabase`] is, the
//! private cluster and PgBouncer are stopped and their directories removed at exit, and watchdog
//! processes do the same if the test process dies without running its exit handlers.
//!
//! # Layout
//!
//! - this file: [`TestCluster`], the shared server and its template, [`TestDatabase`];
//! - `pgbouncer`: [`PgBouncer`], a PgBouncer process of its own in front of a server.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::config::{AuthConfig, Config, DatabaseConfig, PasswordHashing, WalletConfig};
use crate::db::managed::{ClusterOptions, ManagedPostgres, PgBinaries};
use crate::{Contacto, db};

mod pgbouncer;

pub use pgbouncer::{PgBouncer, PgBouncerOptions, PoolMode};

/// The environment variable naming an existing server for tests.
pub const TEST_DATABASE_URL_VAR: &str = "CONTACTO_TEST_DATABASE_URL";

/// The environment variable that puts PgBouncer, in the pooling mode it names (`transaction` or
/// `session`), between every test's core and its database.
pub const TEST_PGBOUNCER_VAR: &str = "CONTACTO_TEST_PGBOUNCER";

/// The webhook secret of [`test_config`], for tests that sign deposit notifications.
pub const TEST_WEBHOOK_SECRET: &str = "test webhook secret";

/// Fewest operations the ledger posts in a second batch while another is in flight: a test that
/// sends exactly this many operations sharing no wallet with a batch that waits for a lock sees
/// them posted beside it.
pub const LEDGER_SECOND_BATCH_MIN: usize = crate::wallet::batcher::SECOND_BATCH_MIN;

/// Connections the ledger posts on at once, each with at most one batch in flight: what a
/// benchmark divides the batches' time by to say how busy the ledger was.
pub const LEDGER_LANES: usize = crate::wallet::batcher::LANES;

/// Connections each test database's pool may open: tests run in parallel on one server.
const TEST_POOL_MAX_SIZE: usize = 8;

/// A throwaway cluster in a fresh temporary directory, without durability, stopped and removed
/// when dropped (or, should the process die first, by its watchdog).
pub struct TestCluster {
    postgres: ManagedPostgres,
    watchdog: Option<Child>,
}

impl TestCluster {
    /// Creates and starts the cluster.
    ///
    /// # Panics
    ///
    /// When PostgreSQL's server programs are missing or the cluster cannot start; the message
    /// says what to install.
    pub fn start() -> Self {
        Self::try_start(false).unwrap_or_else(|err| panic!("{err}"))
    }

    /// Like [`TestCluster::start`], but with fsync and synchronous commit on: for crash tests,
    /// where what was acknowledged must survive an immediate stop.
    ///
    /// # Panics
    ///
    /// As [`TestCluster::start`].
    pub fn start_durable() -> Self {
        Self::try_start(true).unwrap_or_else(|err| panic!("{err}"))
    }

    fn try_start(durable: bool) -> Result<Self, String> {
        let bins =
            PgBinaries::locate(None).map_err(|err| format!("tests need PostgreSQL: {err}"))?;
        let root = std::env::temp_dir().join(format!(
            "contacto-test-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let mut options = ClusterOptions::new(&root);
        options.durable = durable;
        options.max_connections = 300;
        // The watchdog comes first: it cleans up even if this process dies during initdb.
        let watchdog = spawn_watchdog(&root, &root.join("data"))?;
        let postgres = match ManagedPostgres::open(bins, options) {
            Ok(postgres) => postgres,
            Err(err) => {
                let _ = std::fs::remove_dir_all(&root);
                return Err(format!("creating the test cluster: {err}"));
            }
        };
        let cluster = Self {
            postgres,
            watchdog: Some(watchdog),
        };
        // On failure `cluster` is dropped, which stops what started and removes the directory.
        cluster
            .postgres
            .start()
            .map_err(|err| format!("starting the test cluster: {err}"))?;
        Ok(cluster)
    }

    /// The managed cluster, to stop, kill or restart it in fault-injection tests.
    pub fn postgres(&self) -> &ManagedPostgres {
        &self.postgres
    }

    /// Creates an empty database and returns its connection string.
    ///
    /// # Panics
    ///
    /// When the cluster does not answer.
    pub async fn create_database(&self, name: &str) -> String {
        let admin = connect(&self.postgres.connection_string("postgres")).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {}", quote_ident(name)))
            .await
            .unwrap_or_else(|err| panic!("creating database {name}: {err}"));
        self.postgres.connection_string(name)
    }

    fn cleanup(&mut self) {
        let _ = self.postgres.kill();
        let _ = std::fs::remove_dir_all(self.postgres.root());
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// A process that outlives us only long enough to stop the cluster and delete its directory if
/// this process dies without cleaning up (a crash, `SIGKILL`, an abort).
fn spawn_watchdog(root: &std::path::Path, data: &std::path::Path) -> Result<Child, String> {
    const SCRIPT: &str = r#"
trap '' INT TERM HUP
while kill -0 "$1" 2>/dev/null; do sleep 0.2; done
if [ -f "$3/postmaster.pid" ]; then
  pid=$(head -n 1 "$3/postmaster.pid")
  kill -QUIT "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
fi
rm -rf "$2"
"#;
    Command::new("sh")
        .arg("-c")
        .arg(SCRIPT)
        .arg("contacto-test-watchdog")
        .arg(std::process::id().to_string())
        .arg(root)
        .arg(data)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: a Ctrl-C aimed at the test run must not kill the cleaner.
        .process_group(0)
        .spawn()
        .map_err(|err| format!("starting the test cluster's watchdog (sh): {err}"))
}

/// The server the test process uses, and its migrated template.
struct Shared {
    /// A connection string to a database that always exists (to run `CREATE DATABASE` from); other
    /// databases of the server are reached by replacing its database name.
    admin_url: String,
    template: String,
    /// The private cluster, when no external server was named.
    cluster: Option<TestCluster>,
    /// The PgBouncer tests connect through, when `CONTACTO_TEST_PGBOUNCER` asks for one.
    pgbouncer: Option<PgBouncer>,
}

/// What a test needs of the shared server.
struct SharedServer {
    admin_url: String,
    template: String,
    /// Where core connects, with a database name to replace: through PgBouncer when one runs.
    client_base_url: String,
}

static SHARED: OnceLock<Result<Mutex<Option<Shared>>, String>> = OnceLock::new();

/// The admin connection string, the template's name, and how core reaches a database.
fn shared_server() -> SharedServer {
    let cell = SHARED.get_or_init(|| {
        // Initialised on a thread of its own: a test's runtime cannot block on another runtime.
        std::thread::spawn(init_shared)
            .join()
            .unwrap_or_else(|_| Err("initialising the test database server panicked".to_owned()))
            .map(|shared| Mutex::new(Some(shared)))
    });
    let shared = match cell {
        Ok(shared) => shared,
        Err(message) => panic!("{message}"),
    };
    let guard = shared.lock().unwrap_or_else(|poison| poison.into_inner());
    let Some(shared) = guard.as_ref() else {
        panic!("the test database server was already shut down");
    };
    SharedServer {
        admin_url: shared.admin_url.clone(),
        template: shared.template.clone(),
        client_base_url: match &shared.pgbouncer {
            Some(pgbouncer) => pgbouncer.url("postgres"),
            None => shared.admin_url.clone(),
        },
    }
}

/// The pooling mode `CONTACTO_TEST_PGBOUNCER` asks for, if any.
fn pgbouncer_mode() -> Result<Option<PoolMode>, String> {
    match std::env::var(TEST_PGBOUNCER_VAR) {
        Ok(mode) if !mode.trim().is_empty() => mode
            .parse()
            .map(Some)
            .map_err(|err| format!("{TEST_PGBOUNCER_VAR}: {err}")),
        _ => Ok(None),
    }
}

fn init_shared() -> Result<Shared, String> {
    // Checked first: a bad value or a missing PgBouncer fails before a cluster is built for nothing.
    let pgbouncer_mode = pgbouncer_mode()?;
    if let Some(mode) = pgbouncer_mode {
        pgbouncer::locate().map_err(|err| format!("{TEST_PGBOUNCER_VAR}={mode}: {err}"))?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("building a runtime: {err}"))?;
    let (admin_url, cluster) = match std::env::var(TEST_DATABASE_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => (url, None),
        _ => {
            let cluster = TestCluster::try_start(false)?;
            (
                cluster.postgres.connection_string("postgres"),
                Some(cluster),
            )
        }
    };
    let template = format!(
        "contacto_tpl_{}_{}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    runtime.block_on(async {
        let admin = try_connect(&admin_url).await?;
        admin
            .batch_execute(&format!("CREATE DATABASE {}", quote_ident(&template)))
            .await
            .map_err(|err| format!("creating the template database: {err}"))?;
        let mut client = try_connect(&with_dbname(&admin_url, &template)).await?;
        db::run_migrations(&mut client)
            .await
            .map_err(|err| format!("migrating the template database: {err}"))?;
        Ok::<_, String>(())
    })?;
    let pgbouncer = match pgbouncer_mode {
        Some(mode) => Some(
            PgBouncer::start(&admin_url, PgBouncerOptions::new(mode))
                .map_err(|err| format!("{TEST_PGBOUNCER_VAR}={mode}: {err}"))?,
        ),
        None => None,
    };
    register_exit_cleanup();
    Ok(Shared {
        admin_url,
        template,
        cluster,
        pgbouncer,
    })
}

/// Stops the private cluster (or drops the template on an external server) when the process
/// exits: Rust never drops statics, and the test harness ends with `exit()`.
fn register_exit_cleanup() {
    extern "C" fn cleanup() {
        let Some(Ok(shared)) = SHARED.get() else {
            return;
        };
        let taken = shared
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .take();
        let Some(shared) = taken else { return };
        // PgBouncer first: it holds connections to the server.
        drop(shared.pgbouncer);
        match shared.cluster {
            Some(cluster) => drop(cluster),
            None => drop_database_blocking(&shared.admin_url, &shared.template),
        }
    }
    #[expect(
        unsafe_code,
        reason = "atexit is the only hook that runs when the test harness exits"
    )]
    // SAFETY: `cleanup` is a plain `extern "C" fn()` that does not unwind across the boundary
    // (every failure in it is ignored) and only touches data it owns through `SHARED`.
    unsafe {
        libc::atexit(cleanup);
    }
}

/// A database of its own for one test, cloned from the migrated template and dropped with it.
pub struct TestDatabase {
    name: String,
    url: String,
    direct_url: String,
    admin_url: String,
}

impl TestDatabase {
    /// Creates the database.
    ///
    /// # Panics
    ///
    /// When PostgreSQL is missing or unreachable, with a message saying what to do.
    pub async fn create() -> Self {
        let SharedServer {
            admin_url,
            template,
            client_base_url,
        } = shared_server();
        let name = format!("contacto_test_{}", uuid::Uuid::new_v4().simple());
        let admin = connect(&admin_url).await;
        admin
            .batch_execute(&format!(
                "CREATE DATABASE {} TEMPLATE {}",
                quote_ident(&name),
                quote_ident(&template)
            ))
            .await
            .unwrap_or_else(|err| panic!("creating test database {name}: {err}"));
        Self {
            url: with_dbname(&client_base_url, &name),
            direct_url: with_dbname(&admin_url, &name),
            name,
            admin_url,
        }
    }

    /// The database's connection string: through PgBouncer when `CONTACTO_TEST_PGBOUNCER` is set.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's connection string on the server itself, never through PgBouncer.
    pub fn direct_url(&self) -> &str {
        &self.direct_url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A core configuration for this database (see [`test_config`]).
    pub fn config(&self) -> Config {
        test_config(&self.url)
    }

    /// A core handle on this database.
    ///
    /// # Panics
    ///
    /// When the configuration is refused, which would be a bug in this module.
    pub fn contacto(&self) -> Contacto {
        Contacto::builder(self.config())
            .build()
            .unwrap_or_else(|err| panic!("building core for a test: {err}"))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        drop_database_blocking(&self.admin_url, &self.name);
    }
}

/// A configuration for tests: a small pool, a random token secret, and argon2id at a cost low
/// enough for hundreds of registrations per test run (still argon2id, still salted). With
/// `CONTACTO_TEST_PGBOUNCER=transaction`, prepared statements are off, as they must be behind
/// PgBouncer 1.18 in transaction mode.
pub fn test_config(url: &str) -> Config {
    let mut database = DatabaseConfig::new(url);
    database.pool_max_size = TEST_POOL_MAX_SIZE;
    database.prepared_statements = !matches!(pgbouncer_mode(), Ok(Some(PoolMode::Transaction)));
    database.connect_timeout = Duration::from_secs(2);
    database.wait_timeout = Duration::from_secs(5);
    let mut auth = AuthConfig::new(format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    ));
    auth.password_hashing = PasswordHashing {
        memory_kib: 4096,
        iterations: 1,
        parallelism: 1,
    };
    let wallet = WalletConfig {
        webhook_secret: Some(secrecy::SecretString::from(TEST_WEBHOOK_SECRET)),
        ..WalletConfig::default()
    };
    Config {
        database,
        auth,
        wallet,
    }
}

/// The statements that read a page of a wallet's history with lines not posted, those alone and
/// every line, exactly as the store runs them, for tests that check their plans.
pub fn history_lines_statements() -> [&'static str; 2] {
    [
        crate::wallet::store::UNPOSTED_SQL,
        crate::wallet::store::LINES_SQL.as_str(),
    ]
}

/// The `X-Contacto-Signature` a payment provider sends with `body`, under [`TEST_WEBHOOK_SECRET`].
pub fn sign_webhook(body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(TEST_WEBHOOK_SECRET.as_bytes())
        .unwrap_or_else(|err| panic!("an HMAC key of any length is valid: {err}"));
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// Tops `wallet` up by `amount` through the real deposit flow: the owner's deposit, then the
/// provider's signed webhook confirming it.
///
/// # Panics
///
/// When either step fails or the deposit is not settled.
pub async fn top_up(
    core: &Contacto,
    owner: &crate::Principal,
    wallet: crate::api::WalletId,
    amount: i64,
) {
    use crate::api::{DepositMethod, DepositRequest, DepositStatus};
    let deposit = core
        .wallet()
        .deposit(
            owner,
            &DepositRequest {
                wallet_id: wallet,
                amount,
                method: DepositMethod::Cib,
                reference: None,
            },
        )
        .await
        .unwrap_or_else(|err| panic!("initiating a test deposit: {err}"));
    let body = serde_json::json!({
        "deposit_id": deposit.id,
        "status": "succeeded",
        "provider_reference": format!("cib-{}", deposit.id),
    })
    .to_string();
    let settled = core
        .wallet()
        .deposit_webhook(body.as_bytes(), Some(&sign_webhook(body.as_bytes())))
        .await
        .unwrap_or_else(|err| panic!("confirming a test deposit: {err}"));
    assert_eq!(settled.status, DepositStatus::Succeeded);
}

/// Drops a database from a thread of its own, so it works in `Drop` inside or outside a runtime.
fn drop_database_blocking(admin_url: &str, name: &str) {
    let admin_url = admin_url.to_owned();
    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
    let _ = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async {
            let client = try_connect(&admin_url).await.ok()?;
            client.batch_execute(&sql).await.ok()
        })
    })
    .join();
}

async fn connect(url: &str) -> tokio_postgres::Client {
    try_connect(url).await.unwrap_or_else(|err| panic!("{err}"))
}

async fn try_connect(url: &str) -> Result<tokio_postgres::Client, String> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|err| format!("connecting to the test database server: {err}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `url` with its database replaced by `dbname`, for URLs and key-value connection strings.
fn with_dbname(url: &str, dbname: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        // In key-value strings the last occurrence of a key wins.
        return format!("{url} dbname='{dbname}'");
    };
    let after_scheme = scheme_end + 3;
    let query_start = url[after_scheme..]
        .find('?')
        .map_or(url.len(), |i| after_scheme + i);
    let path_start = url[after_scheme..query_start]
        .find('/')
        .map_or(query_start, |i| after_scheme + i);
    format!("{}/{}{}", &url[..path_start], dbname, &url[query_start..])
}

#[cfg(test)]
mod tests {
    use super::with_dbname;

    #[test]
    fn database_names_are_replaced_in_every_url_form() {
        let cases = [
            ("postgres://u:p@h:5432/postgres", "postgres://u:p@h:5432/t"),
            (
                "postgres://u@h/postgres?sslmode=disable",
                "postgres://u@h/t?sslmode=disable",
            ),
            ("postgresql://h", "postgresql://h/t"),
            ("host=/run port=5432", "host=/run port=5432 dbname='t'"),
        ];
        for (url, expected) in cases {
            assert_eq!(with_dbname(url, "t"), expected, "{url}");
        }
    }
}
