//! `contacto-server backup` and `restore`, run as an operator would, against real PostgreSQL:
//! a backup under write load restores every acknowledged transfer; restore refuses a non-empty
//! database and a damaged archive; retention prunes; the hook runs, and its failure is one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use contacto_core::api::{
    OpenWalletRequest, RegisterRequest, Role, TransferRequest, WalletId, WalletType,
};
use contacto_core::testing::TestDatabase;
use contacto_core::{Contacto, Principal};
use serde_json::Value;
use sha2::{Digest, Sha256};

const JWT_SECRET: &str = "a test secret that is long enough!!";

/// Runs `contacto-server` against the database at `url`, with nothing else from our environment.
async fn server(url: &str, args: &[&str], envs: &[(&str, &str)]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_contacto-server"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CONTACTO_DATABASE_URL", url)
        .env("CONTACTO_JWT_SECRET", JWT_SECRET)
        .env("CONTACTO_LOG_FORMAT", "json")
        .envs(envs.iter().copied())
        .output()
        .await
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A directory of its own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("contacto-{what}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }

    /// The file names in the directory, sorted.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    /// The manifests of the finished backups, oldest first.
    fn manifests(&self) -> Vec<PathBuf> {
        self.names()
            .into_iter()
            .filter(|name| name.starts_with("contacto-") && name.ends_with(".json"))
            .map(|name| self.0.join(name))
            .collect()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn sql(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

async fn count(url: &str, query: &str) -> i64 {
    sql(url).await.query_one(query, &[]).await.unwrap().get(0)
}

/// Drops the test's database and creates it again, empty.
async fn wipe(db: &TestDatabase) {
    let mut admin: tokio_postgres::Config = db.direct_url().parse().unwrap();
    admin.dbname("postgres");
    let (client, connection) = admin.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let name = db.name().replace('"', "\"\"");
    client
        .batch_execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .await
        .unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
}

/// A customer with a wallet topped up through the signed deposit webhook.
async fn funded_customer(core: &Contacto, email: &str, amount: i64) -> (Principal, WalletId) {
    let session = core
        .identity()
        .register(&RegisterRequest {
            email: email.into(),
            password: "a long enough password".into(),
            full_name: "Wallet Owner".into(),
            phone: None,
            role: Role::Customer,
        })
        .await
        .unwrap();
    let owner = core
        .identity()
        .authenticate(Some(&format!("Bearer {}", session.token)))
        .await
        .unwrap();
    let wallet = core
        .wallet()
        .open(
            &owner,
            &OpenWalletRequest {
                wallet_type: WalletType::Personal,
                currency: "DZD".into(),
            },
        )
        .await
        .unwrap()
        .id;
    contacto_core::testing::top_up(core, &owner, wallet, amount).await;
    (owner, wallet)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn manifest(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Takes a backup of `db` into `dir`; panics with the command's output if it fails.
async fn backup(db: &TestDatabase, dir: &TempDir, envs: &[(&str, &str)]) -> Output {
    let output = server(db.direct_url(), &["backup", "--to", dir.arg()], envs).await;
    assert!(output.status.success(), "{}", text(&output));
    output
}

/// The transfers in the ledger: id and amount.
async fn transfers(url: &str) -> HashMap<uuid::Uuid, i64> {
    sql(url)
        .await
        .query(
            "SELECT id, amount FROM ledger_transactions WHERE kind = 'transfer'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_write_load_restores_every_acknowledged_transfer_and_balances() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    let mut wallets = Vec::new();
    for i in 0..4 {
        wallets.push(funded_customer(&core, &format!("load{i}@example.dz"), 10_000_000).await);
    }

    // Load: transfers around the ring until told to stop; every acknowledgement is recorded.
    let acknowledged: Arc<Mutex<Vec<(uuid::Uuid, i64)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for worker in 0..wallets.len() {
        let (core, wallets) = (core.clone(), wallets.clone());
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut n = 0i64;
            while !stop.load(Ordering::Relaxed) {
                let (owner, from) = &wallets[worker];
                let to = wallets[(worker + 1) % wallets.len()].1;
                let request = TransferRequest {
                    from_wallet_id: *from,
                    to_wallet_id: Some(to),
                    to_email: None,
                    to_phone: None,
                    amount: 1 + n % 97,
                    description: Some("under load".into()),
                };
                let view = core.wallet().transfer(owner, &request, None).await.unwrap();
                acknowledged.lock().unwrap().push((view.id.0, view.amount));
                n += 1;
            }
        }));
    }
    while acknowledged.lock().unwrap().len() < 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let dir = TempDir::new("backup-load");
    let before: HashMap<uuid::Uuid, i64> = acknowledged.lock().unwrap().iter().copied().collect();
    let output = server(db.direct_url(), &["backup", "--to", dir.arg()], &[]).await;
    let during = acknowledged.lock().unwrap().len() - before.len();
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        during > 0,
        "transfers were acknowledged while the backup ran"
    );
    let all: HashMap<uuid::Uuid, i64> = acknowledged.lock().unwrap().iter().copied().collect();
    drop(core);

    wipe(&db).await;
    assert!(transfers_table_is_gone(db.direct_url()).await);
    let restored = server(db.direct_url(), &["restore", dir.arg()], &[]).await;
    assert!(restored.status.success(), "{}", text(&restored));
    assert!(
        text(&restored).contains("\"balanced\": true"),
        "{}",
        text(&restored)
    );

    let in_backup = transfers(db.direct_url()).await;
    for (id, amount) in &before {
        assert_eq!(
            in_backup.get(id),
            Some(amount),
            "transfer {id}, acknowledged before the backup started, is restored as it was"
        );
    }
    for (id, amount) in &in_backup {
        assert_eq!(
            all.get(id),
            Some(amount),
            "restored transfer {id} was acknowledged, for this amount"
        );
    }
    let core = db.contacto();
    let report = core.wallet().reconcile(None).await.unwrap();
    assert!(report.balanced, "{report:?}");
    assert_eq!(
        report.transactions_checked,
        count(db.direct_url(), "SELECT count(*) FROM ledger_transactions").await
    );
}

async fn transfers_table_is_gone(url: &str) -> bool {
    count(
        url,
        "SELECT count(*) FROM pg_class WHERE relname = 'ledger_transactions'",
    )
    .await
        == 0
}

#[tokio::test]
async fn a_backup_is_an_archive_and_a_manifest_and_no_password_reaches_a_log_or_an_argument() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    funded_customer(&core, "manifest@example.dz", 5_000).await;
    let password = "hunter2-never-shown";
    let url = if db.direct_url().contains("://") {
        let separator = if db.direct_url().contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{separator}password={password}", db.direct_url())
    } else {
        format!("{} password={password}", db.direct_url())
    };
    // PostgreSQL's programs, wrapped to record how they were called.
    let real = contacto_core::managed::PgBinaries::locate(None).unwrap();
    let wrappers = TempDir::new("pg-wrappers");
    for program in ["pg_dump", "pg_restore", "psql"] {
        let script = format!(
            "#!/bin/sh\necho \"{program} $*\" >> '{log}/argv.log'\necho \"{program} ${{PGPASSWORD}}\" >> '{log}/env.log'\nexec '{real}' \"$@\"\n",
            log = wrappers.path().display(),
            real = real.program(program).display(),
        );
        let path = wrappers.path().join(program);
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }

    let dir = TempDir::new("backup-manifest");
    let output = server(
        &url,
        &["backup", "--to", dir.arg()],
        &[("CONTACTO_PG_BIN_DIR", wrappers.arg())],
    )
    .await;
    assert!(output.status.success(), "{}", text(&output));

    let [manifest_path] = dir.manifests().try_into().unwrap();
    let manifest_text = std::fs::read_to_string(&manifest_path).unwrap();
    let manifest = manifest(&manifest_path);
    let archive = dir.path().join(manifest["file"].as_str().unwrap());
    let bytes = std::fs::read(&archive).unwrap();
    assert!(
        bytes.starts_with(b"PGDMP"),
        "a pg_dump custom-format archive"
    );
    assert_eq!(manifest["format"], "pg_dump-custom");
    assert_eq!(manifest["size_bytes"], bytes.len());
    assert_eq!(manifest["sha256"], hex(&Sha256::digest(&bytes)));
    assert_eq!(
        manifest["schema_version"],
        core.readiness().await.expected_schema_version
    );
    assert!(manifest["database"].as_str().unwrap().ends_with(db.name()));
    assert!(
        manifest["pg_dump_version"]
            .as_str()
            .unwrap()
            .starts_with(|c: char| c.is_ascii_digit()),
        "{manifest}"
    );
    for file in [&archive, &manifest_path] {
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(file).unwrap().permissions(),
        );
        assert_eq!(mode & 0o077, 0, "{} is private", file.display());
    }

    let argv = std::fs::read_to_string(wrappers.path().join("argv.log")).unwrap();
    let env = std::fs::read_to_string(wrappers.path().join("env.log")).unwrap();
    assert!(argv.contains("pg_dump --format=custom"), "{argv}");
    assert!(
        env.contains(&format!("pg_dump {password}")),
        "the password reaches pg_dump through its environment: {env}"
    );
    for (what, text) in [
        ("arguments", argv.as_str()),
        ("manifest", manifest_text.as_str()),
        ("output", text(&output).as_str()),
    ] {
        assert!(
            !text.contains(password),
            "the password is not in the {what}"
        );
    }
}

#[tokio::test]
async fn restore_refuses_a_database_that_is_not_empty_unless_told_to_replace_it() {
    let db = TestDatabase::create().await;
    let core = db.contacto();
    funded_customer(&core, "kept@example.dz", 5_000).await;
    let dir = TempDir::new("backup-refuse");
    backup(&db, &dir, &[]).await;
    funded_customer(&core, "later@example.dz", 7_000).await;
    let url = db.direct_url();
    sql(url)
        .await
        .batch_execute("CREATE TABLE restore_sentinel (note text); INSERT INTO restore_sentinel VALUES ('mine')")
        .await
        .unwrap();
    let users = "SELECT count(*) FROM users";
    assert_eq!(count(url, users).await, 2);

    let refused = server(url, &["restore", dir.arg()], &[]).await;
    assert!(!refused.status.success());
    let said = text(&refused);
    assert!(
        said.contains("not empty") && said.contains("--replace"),
        "{said}"
    );
    assert_eq!(count(url, users).await, 2, "nothing was written");
    assert_eq!(count(url, "SELECT count(*) FROM restore_sentinel").await, 1);

    drop(core);
    let replaced = server(url, &["restore", dir.arg(), "--replace"], &[]).await;
    assert!(replaced.status.success(), "{}", text(&replaced));
    assert_eq!(count(url, users).await, 1, "the database is the backup's");
    assert_eq!(
        count(
            url,
            "SELECT count(*) FROM pg_class WHERE relname = 'restore_sentinel'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_damaged_backup_is_refused_before_anything_is_written() {
    let db = TestDatabase::create().await;
    let dir = TempDir::new("backup-damaged");
    backup(&db, &dir, &[]).await;
    let [manifest_path] = dir.manifests().try_into().unwrap();
    let archive = dir
        .path()
        .join(manifest(&manifest_path)["file"].as_str().unwrap());
    let mut bytes = std::fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&archive, bytes).unwrap();
    wipe(&db).await;

    let refused = server(
        db.direct_url(),
        &["restore", manifest_path.to_str().unwrap()],
        &[],
    )
    .await;
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("does not match its manifest"),
        "{}",
        text(&refused)
    );
    assert_eq!(
        count(
            db.direct_url(),
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public'"
        )
        .await,
        0,
        "the database is still empty"
    );
}

/// A finished backup as retention sees it: a manifest and an archive named for their time.
fn fake_backup(dir: &TempDir, stamp: &str) {
    std::fs::write(dir.path().join(format!("contacto-{stamp}.json")), "{}").unwrap();
    std::fs::write(dir.path().join(format!("contacto-{stamp}.dump")), "PGDMP").unwrap();
}

#[tokio::test]
async fn retention_keeps_the_newest_backup_of_recent_days_and_weeks_and_deletes_the_rest() {
    let db = TestDatabase::create().await;
    let dir = TempDir::new("backup-retention");
    // ISO week 2 of 2020: Monday the 6th and Wednesday the 8th; week 3: Tuesday the 14th.
    for stamp in [
        "20200106T100000Z",
        "20200106T220000Z",
        "20200108T090000Z",
        "20200114T080000Z",
        "20200114T200000Z",
    ] {
        fake_backup(&dir, stamp);
    }
    // Not finished backups, or not backups at all: never touched.
    std::fs::write(dir.path().join("contacto-20190101T000000Z.dump"), "orphan").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "keep me").unwrap();

    backup(
        &db,
        &dir,
        &[
            ("CONTACTO_BACKUP_KEEP_DAILY", "2"),
            ("CONTACTO_BACKUP_KEEP_WEEKLY", "3"),
        ],
    )
    .await;

    let names = dir.names();
    let new = names
        .iter()
        .find(|name| name.ends_with(".json") && !name.starts_with("contacto-2020"))
        .unwrap()
        .trim_end_matches(".json");
    let mut expected = vec![
        // Days: today's new backup, and the newest of the 14th. Weeks: today's, week 3's (the
        // same backup of the 14th) and week 2's newest, on the 8th.
        "contacto-20190101T000000Z.dump".to_owned(),
        "contacto-20200108T090000Z.dump".to_owned(),
        "contacto-20200108T090000Z.json".to_owned(),
        "contacto-20200114T200000Z.dump".to_owned(),
        "contacto-20200114T200000Z.json".to_owned(),
        format!("{new}.dump"),
        format!("{new}.json"),
        "notes.txt".to_owned(),
    ];
    expected.sort();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn the_hook_gets_each_finished_backup_without_our_secrets_and_its_failure_fails_the_backup() {
    let db = TestDatabase::create().await;
    let dir = TempDir::new("backup-hook");
    let offsite = TempDir::new("backup-offsite");
    let hook = format!(
        "cp \"$1\" \"$2\" '{offsite}/' && env > '{offsite}/hook-env.txt'",
        offsite = offsite.path().display()
    );
    backup(&db, &dir, &[("CONTACTO_BACKUP_HOOK", &hook)]).await;
    let [manifest_path] = dir.manifests().try_into().unwrap();
    let manifest = manifest(&manifest_path);
    let file = manifest["file"].as_str().unwrap();
    assert_eq!(
        std::fs::read(offsite.path().join(file)).unwrap(),
        std::fs::read(dir.path().join(file)).unwrap(),
        "the hook copied the archive"
    );
    assert!(
        offsite
            .path()
            .join(manifest_path.file_name().unwrap())
            .is_file()
    );
    let hook_env = std::fs::read_to_string(offsite.path().join("hook-env.txt")).unwrap();
    let sha256 = manifest["sha256"].as_str().unwrap();
    assert!(
        hook_env.contains(&format!("CONTACTO_BACKUP_SHA256={sha256}")),
        "{hook_env}"
    );
    assert!(hook_env.contains(&format!(
        "CONTACTO_BACKUP_FILE={}",
        dir.path().join(file).display()
    )));
    for secret in ["CONTACTO_DATABASE_URL", "CONTACTO_JWT_SECRET", JWT_SECRET] {
        assert!(!hook_env.contains(secret), "the hook does not get {secret}");
    }

    // A failing hook: the command fails, the backup stays, nothing is pruned, and the hook's
    // command line (it may hold a credential) is not repeated.
    let failing = TempDir::new("backup-hook-failing");
    fake_backup(&failing, "20200106T100000Z");
    let output = server(
        db.direct_url(),
        &["backup", "--to", failing.arg()],
        &[
            ("CONTACTO_BACKUP_HOOK", "token=s3cr3t-upload-token; exit 3"),
            ("CONTACTO_BACKUP_KEEP_DAILY", "1"),
            ("CONTACTO_BACKUP_KEEP_WEEKLY", "0"),
        ],
    )
    .await;
    assert!(!output.status.success());
    let said = text(&output);
    assert!(
        said.contains("backup hook failed") && said.contains("exit status: 3"),
        "{said}"
    );
    assert!(!said.contains("s3cr3t-upload-token"), "{said}");
    assert_eq!(
        failing.manifests().len(),
        2,
        "the new backup is complete, the old one kept"
    );
}
