//! The ledger against its baselines: P2P transfers through core (the library) on a durable
//! PostgreSQL cluster, with pgbench brackets on the same cluster before and after, as
//! `../shared/PERFORMANCE.md` prescribes.
//!
//! ```text
//! cargo run --release -p contacto-benches --bin wallet-bench -- --wallets 100000 --seconds 20
//! ```
//!
//! It starts its own durable cluster (fsync and synchronous commit on) in a temporary directory
//! and removes it at the end.
//!
//! `--pgbouncer transaction` (or `session`) puts a real PgBouncer between core and PostgreSQL, with
//! as many server connections as core's pool (`--pgbouncer-pool` to change it); migrations, the
//! setup and pgbench still go direct. `--compare-direct` adds direct connections to the same run:
//! four load windows in ABBA order (direct, PgBouncer, PgBouncer, direct) on the same cluster and
//! data, so that both see the same background load (`docs/PERFORMANCE.md`, "Through PgBouncer").

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use contacto_benches::baseline::{Baseline, Pgbench, median};
use contacto_benches::cpu::CpuTicks;
use contacto_core::api::{Role, TransferRequest, UserId, WalletId};
use contacto_core::managed::{ManagedPostgres, PgBinaries};
use contacto_core::testing::{LEDGER_LANES, PgBouncer, PgBouncerOptions, PoolMode};
use contacto_core::{
    AuthConfig, Config, Contacto, Credential, DatabaseConfig, Principal, WalletConfig,
};
use hdrhistogram::Histogram;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use rand_distr::{Distribution, Zipf};
use tokio::sync::Mutex;

// A binary's root resolves modules beside itself, where cargo would take them for binaries too.
#[path = "wallet_bench/ab.rs"]
mod ab;

#[derive(Debug, Parser)]
#[command(about = "Transfers through contacto-core against pgbench baselines")]
struct Args {
    /// Wallets to create and fund.
    #[arg(long, default_value_t = 100_000)]
    wallets: u64,
    /// Seconds of measured load.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Concurrent callers.
    #[arg(long, default_value_t = 512)]
    concurrency: usize,
    /// Zipf exponent of the wallet choice (0 for uniform).
    #[arg(long, default_value_t = 1.0)]
    zipf: f64,
    /// Seconds of each pgbench run.
    #[arg(long, default_value_t = 15)]
    pgbench_seconds: u32,
    /// Database pool size.
    #[arg(long, default_value_t = 16)]
    pool: usize,
    /// Connect core through a PgBouncer in this pooling mode: `transaction` or `session`.
    #[arg(long)]
    pgbouncer: Option<PoolMode>,
    /// PgBouncer's server connections (`default_pool_size`); by default `--pool`, so that both
    /// ways use as many PostgreSQL backends.
    #[arg(long)]
    pgbouncer_pool: Option<u32>,
    /// With `--pgbouncer`: also measure direct connections, alternating with PgBouncer in ABBA
    /// order, each window `--seconds` long.
    #[arg(long, requires = "pgbouncer")]
    compare_direct: bool,
    /// Plan the ledger's statements for every batch instead of preparing them once per
    /// connection (always so with `--pgbouncer transaction`, for both ways of `--compare-direct`).
    #[arg(long)]
    no_prepared_statements: bool,
    /// Load `pg_stat_statements` and print the statements PostgreSQL spent the idle client's and
    /// the load's time on, per transfer written.
    #[arg(long, conflicts_with = "compare_direct")]
    statements: bool,
}

impl Args {
    /// Whether core may prepare its statements: not behind PgBouncer 1.18 in transaction mode.
    fn prepared_statements(&self) -> bool {
        !self.no_prepared_statements && self.pgbouncer != Some(PoolMode::Transaction)
    }
}

/// Each funded wallet's starting balance, in centimes: far more than the load can drain, so every
/// rejection would be a bug, not a lack of funds.
const START_BALANCE_MINOR: i64 = 1_000_000_000;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args = Args::parse();
    let root = std::env::temp_dir().join(format!("contacto-bench-{}", std::process::id()));
    let mut options = contacto_benches::bench_cluster_options(&root, 200);
    if args.statements {
        options
            .settings
            .extend(contacto_benches::statements::settings());
    }
    let cluster = ManagedPostgres::open(PgBinaries::locate(None)?, options)?;
    cluster.start()?;
    let outcome = run(&args, &cluster).await;
    cluster.stop()?;
    std::fs::remove_dir_all(&root)?;
    outcome
}

async fn run(
    args: &Args,
    cluster: &ManagedPostgres,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    print_machine(cluster);
    let pgbench = Pgbench::init(cluster, args.pgbench_seconds).await?;
    eprintln!("pgbench bracket 1 ...");
    let before = pgbench.bracket()?;

    cluster.ensure_database("contacto").await?;
    let url = cluster.connection_string("contacto");
    let direct = core_on(&url, args.pool, args.prepared_statements())?;
    // Migrations take a session-level lock, so they go direct (docs/OPERATIONS.md, PgBouncer).
    direct.migrate().await?;
    let pgbouncer = match args.pgbouncer {
        Some(mode) => Some(PgBouncer::start(
            &url,
            PgBouncerOptions {
                mode,
                pool_size: args.pgbouncer_pool.unwrap_or(u32::try_from(args.pool)?),
            },
        )?),
        None => None,
    };
    let core = match &pgbouncer {
        Some(pgbouncer) => core_on(
            &pgbouncer.url("contacto"),
            args.pool,
            args.prepared_statements(),
        )?,
        None => direct.clone(),
    };
    eprintln!("creating and funding {} wallets ...", args.wallets);
    let owners = Arc::new(setup(&url, args.wallets).await?);
    let size_before = LedgerSize::of(&url).await?;
    if args.statements {
        contacto_benches::statements::reset(&connect(&url).await?).await?;
    }

    let pgbouncer_pid = pgbouncer.as_ref().and_then(PgBouncer::pid);
    let (mut idle_phases, mut load_phases) = (None, None);
    let (idle, load, comparison) = if args.compare_direct {
        let ab = ab::compare(&url, &direct, &core, &owners, args, pgbouncer_pid).await?;
        (
            median(ab.through_idle.clone()),
            ab.through.clone(),
            Some(ab),
        )
    } else {
        eprintln!("one idle client ...");
        let phases_before = BatchPhases::of(&core);
        let idle = median(idle_latency(&core, &owners, 300).await?);
        idle_phases = Some(BatchPhases::of(&core).since(&phases_before));
        eprintln!("{} callers for {} s ...", args.concurrency, args.seconds);
        let (phases_before, started) = (BatchPhases::of(&core), Instant::now());
        let load = load(&core, &owners, args, pgbouncer_pid).await?;
        load_phases = Some((
            BatchPhases::of(&core).since(&phases_before),
            started.elapsed().as_secs_f64(),
        ));
        (idle, load, None)
    };
    let size_after = LedgerSize::of(&url).await?;
    // Before pgbench and the reconciliation add theirs.
    let statement_report = if args.statements {
        Some(statements(&url, size_after.transactions_since(&size_before)).await?)
    } else {
        None
    };

    eprintln!("pgbench bracket 2 ...");
    let after = pgbench.bracket()?;
    let report = core.wallet().reconcile(None).await?;

    // Against every transaction written in between, the warm-ups and idle transfers included,
    // not only those counted in the measured window; with --compare-direct, from the end of the
    // warm-up window (both ways write the same rows).
    let since = comparison
        .as_ref()
        .map_or(&size_before, |ab| &ab.ledger_before);
    report_figures(
        args,
        &before,
        &after,
        &load,
        idle,
        size_after.bytes_per_transaction_since(since),
        report.balanced,
    );
    if let Some(phases) = idle_phases {
        println!("idle client's batches     {phases}");
    }
    if let Some((phases, seconds)) = load_phases {
        println!("callers' batches          {phases} (warm-up included)");
        println!("  in flight               {}", phases.lanes(seconds));
    }
    println!(
        "  of which, per transfer   {}",
        size_after.growth_per_transaction(since)
    );
    println!(
        "  where the bytes go       {}; {}",
        density(&url).await?,
        size_after.hot_share_since(since)
    );
    if let Some(report) = statement_report {
        print!("{report}");
    }
    if let Some(ab) = comparison {
        ab::report_comparison(args, &ab);
    }
    Ok(())
}

/// Core on `url`, with the benchmark's pool and no daily limit in the way.
fn core_on(url: &str, pool: usize, prepared: bool) -> Result<Contacto, contacto_core::Error> {
    let mut database = DatabaseConfig::new(url);
    database.pool_max_size = pool;
    database.prepared_statements = prepared;
    Contacto::builder(Config {
        database,
        auth: AuthConfig::new("a benchmark secret of at least 32 bytes"),
        wallet: WalletConfig {
            daily_limits: contacto_core::DailyLimits([i64::MAX; 3]),
            ..WalletConfig::default()
        },
    })
    .build()
}

fn print_machine(cluster: &ManagedPostgres) {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let sha = contacto_benches::git_sha();
    println!(
        "machine: {cores} cores; PostgreSQL programs in {}",
        cluster.binaries().bin_dir().display()
    );
    println!(
        "git: {sha}; fsync=on, synchronous_commit=on; load generator, core and PostgreSQL share the machine"
    );
}

async fn connect(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// Users and wallets in bulk, funded by one balanced adjustment from the funding account.
async fn setup(
    url: &str,
    wallets: u64,
) -> Result<Vec<(UserId, WalletId)>, Box<dyn std::error::Error + Send + Sync>> {
    let client = connect(url).await?;
    let n = i64::try_from(wallets)?;
    client
        .execute(
            "INSERT INTO users (id, email, full_name, role, password_hash) \
             SELECT gen_random_uuid(), 'bench' || i || '@example.dz', 'Bench ' || i, 'customer', \
                    '$argon2id$not-a-login' FROM generate_series(1, $1::int8) i",
            &[&n],
        )
        .await?;
    client
        .batch_execute(&format!(
            "INSERT INTO wallets (id, owner_id, kind, currency) \
               SELECT gen_random_uuid(), id, 'personal', 'DZD' FROM users WHERE role = 'customer';
             BEGIN;
             INSERT INTO ledger_transactions (id, kind, currency, amount, description) \
               VALUES ('00000000-0000-7000-8000-0000000000ff', 'adjustment', 'DZD', {total}, 'benchmark funding');
             INSERT INTO ledger_entries (wallet_number, seq, transaction_id, amount, balance_after) \
               SELECT number, 1, '00000000-0000-7000-8000-0000000000ff'::uuid, {each}, {each} FROM wallets WHERE kind = 'personal' \
               UNION ALL \
               SELECT number, entry_count + 1, '00000000-0000-7000-8000-0000000000ff'::uuid, -{total}, posted - {total} \
               FROM wallets WHERE kind = 'system' AND system_role = 'funding' AND currency = 'DZD';
             UPDATE wallets SET posted = {each}, entry_count = 1 WHERE kind = 'personal';
             UPDATE wallets SET posted = posted - {total}, entry_count = entry_count + 1 \
               WHERE kind = 'system' AND system_role = 'funding' AND currency = 'DZD';
             COMMIT;",
            each = START_BALANCE_MINOR,
            total = START_BALANCE_MINOR * n,
        ))
        .await?;
    let rows = client
        .query(
            "SELECT owner_id, id FROM wallets WHERE kind = 'personal' ORDER BY id",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (UserId(r.get(0)), WalletId(r.get(1))))
        .collect())
}

/// PostgreSQL's time per statement since the ledger's `transfers` began (the idle client, the
/// warm-up and the load), per transfer, as lines to print.
async fn statements(
    url: &str,
    transfers: f64,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let spent = contacto_benches::statements::top(&connect(url).await?, 12).await?;
    let per = |ms: f64| ms * 1000.0 / transfers;
    let mut report = String::from(
        "statements, per transfer written (us: planning + execution; calls; rows; buffers per call; WAL bytes per transfer):\n",
    );
    for statement in spent {
        report.push_str(&format!(
            "  {:>7.1} + {:>7.1}  {:>8} {:>9} {:>7} {:>6.0}  {}\n",
            per(statement.plan_ms),
            per(statement.exec_ms),
            statement.calls,
            statement.rows,
            statement.buffers_per_call,
            statement.wal_bytes / transfers,
            statement.excerpt(None, 90),
        ));
    }
    Ok(report)
}

/// How full each ledger relation is (`pgstattuple`): a table's average tuple with its line
/// pointer and its free space; a B-tree's leaf density. It tells rows that are too wide from pages
/// left half empty.
async fn density(url: &str) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let client = connect(url).await?;
    client
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        .await?;
    let mut parts = Vec::new();
    for table in ["ledger_entries", "ledger_transactions"] {
        let row = client
            .query_one(
                "SELECT tuple_count, tuple_len::float8 / greatest(tuple_count, 1) + 4, \
                        free_percent, dead_tuple_count FROM pgstattuple($1::text::regclass)",
                &[&table],
            )
            .await?;
        let (live, bytes, free, dead): (i64, f64, f64, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        parts.push(format!(
            "{table}: {live} rows of {bytes:.0} B, {free:.0}% free, {dead} dead"
        ));
    }
    for index in ["ledger_entries_pkey", "ledger_transactions_pkey"] {
        let row = client
            .query_one(
                "SELECT avg_leaf_density, leaf_pages FROM pgstatindex($1::text::regclass)",
                &[&index],
            )
            .await?;
        let (density, leaves): (f64, i64) = (row.get(0), row.get(1));
        parts.push(format!(
            "{index}: leaves {density:.0}% full ({leaves} pages)"
        ));
    }
    Ok(parts.join("; "))
}

/// The ledger's tables and indexes, each in bytes, every fork (and a table's TOAST) included,
/// and how many transactions it holds.
pub(crate) struct LedgerSize {
    relations: Vec<(String, i64)>,
    transactions: i64,
    /// Wallet row updates so far, and those of them that were HOT (no index touched).
    wallet_updates: (i64, i64),
}

impl LedgerSize {
    async fn of(url: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let client = connect(url).await?;
        let rows = client
            .query(
                "SELECT c.relname::text, pg_table_size(c.oid) \
                 FROM pg_class c \
                 WHERE c.relname IN ('ledger_entries', 'ledger_transactions') \
                    OR c.oid IN (SELECT indexrelid FROM pg_index \
                                 WHERE indrelid IN ('ledger_entries'::regclass, \
                                                    'ledger_transactions'::regclass)) \
                 ORDER BY c.relname",
                &[],
            )
            .await?;
        let transactions = client
            .query_one("SELECT count(*) FROM ledger_transactions", &[])
            .await?
            .get(0);
        // The statistics collector publishes a backend's counts when its transaction ends, at
        // most every half second: give the last batches' counts that long.
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        let updates = client
            .query_one(
                "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'wallets'",
                &[],
            )
            .await?;
        Ok(Self {
            relations: rows.iter().map(|r| (r.get(0), r.get(1))).collect(),
            transactions,
            wallet_updates: (updates.get(0), updates.get(1)),
        })
    }

    /// The share of wallet updates since `before` that were HOT.
    fn hot_share_since(&self, before: &Self) -> String {
        let updated = self.wallet_updates.0 - before.wallet_updates.0;
        let hot = self.wallet_updates.1 - before.wallet_updates.1;
        format!(
            "wallets: {updated} row updates, {:.0}% of them HOT (no index touched)",
            hot as f64 * 100.0 / updated.max(1) as f64
        )
    }

    fn bytes(&self) -> i64 {
        self.relations.iter().map(|(_, size)| size).sum()
    }

    fn transactions_since(&self, before: &Self) -> f64 {
        (self.transactions - before.transactions).max(1) as f64
    }

    fn bytes_per_transaction_since(&self, before: &Self) -> f64 {
        (self.bytes() - before.bytes()) as f64 / self.transactions_since(before)
    }

    /// What each relation grew by per transaction, largest first.
    fn growth_per_transaction(&self, before: &Self) -> String {
        let mut growth: Vec<(&str, f64)> = self
            .relations
            .iter()
            .map(|(name, size)| {
                let was = before
                    .relations
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(0, |(_, s)| *s);
                (
                    name.as_str(),
                    (size - was) as f64 / self.transactions_since(before),
                )
            })
            .collect();
        growth.sort_by(|a, b| b.1.total_cmp(&a.1));
        growth
            .iter()
            .map(|(name, bytes)| format!("{name} {bytes:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn principal(user: UserId) -> Principal {
    Principal {
        user_id: user,
        role: Role::Customer,
        credential: Credential::Token,
    }
}

/// The latency of `transfers` sequential transfers, in milliseconds.
async fn idle_latency(
    core: &Contacto,
    owners: &[(UserId, WalletId)],
    transfers: usize,
) -> Result<Vec<f64>, Box<dyn std::error::Error + Send + Sync>> {
    let mut samples = Vec::with_capacity(transfers);
    for i in 0..transfers {
        let (owner, from) = owners[i % owners.len()];
        let to = owners[(i + 1) % owners.len()].1;
        let request = TransferRequest {
            from_wallet_id: from,
            to_wallet_id: Some(to),
            to_email: None,
            to_phone: None,
            amount: 1,
            description: None,
        };
        let started = Instant::now();
        core.wallet()
            .transfer(
                &principal(owner),
                &request,
                Some(&contacto_core::new_idempotency_key()),
            )
            .await?;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(samples)
}

#[derive(Clone)]
struct Load {
    transfers: u64,
    failures: u64,
    seconds: f64,
    latency: Histogram<u64>,
    /// PgBouncer's share of the machine's CPU time over the measurement, when it ran.
    pgbouncer_cpu: Option<f64>,
}

impl Load {
    fn rate(&self) -> f64 {
        self.transfers as f64 / self.seconds
    }
}

/// User and system clock ticks process `pid` has run, from `/proc/<pid>/stat`.
fn process_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    let after_name = stat.rsplit(')').next()?;
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

async fn load(
    core: &Contacto,
    owners: &Arc<Vec<(UserId, WalletId)>>,
    args: &Args,
    pgbouncer_pid: Option<u32>,
) -> Result<Load, Box<dyn std::error::Error + Send + Sync>> {
    let recording = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let transfers = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let latency = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(
        1, 60_000_000, 3,
    )?));
    let zipf = Zipf::new(owners.len() as f64, args.zipf.max(0.0))?;
    let mut tasks = Vec::new();
    for worker in 0..args.concurrency {
        let (core, owners, recording, done, transfers, failures, latency) = (
            core.clone(),
            Arc::clone(owners),
            Arc::clone(&recording),
            Arc::clone(&done),
            Arc::clone(&transfers),
            Arc::clone(&failures),
            Arc::clone(&latency),
        );
        tasks.push(tokio::spawn(async move {
            let mut rng = SmallRng::seed_from_u64(worker as u64);
            let mut local = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)
                .unwrap_or_else(|_| unreachable!());
            while !done.load(Ordering::Relaxed) {
                let from = (zipf.sample(&mut rng) as usize).saturating_sub(1) % owners.len();
                let mut to = (zipf.sample(&mut rng) as usize).saturating_sub(1) % owners.len();
                if to == from {
                    to = (to + 1) % owners.len();
                }
                let (owner, from_wallet) = owners[from];
                let request = TransferRequest {
                    from_wallet_id: from_wallet,
                    to_wallet_id: Some(owners[to].1),
                    to_email: None,
                    to_phone: None,
                    amount: 1 + (worker as i64 % 100),
                    description: None,
                };
                let started = Instant::now();
                let result = core
                    .wallet()
                    .transfer(
                        &principal(owner),
                        &request,
                        Some(&contacto_core::new_idempotency_key()),
                    )
                    .await;
                if recording.load(Ordering::Relaxed) {
                    match result {
                        Ok(_) => {
                            transfers.fetch_add(1, Ordering::Relaxed);
                            let _ = local.record(started.elapsed().as_micros() as u64);
                        }
                        Err(_) => {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
            let _ = latency.lock().await.add(&local);
        }));
    }
    // Warm up, then measure.
    tokio::time::sleep(Duration::from_secs(3)).await;
    recording.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let cpu_before = CpuTicks::now();
    let pgbouncer_before = pgbouncer_pid.and_then(process_ticks);
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    recording.store(false, Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    let machine = CpuTicks::now().since(&cpu_before);
    let pgbouncer_cpu = pgbouncer_before
        .zip(pgbouncer_pid.and_then(process_ticks))
        .map(|(before, after)| after.saturating_sub(before) as f64 / machine.total.max(1) as f64);
    done.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await?;
    }
    let latency = latency.lock().await.clone();
    Ok(Load {
        transfers: transfers.load(Ordering::Relaxed),
        failures: failures.load(Ordering::Relaxed),
        seconds,
        latency,
        pgbouncer_cpu,
    })
}

fn report_figures(
    args: &Args,
    before: &Baseline,
    after: &Baseline,
    load: &Load,
    idle_p50_ms: f64,
    bytes_per_transfer: f64,
    balanced: bool,
) {
    let p = median(vec![before.p.tps, after.p.tps]);
    let l_p = median(vec![before.p.latency_ms, after.p.latency_ms]);
    let l_1 = median(vec![before.one.latency_ms, after.one.latency_ms]);
    let spread = (before.p.tps - after.p.tps).abs() / p;
    let rate = load.transfers as f64 / load.seconds;
    let ms = |q: f64| load.latency.value_at_quantile(q) as f64 / 1000.0;
    println!();
    println!(
        "baseline  P = {p:.0} tps (brackets {:.0} / {:.0}, spread {:.0}%{}), L_P = {l_p:.2} ms, L_1 = {l_1:.2} ms",
        before.p.tps,
        after.p.tps,
        spread * 100.0,
        if spread > 0.15 {
            "; over 15%: noisy run, measure again"
        } else {
            ""
        }
    );
    println!(
        "workload  {} wallets, zipf {}, {} callers, {:.0} s: {} transfers, {} failed",
        args.wallets, args.zipf, args.concurrency, load.seconds, load.transfers, load.failures
    );
    match args.pgbouncer {
        Some(mode) => println!(
            "connected through PgBouncer, {mode} mode, {} server connections for a pool of {}; \
             PgBouncer used {:.1}% of the machine's CPU",
            args.pgbouncer_pool.map_or(args.pool, |n| n as usize),
            args.pool,
            load.pgbouncer_cpu.unwrap_or(f64::NAN) * 100.0
        ),
        None => println!("connected directly, a pool of {}", args.pool),
    }
    println!(
        "ledger statements          {}",
        if args.prepared_statements() {
            "prepared once per connection, for batches of up to 16 operations"
        } else {
            "planned for every batch"
        }
    );
    println!(
        "library transfers/s        {rate:>10.0}   = {:.2} x P   (target >= 10 x P)",
        rate / p
    );
    println!(
        "latency under load (ms)    p50 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        ms(0.5),
        ms(0.99),
        ms(0.999),
        ms(1.0)
    );
    println!(
        "idle client p50 (ms)       {idle_p50_ms:>10.2}   = {:.2} x L_1 (target <= 1.3 x L_1)",
        idle_p50_ms / l_1
    );
    println!(
        "ledger bytes per transfer  {bytes_per_transfer:>10.0}   (target <= 350; includes indexes)"
    );
    println!(
        "reconciliation after load  {}",
        if balanced { "balanced" } else { "NOT BALANCED" }
    );
}

/// The ledger's committed batches: by phase (`contacto_ledger_batch_phase_seconds`, how many
/// recorded each phase and the seconds they spent in it), their operations
/// (`contacto_ledger_batch_size`), their time from connection to commit
/// (`contacto_ledger_commit_duration_seconds`) and how many started beside another
/// (`contacto_ledger_batches_beside_total`).
#[derive(Clone, Copy, Default)]
struct BatchPhases {
    phases: [(u64, f64); 4],
    operations: f64,
    commit_seconds: f64,
    beside: f64,
}

impl BatchPhases {
    const NAMES: [&'static str; 4] = ["connect", "read", "post", "write"];

    fn of(core: &Contacto) -> Self {
        let mut stats = Self::default();
        for family in core.registry().gather() {
            for metric in family.get_metric() {
                match family.name() {
                    "contacto_ledger_batch_phase_seconds" => {
                        let phase = metric
                            .get_label()
                            .iter()
                            .find(|label| label.name() == "phase")
                            .map(prometheus::proto::LabelPair::value);
                        if let Some(i) = Self::NAMES.iter().position(|name| Some(*name) == phase) {
                            let histogram = metric.get_histogram();
                            stats.phases[i] =
                                (histogram.get_sample_count(), histogram.get_sample_sum());
                        }
                    }
                    "contacto_ledger_batch_size" => {
                        stats.operations = metric.get_histogram().get_sample_sum();
                    }
                    "contacto_ledger_commit_duration_seconds" => {
                        stats.commit_seconds = metric.get_histogram().get_sample_sum();
                    }
                    "contacto_ledger_batches_beside_total" => {
                        stats.beside = metric.get_counter().get_value();
                    }
                    _ => {}
                }
            }
        }
        stats
    }

    fn since(&self, earlier: &Self) -> Self {
        let mut stats = *self;
        for (now, then) in stats.phases.iter_mut().zip(earlier.phases) {
            *now = (now.0 - then.0, now.1 - then.1);
        }
        stats.operations -= earlier.operations;
        stats.commit_seconds -= earlier.commit_seconds;
        stats.beside -= earlier.beside;
        stats
    }

    /// Operations per batch, the batches started beside another, and the share of `seconds` the
    /// ledger's [`LEDGER_LANES`] connections had a batch in flight.
    fn lanes(&self, seconds: f64) -> String {
        let batches = self.phases[0].0 as f64;
        format!(
            "{:.0} operations a batch, {:.0}% of batches beside another; a batch in flight on \
             each of the {LEDGER_LANES} connections {:.0}% of the time",
            self.operations / batches,
            self.beside / batches * 100.0,
            self.commit_seconds / (seconds * LEDGER_LANES as f64) * 100.0,
        )
    }
}

/// The mean of each phase over the batches that recorded it, in microseconds.
impl std::fmt::Display for BatchPhases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let batches = self.phases[0].0;
        write!(f, "{batches} batches, mean us:")?;
        for (name, (count, seconds)) in Self::NAMES.iter().zip(self.phases) {
            let mean = if count == 0 {
                f64::NAN
            } else {
                seconds / count as f64 * 1e6
            };
            write!(f, " {name} {mean:.0}")?;
        }
        Ok(())
    }
}
