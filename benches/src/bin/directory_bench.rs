//! Directory search against its baseline: a realistic mix of searches through core (the library)
//! over a seeded directory on a durable PostgreSQL cluster, with `pgbench -S` on the same cluster
//! before and after, as `../shared/PERFORMANCE.md` prescribes. Reports latency percentiles and
//! searches per second overall and per class of query, so a slow class shows up on its own.
//!
//! ```text
//! cargo run --release -p contacto-benches --bin directory-bench -- --professionals 100000 --seconds 20 --concurrency 8
//! ```
//!
//! It starts its own durable cluster (fsync and synchronous commit on) in a temporary directory
//! and removes it at the end. With `--reuse` the cluster lives in a fixed directory that is kept,
//! and a directory seeded earlier with the same `--professionals` and `--seed` is searched again
//! without seeding: tune an index, run again in seconds. `--statements` adds what PostgreSQL spent
//! the measured window on, statement by statement (`pg_stat_statements`).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use contacto_benches::baseline::{Pgbench, PgbenchRun, median};
use contacto_benches::cpu::CpuTicks;
use contacto_benches::directory_queries::{Mix, QueryClass, describe};
use contacto_benches::directory_seed::{BoxError, SeedOptions, SeedReport, seed};
use contacto_core::api::SearchQuery;
use contacto_core::managed::{ManagedPostgres, PgBinaries};
use contacto_core::{AuthConfig, Config, Contacto, DatabaseConfig, WalletConfig};
use hdrhistogram::Histogram;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::sync::Mutex;

#[derive(Debug, Parser)]
#[command(about = "Directory searches through contacto-core against pgbench -S")]
struct Args {
    /// Professionals in the directory.
    #[arg(long, default_value_t = 100_000)]
    professionals: usize,
    /// Seconds of measured load.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Concurrent searchers (closed loop: each sends its next search when the last is answered).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Open loop instead: searches start at this rate, whether or not earlier ones are answered,
    /// and each one's latency counts from when it was due (no coordinated omission).
    #[arg(long, conflicts_with = "concurrency")]
    rate: Option<f64>,
    /// Seconds of unmeasured load first (caches, plans, connections).
    #[arg(long, default_value_t = 3)]
    warmup_seconds: u64,
    /// Seed of the generated directory.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Core calls in flight while seeding.
    #[arg(long, default_value_t = 16)]
    seed_concurrency: usize,
    /// Seconds of each pgbench run.
    #[arg(long, default_value_t = 15)]
    pgbench_seconds: u32,
    /// Database pool size.
    #[arg(long, default_value_t = 16)]
    pool: usize,
    /// Keep the cluster and reuse a directory seeded earlier with the same size and seed.
    #[arg(long)]
    reuse: bool,
    /// Where the kept cluster lives with `--reuse` (default: `contacto-directory-bench` in the
    /// temporary directory).
    #[arg(long, requires = "reuse")]
    data_dir: Option<PathBuf>,
    /// Load `pg_stat_statements` and print the statements PostgreSQL spent the measured window
    /// on, planning and running.
    #[arg(long)]
    statements: bool,
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let root = match (&args.data_dir, args.reuse) {
        (Some(dir), _) => dir.clone(),
        (None, true) => std::env::temp_dir().join("contacto-directory-bench"),
        (None, false) => {
            std::env::temp_dir().join(format!("contacto-directory-bench-{}", std::process::id()))
        }
    };
    let mut options = contacto_benches::bench_cluster_options(&root, 100);
    if args.statements {
        options
            .settings
            .extend(contacto_benches::statements::settings());
    }
    let cluster = ManagedPostgres::open(PgBinaries::locate(None)?, options)?;
    cluster.start()?;
    let outcome = run(&args, &cluster).await;
    cluster.stop()?;
    if !args.reuse {
        std::fs::remove_dir_all(&root)?;
    }
    outcome
}

async fn run(args: &Args, cluster: &ManagedPostgres) -> Result<(), BoxError> {
    print_machine(cluster);
    let pgbench = Pgbench::init(cluster, args.pgbench_seconds).await?;
    eprintln!("pgbench -S bracket 1 ...");
    let before = pgbench.select_only()?;

    let database = format!("directory_{}_{}", args.professionals, args.seed);
    let url = cluster.connection_string(&database);
    let seeded = if args.reuse && is_seeded(cluster, &database).await? {
        eprintln!("reusing the directory seeded in database {database}");
        None
    } else {
        drop_database(cluster, &database).await?;
        cluster.ensure_database(&database).await?;
        Some(())
    };
    let core = core(&url, args.pool)?;
    core.migrate().await?;
    let seeding = match seeded {
        None => None,
        Some(()) => {
            eprintln!("seeding {} professionals ...", args.professionals);
            let mut options = SeedOptions::new(args.professionals);
            options.seed = args.seed;
            options.concurrency = args.seed_concurrency;
            let report = seed(&core, &url, &options).await?;
            eprintln!("{report}");
            settle(&url).await?;
            mark_seeded(&url, &database).await?;
            Some(report)
        }
    };
    if seeding.is_none() {
        rebuild_search_text(&core, &url).await?;
    }
    let shape = shape(&url).await?;

    eprintln!(
        "{}: {} s warm-up, {} s measured ...",
        workload(args),
        args.warmup_seconds,
        args.seconds
    );
    let cpu_before = CpuTicks::now();
    let load = match args.rate {
        Some(rate) => open_loop(&core, args, &url, rate).await?,
        None => load(&core, args, &url).await?,
    };
    let cpu = CpuTicks::now().since(&cpu_before);
    let statement_report = if args.statements {
        Some(statements(&url).await?)
    } else {
        None
    };

    eprintln!("pgbench -S bracket 2 ...");
    let after = pgbench.select_only()?;
    report(args, seeding.as_ref(), &shape, &before, &after, &load, cpu);
    if let Some(statements) = statement_report {
        println!();
        print!("{statements}");
    }
    Ok(())
}

/// The start of the measured window: the search cache's counters so far, and with
/// `--statements` PostgreSQL's statement counters set to zero, so that both cover the window
/// the rates are measured over.
async fn window_start(core: &Contacto, args: &Args, url: &str) -> Result<CacheCounts, BoxError> {
    if args.statements {
        contacto_benches::statements::reset(&connect(url).await?).await?;
    }
    Ok(CacheCounts::now(core))
}

/// What PostgreSQL spent the measured window on, statement by statement, as lines to print.
async fn statements(url: &str) -> Result<String, BoxError> {
    let client = connect(url).await?;
    let (calls, plan_ms, exec_ms) = contacto_benches::statements::totals(&client).await?;
    let mut report = format!(
        "statements over the measured window: {calls} run, {:.1} s planning, {:.1} s running; \
         the 12 that took most (ms planning + running in all; calls; ms each; buffers per call):\n",
        plan_ms / 1000.0,
        exec_ms / 1000.0
    );
    for statement in contacto_benches::statements::top(&client, 12).await? {
        let total = statement.plan_ms + statement.exec_ms;
        report.push_str(&format!(
            "  {:>8.0} + {:>8.0}  {:>7} {:>7.2} {:>6}  {}\n",
            statement.plan_ms,
            statement.exec_ms,
            statement.calls,
            total / statement.calls.max(1) as f64,
            statement.buffers_per_call,
            statement.excerpt(Some("WHERE "), 110),
        ));
    }
    Ok(report)
}

/// A directory seeded by an older core may hold search vectors of an older format: rebuilt as
/// the server would at start, then compacted as a fresh seed would be, so that the searches
/// measure the current format.
async fn rebuild_search_text(core: &Contacto, url: &str) -> Result<(), BoxError> {
    let started = Instant::now();
    let rebuilt = core.directory().rebuild_all_search_text(500).await?;
    if rebuilt > 0 {
        eprintln!(
            "rebuilt {rebuilt} search vectors of an older format in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        vacuum(url, "VACUUM (FULL, ANALYZE) professionals").await?;
    }
    Ok(())
}

fn core(url: &str, pool: usize) -> Result<Contacto, BoxError> {
    let mut database = DatabaseConfig::new(url);
    database.pool_max_size = pool;
    Ok(Contacto::builder(Config {
        database,
        auth: AuthConfig::new("a benchmark secret of at least 32 bytes"),
        wallet: WalletConfig::default(),
    })
    .build()?)
}

fn print_machine(cluster: &ManagedPostgres) {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let sha = contacto_benches::git_sha();
    let dirty = std::process::Command::new("git")
        .args(["status", "--porcelain"])
        .output()
        .is_ok_and(|o| !o.stdout.is_empty());
    let command: Vec<String> = std::env::args().skip(1).collect();
    println!(
        "command: cargo run --release -p contacto-benches --bin directory-bench -- {}",
        command.join(" ")
    );
    println!(
        "machine: {cores} cores; PostgreSQL programs in {}",
        cluster.binaries().bin_dir().display()
    );
    println!(
        "git: {sha}{}; fsync=on, synchronous_commit=on; searchers, core and PostgreSQL share the machine",
        if dirty {
            " (with uncommitted changes)"
        } else {
            ""
        }
    );
}

async fn connect(url: &str) -> Result<tokio_postgres::Client, BoxError> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// What a finished seed writes on its database, so `--reuse` never searches a half-seeded one.
const SEEDED_MARK: &str = "contacto directory-bench: seeded";

async fn is_seeded(cluster: &ManagedPostgres, database: &str) -> Result<bool, BoxError> {
    let client = connect(&cluster.connection_string("postgres")).await?;
    let row = client
        .query_opt(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
            &[&database],
        )
        .await?;
    Ok(row
        .and_then(|row| row.get::<_, Option<String>>(0))
        .is_some_and(|comment| comment == SEEDED_MARK))
}

async fn drop_database(cluster: &ManagedPostgres, database: &str) -> Result<(), BoxError> {
    let client = connect(&cluster.connection_string("postgres")).await?;
    // The name is ours (`directory_<n>_<seed>`), digits and underscores only.
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{database}\""))
        .await?;
    Ok(())
}

async fn mark_seeded(url: &str, database: &str) -> Result<(), BoxError> {
    connect(url)
        .await?
        .batch_execute(&format!(
            "COMMENT ON DATABASE \"{database}\" IS '{SEEDED_MARK}'"
        ))
        .await?;
    Ok(())
}

/// After a bulk load, what autovacuum would soon do anyway: fresh statistics for the planner and
/// GIN pending lists merged, so the measurement sees the steady state, not the load's aftermath.
async fn settle(url: &str) -> Result<(), BoxError> {
    vacuum(
        url,
        "VACUUM (ANALYZE) users, professionals, professional_services, reviews",
    )
    .await
}

/// Runs one `VACUUM` statement, saying so.
async fn vacuum(url: &str, statement: &str) -> Result<(), BoxError> {
    eprintln!("{statement} ...");
    connect(url).await?.batch_execute(statement).await?;
    Ok(())
}

/// The seeded directory's shape, printed with the results.
struct Shape {
    professionals: i64,
    reviewed: i64,
    verified: i64,
    services: i64,
    reviews: i64,
    table_bytes: i64,
    index_bytes: i64,
}

async fn shape(url: &str) -> Result<Shape, BoxError> {
    let row = connect(url)
        .await?
        .query_one(
            "SELECT (SELECT count(*) FROM professionals), \
                    (SELECT count(*) FROM professionals WHERE rating_count > 0), \
                    (SELECT count(*) FROM professionals WHERE verified), \
                    (SELECT count(*) FROM professional_services), \
                    (SELECT count(*) FROM reviews), \
                    pg_table_size('professionals'), pg_indexes_size('professionals')",
            &[],
        )
        .await?;
    Ok(Shape {
        professionals: row.get(0),
        reviewed: row.get(1),
        verified: row.get(2),
        services: row.get(3),
        reviews: row.get(4),
        table_bytes: row.get(5),
        index_bytes: row.get(6),
    })
}

/// Figures of one class of query (or of all).
struct ClassLoad {
    latency: Histogram<u64>,
    errors: u64,
    first_error: Option<String>,
    matches: u64,
    /// The slowest search and its time in µs: the one to `EXPLAIN`.
    slowest: Option<(u64, SearchQuery)>,
}

impl ClassLoad {
    fn new() -> Self {
        Self {
            latency: Histogram::new_with_bounds(1, 60_000_000, 3)
                .unwrap_or_else(|_| unreachable!("valid bounds")),
            errors: 0,
            first_error: None,
            matches: 0,
            slowest: None,
        }
    }

    fn add(&mut self, other: &ClassLoad) {
        let _ = self.latency.add(&other.latency);
        self.errors += other.errors;
        self.matches += other.matches;
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
        if let Some((micros, query)) = &other.slowest {
            self.note(*micros, query);
        }
    }

    /// One search's outcome, `micros` after it started (or was due).
    fn record(
        &mut self,
        micros: u64,
        result: &contacto_core::Result<contacto_core::api::SearchPage>,
        query: &SearchQuery,
    ) {
        match result {
            Ok(page) => {
                let _ = self.latency.record(micros.max(1));
                self.matches += page.total.max(0) as u64;
                self.note(micros, query);
            }
            Err(err) => {
                self.errors += 1;
                self.first_error
                    .get_or_insert_with(|| format!("{err} for {query:?}"));
            }
        }
    }

    fn note(&mut self, micros: u64, query: &SearchQuery) {
        if self
            .slowest
            .as_ref()
            .is_none_or(|(slowest, _)| micros > *slowest)
        {
            self.slowest = Some((micros, query.clone()));
        }
    }

    fn ms(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1000.0
    }
}

struct Load {
    seconds: f64,
    classes: Vec<ClassLoad>,
    /// What the search cache did over the measured window.
    cache: CacheCounts,
}

/// Core's search cache counters (`contacto_directory_search_cache_*`), or their growth.
#[derive(Debug, Clone, Copy, Default)]
struct CacheCounts {
    hit: f64,
    stale: f64,
    shared: f64,
    miss: f64,
    evicted: f64,
}

impl CacheCounts {
    /// The counters now, read from core's registry.
    fn now(core: &Contacto) -> Self {
        let families = core.registry().gather();
        // The sum of a counter's series, those with `outcome` if given.
        let counter = |name: &str, outcome: Option<&str>| -> f64 {
            families
                .iter()
                .filter(|family| family.name() == name)
                .flat_map(|family| family.get_metric())
                .filter(|series| {
                    outcome.is_none_or(|outcome| {
                        series
                            .get_label()
                            .iter()
                            .any(|label| label.name() == "outcome" && label.value() == outcome)
                    })
                })
                .map(|series| series.get_counter().get_value())
                .sum()
        };
        let outcome = |name: &str| counter("contacto_directory_search_cache_total", Some(name));
        Self {
            hit: outcome("hit"),
            stale: outcome("stale"),
            shared: outcome("shared"),
            miss: outcome("miss"),
            evicted: counter("contacto_directory_search_cache_evicted_total", None),
        }
    }

    fn since(self, earlier: Self) -> Self {
        Self {
            hit: self.hit - earlier.hit,
            stale: self.stale - earlier.stale,
            shared: self.shared - earlier.shared,
            miss: self.miss - earlier.miss,
            evicted: self.evicted - earlier.evicted,
        }
    }
}

async fn load(core: &Contacto, args: &Args, url: &str) -> Result<Load, BoxError> {
    let recording = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let totals = Arc::new(Mutex::new(
        QueryClass::ALL
            .iter()
            .map(|_| ClassLoad::new())
            .collect::<Vec<_>>(),
    ));
    let mix = Arc::new(Mix::new());
    let mut tasks = Vec::new();
    for worker in 0..args.concurrency {
        let (core, mix, recording, done, totals) = (
            core.clone(),
            Arc::clone(&mix),
            Arc::clone(&recording),
            Arc::clone(&done),
            Arc::clone(&totals),
        );
        tasks.push(tokio::spawn(async move {
            let mut rng = SmallRng::seed_from_u64(worker as u64);
            let mut local: Vec<ClassLoad> =
                QueryClass::ALL.iter().map(|_| ClassLoad::new()).collect();
            while !done.load(Ordering::Relaxed) {
                let (class, query) = mix.draw(&mut rng);
                let started = Instant::now();
                let result = core.directory().search(&query).await;
                let micros = started.elapsed().as_micros() as u64;
                if !recording.load(Ordering::Relaxed) {
                    continue;
                }
                local[class.index()].record(micros, &result, &query);
            }
            let mut totals = totals.lock().await;
            for (total, mine) in totals.iter_mut().zip(&local) {
                total.add(mine);
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(args.warmup_seconds)).await;
    recording.store(true, Ordering::Relaxed);
    let cache_before = window_start(core, args, url).await?;
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    recording.store(false, Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    let cache = CacheCounts::now(core).since(cache_before);
    done.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await?;
    }
    let classes = std::mem::take(&mut *totals.lock().await);
    Ok(Load {
        seconds,
        classes,
        cache,
    })
}

/// Searches due at `rate` per second from a single dispatcher, each run in its own task; those
/// due after the warm-up and before its end are recorded, their latency from when they were due.
async fn open_loop(core: &Contacto, args: &Args, url: &str, rate: f64) -> Result<Load, BoxError> {
    if !(rate.is_finite() && rate > 0.0) {
        return Err(
            format!("--rate must be a positive number of searches per second, got {rate}").into(),
        );
    }
    let totals = Arc::new(std::sync::Mutex::new(
        QueryClass::ALL
            .iter()
            .map(|_| ClassLoad::new())
            .collect::<Vec<_>>(),
    ));
    let mix = Mix::new();
    let mut rng = SmallRng::seed_from_u64(0);
    let start = Instant::now();
    let measured_from = start + Duration::from_secs(args.warmup_seconds);
    let end = measured_from + Duration::from_secs(args.seconds);
    let mut tasks = tokio::task::JoinSet::new();
    let mut sent: u64 = 0;
    let mut cache_before = None;
    loop {
        let due = start + Duration::from_secs_f64(sent as f64 / rate);
        if due >= end {
            break;
        }
        // Everything due by now leaves now; the timer's lateness counts against the latency.
        tokio::time::sleep_until(due.into()).await;
        while let Some(done) = tasks.try_join_next() {
            done?;
        }
        let (class, query) = mix.draw(&mut rng);
        let recorded = due >= measured_from;
        if recorded && cache_before.is_none() {
            cache_before = Some(window_start(core, args, url).await?);
        }
        let (core, totals) = (core.clone(), Arc::clone(&totals));
        tasks.spawn(async move {
            let result = core.directory().search(&query).await;
            let micros = due.elapsed().as_micros() as u64;
            if !recorded {
                return;
            }
            let mut totals = totals
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            totals[class.index()].record(micros, &result, &query);
        });
        sent += 1;
    }
    while tasks.join_next().await.transpose()?.is_some() {}
    let cache = CacheCounts::now(core).since(cache_before.unwrap_or_default());
    let classes = std::mem::take(
        &mut *totals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    Ok(Load {
        seconds: args.seconds as f64,
        classes,
        cache,
    })
}

/// The load, as the report names it.
fn workload(args: &Args) -> String {
    match args.rate {
        Some(rate) => format!("open loop at {rate:.0} searches/s"),
        None => format!("{} searchers", args.concurrency),
    }
}

fn report(
    args: &Args,
    seeding: Option<&SeedReport>,
    shape: &Shape,
    before: &PgbenchRun,
    after: &PgbenchRun,
    load: &Load,
    cpu: CpuTicks,
) {
    const TARGET_P99_MS: f64 = 10.0;
    const TARGET_RATIO: f64 = 0.1;
    let s = median(vec![before.tps, after.tps]);
    let spread = (before.tps - after.tps).abs() / s;
    let mut all = ClassLoad::new();
    for class in &load.classes {
        all.add(class);
    }
    let queries = all.latency.len();
    let qps = queries as f64 / load.seconds;
    println!();
    match seeding {
        Some(seeding) => println!("seeding   {seeding}"),
        None => println!(
            "seeding   reused database directory_{}_{}",
            args.professionals, args.seed
        ),
    }
    println!(
        "directory {} professionals ({} with reviews, {} verified), {} services, {} reviews; professionals table {:.0} MB + indexes {:.0} MB",
        shape.professionals,
        shape.reviewed,
        shape.verified,
        shape.services,
        shape.reviews,
        shape.table_bytes as f64 / 1e6,
        shape.index_bytes as f64 / 1e6,
    );
    println!(
        "baseline  S = {s:.0} tps (pgbench -S -c 8 -j 2 -M prepared; brackets {:.0} / {:.0}, spread {:.0}%{}), latency {:.3} ms",
        before.tps,
        after.tps,
        spread * 100.0,
        if spread > 0.15 {
            "; over 15%: noisy run, measure again"
        } else {
            ""
        },
        median(vec![before.latency_ms, after.latency_ms]),
    );
    println!(
        "workload  {}, {:.0} s: {queries} searches, {} failed; CPU: machine {:.0}% busy, this process (searchers + core) {:.0}% of the machine",
        workload(args),
        load.seconds,
        all.errors,
        100.0 * cpu.busy_share(),
        100.0 * cpu.own_share(),
    );
    println!(
        "searches/s {qps:>9.0}   = {:.3} x S   (target >= {TARGET_RATIO} x S: {})",
        qps / s,
        if qps / s >= TARGET_RATIO {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "latency (ms)  p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}   (target p99 <= {TARGET_P99_MS} ms: {})",
        all.ms(0.5),
        all.ms(0.9),
        all.ms(0.99),
        all.ms(0.999),
        all.ms(1.0),
        if all.ms(0.99) <= TARGET_P99_MS {
            "met"
        } else {
            "NOT met"
        }
    );
    let cache = load.cache;
    let asked = (cache.hit + cache.stale + cache.shared + cache.miss).max(1.0);
    println!(
        "cache     hit {:.1}%, stale {:.1}%, shared {:.1}%, miss {:.1}% of searches; {:.0} servable pages evicted",
        100.0 * cache.hit / asked,
        100.0 * cache.stale / asked,
        100.0 * cache.shared / asked,
        100.0 * cache.miss / asked,
        cache.evicted,
    );
    println!();
    println!(
        "{:<16} {:>6} {:>8} {:>6} {:>10} {:>8} {:>8} {:>8} {:>8}",
        "class", "share", "searches", "errors", "avg total", "p50 ms", "p90 ms", "p99 ms", "max ms"
    );
    for (class, figures) in QueryClass::ALL.iter().zip(&load.classes) {
        let n = figures.latency.len();
        println!(
            "{:<16} {:>5.1}% {:>8} {:>6} {:>10.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2}{}",
            class.name(),
            100.0 * n as f64 / queries.max(1) as f64,
            n,
            figures.errors,
            figures.matches as f64 / n.max(1) as f64,
            figures.ms(0.5),
            figures.ms(0.9),
            figures.ms(0.99),
            figures.ms(1.0),
            if figures.ms(0.99) > TARGET_P99_MS {
                "  <- over 10 ms"
            } else {
                ""
            }
        );
    }
    println!();
    for (class, figures) in QueryClass::ALL.iter().zip(&load.classes) {
        if let Some((micros, query)) = &figures.slowest {
            println!(
                "slowest {:<16} {:>9.2} ms  {}",
                class.name(),
                *micros as f64 / 1000.0,
                describe(query)
            );
        }
    }
    for (class, figures) in QueryClass::ALL.iter().zip(&load.classes) {
        if let Some(error) = &figures.first_error {
            println!("first error of {}: {error}", class.name());
        }
    }
}
