//! Point-in-time recovery, done as `docs/OPERATIONS.md` tells operators to: WAL archiving on, a
//! base backup with `pg_basebackup`, more transfers, then a new data directory made from the base
//! backup and recovered from the archive to a time between those transfers. The ledger is exactly
//! what it was at that time: nothing committed after it, nothing before it missing.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use contacto_core::api::{Role, WalletId};
use contacto_core::managed::{ClusterOptions, ManagedPostgres, PgBinaries};
use contacto_core::testing::test_config;
use contacto_core::{Contacto, Principal};

use crate::helpers::{sql, top_up, transfer, user, wallet};

/// The longest the test waits for the archiver or for recovery: far beyond what either takes,
/// so only a real failure hits it.
const PATIENCE: Duration = Duration::from_secs(60);

/// The clusters and directories of one test: stopped and removed when dropped, even when an
/// assertion fails halfway.
struct Scratch {
    root: PathBuf,
    clusters: Vec<ManagedPostgres>,
}

impl Scratch {
    fn new() -> Self {
        let root = std::env::temp_dir().join(format!(
            "contacto-pitr-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&root).unwrap();
        Self {
            root,
            clusters: Vec::new(),
        }
    }

    /// Opens (creating it if need be) the cluster rooted at `name` and returns its index.
    fn open(&mut self, name: &str, settings: &[(&str, String)]) -> usize {
        let mut options = ClusterOptions::new(self.root.join(name));
        options.settings = settings
            .iter()
            .map(|(key, value)| ((*key).to_owned(), value.clone()))
            .collect();
        let bins = PgBinaries::locate(None).unwrap();
        self.clusters
            .push(ManagedPostgres::open(bins, options).unwrap());
        self.clusters.len() - 1
    }

    /// An empty directory the clusters' owner may write into (when root runs the tests,
    /// PostgreSQL runs as `postgres`).
    fn directory_for(&self, owner: &ManagedPostgres, name: &str) -> PathBuf {
        let dir = self.root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let data = std::fs::metadata(owner.data_dir()).unwrap();
        std::os::unix::fs::chown(&dir, Some(data.uid()), Some(data.gid())).unwrap();
        dir
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for cluster in &self.clusters {
            let _ = cluster.kill();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// `postgresql.conf` quoting.
fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

/// The ledger, row by row: every wallet (balances, entry counts, limits), transaction and entry.
#[derive(Debug, PartialEq, Eq)]
struct Ledger {
    wallets: Vec<String>,
    transactions: Vec<String>,
    entries: Vec<String>,
}

async fn ledger(url: &str) -> Ledger {
    let client = sql(url).await;
    let rows = |query: &'static str| {
        let client = &client;
        async move {
            client
                .query(query, &[])
                .await
                .unwrap()
                .iter()
                .map(|row| row.get::<_, String>(0))
                .collect::<Vec<String>>()
        }
    };
    Ledger {
        wallets: rows("SELECT row_to_json(w)::text FROM wallets w ORDER BY id").await,
        transactions: rows("SELECT row_to_json(t)::text FROM ledger_transactions t ORDER BY id")
            .await,
        entries: rows(
            "SELECT row_to_json(e)::text FROM ledger_entries e ORDER BY wallet_number, seq",
        )
        .await,
    }
}

async fn transfers(core: &Contacto, wallets: &[(Principal, WalletId)], count: usize) {
    for n in 0..count {
        let (owner, from) = &wallets[n % wallets.len()];
        let to = wallets[(n + 1) % wallets.len()].1;
        core.wallet()
            .transfer(owner, &transfer(*from, to, 100 + n as i64), None)
            .await
            .unwrap();
    }
}

/// Switches to a new WAL segment and waits until the archiver has copied the one just closed.
async fn archive_current_wal(url: &str) {
    let client = sql(url).await;
    let segment: String = client
        .query_one("SELECT pg_walfile_name(pg_switch_wal())", &[])
        .await
        .unwrap()
        .get(0);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let archived: Option<String> = client
            .query_one("SELECT last_archived_wal FROM pg_stat_archiver", &[])
            .await
            .unwrap()
            .get(0);
        if archived.is_some_and(|archived| archived >= segment) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the archiver did not archive {segment}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_for_promotion(url: &str, log: &Path) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok((client, connection)) = tokio_postgres::connect(url, tokio_postgres::NoTls).await
        {
            tokio::spawn(connection);
            let in_recovery: bool = client
                .query_one("SELECT pg_is_in_recovery()", &[])
                .await
                .unwrap()
                .get(0);
            if !in_recovery {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "recovery did not finish: see {}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base_backup_and_archived_wal_recover_the_ledger_exactly_as_it_was_at_a_chosen_time() {
    let mut scratch = Scratch::new();
    let archive = scratch.root.join("wal-archive");
    let primary = scratch.open(
        "primary",
        &[
            ("wal_level", "replica".to_owned()),
            ("archive_mode", "on".to_owned()),
            (
                "archive_command",
                quoted(&format!(
                    "test ! -f {dir}/%f && cp %p {dir}/%f",
                    dir = archive.display()
                )),
            ),
        ],
    );
    let archive = scratch.directory_for(&scratch.clusters[primary], "wal-archive");
    let primary = &scratch.clusters[primary];
    primary.start().unwrap();
    primary.ensure_database("contacto").await.unwrap();
    let url = primary.connection_string("contacto");
    let core = Contacto::builder(test_config(&url)).build().unwrap();
    core.migrate().await.unwrap();
    let mut wallets = Vec::new();
    for i in 0..3 {
        let owner = user(&core, &format!("pitr{i}@example.dz"), Role::Customer).await;
        let w = wallet(&core, &owner).await;
        top_up(&core, &owner, w, 1_000_000).await;
        wallets.push((owner, w));
    }
    transfers(&core, &wallets, 5).await;

    // The base backup, taken while the primary runs.
    // pg_basebackup creates `data` with the 0700 mode PostgreSQL insists on.
    let base = scratch.directory_for(primary, "base").join("data");
    let backup = primary
        .pg_command("pg_basebackup")
        .arg("-D")
        .arg(&base)
        .args(["-X", "stream", "-c", "fast", "-d"])
        .arg(primary.connection_string("postgres"))
        .output()
        .unwrap();
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );

    // More transfers, then the chosen time, then more transfers that recovery must leave out.
    transfers(&core, &wallets, 5).await;
    let target: String = sql(&url)
        .await
        .query_one("SELECT clock_timestamp()::text", &[])
        .await
        .unwrap()
        .get(0);
    let at_target = ledger(&url).await;
    transfers(&core, &wallets, 5).await;
    let at_end = ledger(&url).await;
    assert_eq!(
        at_end.transactions.len(),
        at_target.transactions.len() + 5,
        "transfers were made after the target time"
    );
    archive_current_wal(&url).await;
    drop(core);
    primary.stop().unwrap();

    // The restore: a new data directory from the base backup, recovering from the archive.
    let restored_root = scratch.directory_for(primary, "restored");
    let copied = std::process::Command::new("cp")
        .arg("-a")
        .arg(&base)
        .arg(restored_root.join("data"))
        .status()
        .unwrap();
    assert!(copied.success());
    let restored = scratch.open(
        "restored",
        &[
            (
                "restore_command",
                quoted(&format!("cp {}/%f %p", archive.display())),
            ),
            ("recovery_target_time", quoted(&target)),
            ("recovery_target_action", "'promote'".to_owned()),
        ],
    );
    let restored = &scratch.clusters[restored];
    std::fs::write(restored.data_dir().join("recovery.signal"), "").unwrap();
    restored.start().unwrap();
    let restored_url = restored.connection_string("contacto");
    wait_for_promotion(&restored_url, &restored.log_file()).await;

    assert_eq!(ledger(&restored_url).await, at_target);
    let core = Contacto::builder(test_config(&restored_url))
        .build()
        .unwrap();
    let report = core.wallet().reconcile(None).await.unwrap();
    assert!(report.balanced, "{report:?}");
    // Promoted: the recovered cluster takes new transfers.
    transfers(&core, &wallets, 1).await;
}
