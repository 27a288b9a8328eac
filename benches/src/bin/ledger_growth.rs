//! Ledger growth: a wallet's history page and its balance at a past time, read at tens of millions
//! of entries, in three layouts of the same data (and the statements before V8), against `pgbench -S` on the same cluster as
//! `../shared/PERFORMANCE.md` prescribes.
//!
//! ```text
//! cargo run --release -p contacto-benches --bin ledger-growth -- --entries 10000000
//! ```
//!
//! It starts its own durable cluster in a temporary directory (removed at exit, on error too),
//! migrates it through core, and writes two years of consistent history with set-based SQL:
//! per-wallet `seq` 1..n and `balance_after` a running sum. Then it reads, with the statement text
//! of `contacto-core/src/wallet/store.rs` over tokio-postgres (`query_typed`, as the store does,
//! so every read is planned with its values), four layouts and statement sets:
//!
//! - `single`: `ledger_entries` as migrated, queried with store.rs's SQL verbatim (times found by
//!   binary search on `seq`, `ledger_seq_before` of migration V8);
//! - `single, V7 reads`: the same table with the statements before V8, which walked back from the
//!   newest entry until one was old enough;
//! - `by_month`: `ledger_entries_by_month`, partitioned by month on a `posted_at` copied from the
//!   transaction, time filters and `balance_at` on `posted_at`;
//! - `single+posted_at`: one table with `posted_at` and an index on `(wallet_id, posted_at, seq)`.
//!
//! The reads go through SQL rather than `Contacto::wallet()`, which needs users and principals for
//! every wallet; the statements are the store's.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use clap::Parser;
use contacto_benches::baseline::{Pgbench, PgbenchRun};
use contacto_core::managed::{ManagedPostgres, PgBinaries};
use contacto_core::{AuthConfig, Config, Contacto, DatabaseConfig, WalletConfig};
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Parser)]
#[command(about = "History and balance-at-time reads at scale, single table vs monthly partitions")]
struct Args {
    /// Ledger entries to generate (two per transaction).
    #[arg(long, default_value_t = 10_000_000)]
    entries: u64,
    /// Personal wallets (the merchants and the funding account come on top).
    #[arg(long, default_value_t = 100_000)]
    wallets: u64,
    /// Merchant wallets receiving the payments, Zipf-like: the first takes about half.
    #[arg(long, default_value_t = 10)]
    merchants: u64,
    /// Most iterations of each measured read.
    #[arg(long, default_value_t = 300)]
    iterations: usize,
    /// Most seconds spent measuring one read (slow reads stop early, after at least 5 runs).
    #[arg(long, default_value_t = 15)]
    read_seconds: u64,
    /// Seconds of each pgbench run.
    #[arg(long, default_value_t = 15)]
    pgbench_seconds: u32,
}

/// The history the generator spreads the transactions over: about 24 months.
const HISTORY_DAYS: u32 = 730;

/// A history page, as the API's default page size.
const PAGE_LIMIT: i64 = 20;

/// Entries per insert statement in the insert-cost test, near the write path's batch size.
const INSERT_BATCH: i64 = 1_000;

/// Insert statements in the insert-cost test: 100 × 1,000 = 100k entries per layout.
const INSERT_BATCHES: i64 = 100;

/// The funding account migrated by V2: the busiest wallet of the generated history.
const FUNDING_WALLET: &str = "00000000-0000-7000-8000-000000000001";

/// Stops the cluster and removes its directory when dropped, so an error or a panic leaves nothing
/// behind.
struct ClusterGuard {
    cluster: ManagedPostgres,
    root: PathBuf,
}

impl Drop for ClusterGuard {
    fn drop(&mut self) {
        if let Err(e) = self.cluster.stop() {
            eprintln!("stopping the cluster: {e}");
        }
        if let Err(e) = std::fs::remove_dir_all(&self.root) {
            eprintln!("removing {}: {e}", self.root.display());
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let root = std::env::temp_dir().join(format!("contacto-ledger-growth-{}", std::process::id()));
    let options = contacto_benches::bench_cluster_options(&root, 50);
    let guard = ClusterGuard {
        cluster: ManagedPostgres::open(PgBinaries::locate(None)?, options)?,
        root,
    };
    guard.cluster.start()?;
    run(&args, &guard.cluster).await
}

async fn run(args: &Args, cluster: &ManagedPostgres) -> Result<(), BoxError> {
    print_machine(cluster);
    let pgbench = Pgbench::init(cluster, args.pgbench_seconds).await?;

    cluster.ensure_database("contacto").await?;
    let url = cluster.connection_string("contacto");
    let core = Contacto::builder(Config {
        database: DatabaseConfig::new(&url),
        auth: AuthConfig::new("a benchmark secret of at least 32 bytes"),
        wallet: WalletConfig::default(),
    })
    .build()?;
    core.migrate().await?;
    let client = connect(&url).await?;

    let generated_at: SystemTime = client.query_one("SELECT now()", &[]).await?.get(0);
    generate(&client, args).await?;
    let wallets = pick_wallets(&client).await?;
    println!("{}", wallets.describe());
    println!("{}", sizes(&client).await?);

    eprintln!("pgbench -S bracket 1 ...");
    let before = pgbench.select_only()?;
    for layout in &LAYOUTS {
        eprintln!("reading {} ...", layout.name);
        for read in reads(layout, &wallets, generated_at) {
            let line = measure(&client, &read, args).await?;
            println!("{line}");
        }
    }
    eprintln!("pgbench -S bracket 2 ...");
    let after = pgbench.select_only()?;

    // Twice, the second pass in reverse order, so the first layout's cold start shows.
    // The V7 statements read the `single` table: its insert cost is `single`'s.
    let tables = || {
        LAYOUTS
            .iter()
            .filter(|layout| layout.name != "single, V7 reads")
    };
    for layout in tables().chain(tables().rev()) {
        let line = insert_cost(&client, layout).await?;
        println!("{line}");
    }
    print_baseline(&before, &after);
    Ok(())
}

fn print_machine(cluster: &ManagedPostgres) {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let sha = contacto_benches::git_sha();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "machine: {cores} cores, load average {}; PostgreSQL programs in {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        cluster.binaries().bin_dir().display()
    );
    println!(
        "git: {sha}; fsync=on, synchronous_commit=on, shared_buffers=1GB; the benchmark and \
         PostgreSQL share the machine"
    );
}

async fn connect(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

async fn step(client: &tokio_postgres::Client, what: &str, sql: &str) -> Result<(), BoxError> {
    let started = Instant::now();
    client.batch_execute(sql).await?;
    println!("generate: {what}: {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Two years of transactions in `created_at` order, as production writes them: 20% deposits from
/// the funding account, 30% payments to a merchant (the first merchant takes about half), 50%
/// transfers between personal wallets chosen uniformly. Entries are inserted in transaction order,
/// so a wallet's entries are scattered over the heap as they are in production.
async fn generate(client: &tokio_postgres::Client, args: &Args) -> Result<(), BoxError> {
    let transactions = args.entries / 2;
    let (merchants, personal) = (args.merchants, args.wallets);
    let started = Instant::now();
    client
        .batch_execute(
            "SET work_mem = '512MB'; SET maintenance_work_mem = '1GB';
             CREATE FUNCTION bench_wallet(w int8) RETURNS uuid IMMUTABLE LANGUAGE sql AS $$
               SELECT CASE WHEN w = 0 THEN '00000000-0000-7000-8000-000000000001'::uuid
                 ELSE ('b0000000-0000-4000-8000-' || lpad(to_hex(w), 12, '0'))::uuid END $$;",
        )
        .await?;
    step(
        client,
        "transactions",
        &format!(
            "SELECT setseed(0.42);
             CREATE UNLOGGED TABLE bench_tx AS
             SELECT n, created_at, kind, amount,
                    (lpad(to_hex((extract(epoch FROM created_at) * 1000)::int8), 12, '0') || '7'
                     || lpad(to_hex(n % 4096), 3, '0') || '8' || lpad(to_hex(n), 15, '0'))::uuid AS id,
                    CASE kind WHEN 'deposit' THEN 0 ELSE a END AS from_w,
                    CASE kind WHEN 'deposit' THEN a WHEN 'payment' THEN m ELSE b END AS to_w
             FROM (
               SELECT n, created_at, a, m,
                      {merchants} + 1 + (a - {merchants} - 1 + 1 + floor(random() * ({personal} - 1))::int8) % {personal} AS b,
                      CASE WHEN r < 0.2 THEN 'deposit' WHEN r < 0.5 THEN 'payment' ELSE 'transfer' END AS kind,
                      CASE WHEN r < 0.2 THEN 20000 + floor(random() * 80000) ELSE 100 + floor(random() * 5000) END::int8 AS amount
               FROM (
                 SELECT n, now() - interval '{HISTORY_DAYS} days' + (n::float8 / {transactions}) * interval '{HISTORY_DAYS} days' AS created_at,
                        random() AS r,
                        {merchants} + 1 + floor(random() * {personal})::int8 AS a,
                        1 + floor({merchants} * power(random(), 3))::int8 AS m
                 FROM generate_series(1, {transactions}::int8) n) g) k;
             INSERT INTO ledger_transactions (id, kind, currency, amount, description, created_at)
             SELECT id, kind::ledger_transaction_kind, 'DZD', amount,
                    CASE kind WHEN 'payment' THEN 'order ' || n END, created_at
             FROM bench_tx ORDER BY n;"
        ),
    )
    .await?;
    // The wallets exist, with their owners, so that the store's statements find their numbers
    // (entries name their wallet by `wallets.number` since V16; the funding account is migrated).
    step(
        client,
        "wallets",
        &format!(
            "INSERT INTO users (id, email, full_name, role, password_hash)
             SELECT bench_wallet(w), 'bench' || w || '@example.dz', 'Bench ' || w, 'customer',
                    '$argon2id$not-a-login'
             FROM generate_series(1, {wallets}::int8) w;
             INSERT INTO wallets (id, owner_id, kind, currency)
             SELECT bench_wallet(w), bench_wallet(w), 'personal', 'DZD'
             FROM generate_series(1, {wallets}::int8) w;",
            wallets = merchants + personal
        ),
    )
    .await?;
    step(
        client,
        "entries with seq and running balance (staging)",
        "CREATE UNLOGGED TABLE bench_entries AS
         SELECT bench_wallet(w) AS wallet_id, wl.number AS wallet_number, w, n, side, moves.id,
                amount, moves.created_at,
                row_number() OVER win AS seq, (sum(amount) OVER win)::int8 AS balance_after
         FROM (SELECT n, 0 AS side, from_w AS w, id, -amount AS amount, created_at FROM bench_tx
               UNION ALL SELECT n, 1, to_w, id, amount, created_at FROM bench_tx) moves
           JOIN wallets wl ON wl.id = bench_wallet(moves.w)
         WINDOW win AS (PARTITION BY w ORDER BY n, side)
         ORDER BY n, side;",
    )
    .await?;
    // Keys are built after the load (a sorted build, packed at the default fill factor) and the
    // checking triggers are skipped: the rows balance and reference their transactions by
    // construction.
    step(
        client,
        "ledger_entries (single table as migrated)",
        "ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_pkey;
         DROP INDEX ledger_entries_transaction_brin;
         SET session_replication_role = replica;
         INSERT INTO ledger_entries (wallet_number, seq, transaction_id, amount, balance_after)
         SELECT wallet_number, seq, id, amount, balance_after FROM bench_entries;
         SET session_replication_role = origin;
         ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_pkey PRIMARY KEY (wallet_number, seq);
         CREATE INDEX ledger_entries_transaction_brin ON ledger_entries USING brin (transaction_id);",
    )
    .await?;
    step(
        client,
        "ledger_entries_by_month (monthly partitions)",
        &by_month_sql(),
    )
    .await?;
    step(
        client,
        "ledger_entries_posted (single table + posted_at)",
        "CREATE TABLE ledger_entries_posted (
           wallet_id uuid NOT NULL, seq bigint NOT NULL, transaction_id uuid NOT NULL,
           amount bigint NOT NULL, balance_after bigint NOT NULL, posted_at timestamptz NOT NULL);
         INSERT INTO ledger_entries_posted
         SELECT wallet_id, seq, id, amount, balance_after, created_at FROM bench_entries;
         ALTER TABLE ledger_entries_posted ADD CONSTRAINT ledger_entries_posted_pkey PRIMARY KEY (wallet_id, seq);
         CREATE INDEX ledger_entries_posted_transaction_brin ON ledger_entries_posted USING brin (transaction_id);
         CREATE INDEX ledger_entries_posted_wallet_time_idx ON ledger_entries_posted (wallet_id, posted_at, seq);
         ALTER TABLE ledger_entries_posted ADD CONSTRAINT ledger_entries_posted_transaction_fkey
           FOREIGN KEY (transaction_id) REFERENCES ledger_transactions (id) NOT VALID;",
    )
    .await?;
    // VACUUM refuses to run inside the implicit transaction of a multi-statement batch.
    for sql in [
        "VACUUM ANALYZE ledger_transactions",
        "VACUUM ANALYZE ledger_entries",
        "VACUUM ANALYZE ledger_entries_by_month",
        "VACUUM ANALYZE ledger_entries_posted",
        "ANALYZE bench_entries",
        // The wallets the insert-cost test appends to: the credited wallet of evenly spaced
        // transactions, so busy wallets get their share, as in production.
        "CREATE TABLE bench_targets AS SELECT row_number() OVER (ORDER BY n) AS k, wallet_id, wallet_number \
         FROM bench_entries WHERE side = 1 AND n % (SELECT greatest(max(n) / 100000, 1) FROM bench_tx) = 0",
        "CREATE UNIQUE INDEX ON bench_targets (k)",
    ] {
        step(client, sql, sql).await?;
    }
    println!(
        "generate: {transactions} transactions, {} entries in {:.1} s in all (the machine is shared)",
        transactions * 2,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The partitioned layout: monthly range partitions on `posted_at`, from the first month of the
/// history to three months ahead, as a job creating partitions ahead of time would leave it.
fn by_month_sql() -> String {
    "CREATE TABLE ledger_entries_by_month (
       wallet_id uuid NOT NULL, seq bigint NOT NULL, transaction_id uuid NOT NULL,
       amount bigint NOT NULL, balance_after bigint NOT NULL, posted_at timestamptz NOT NULL
     ) PARTITION BY RANGE (posted_at);
     DO $$
     DECLARE m date := date_trunc('month', (SELECT min(created_at) FROM bench_tx))::date;
     BEGIN
       WHILE m <= date_trunc('month', now())::date + interval '3 months' LOOP
         EXECUTE format('CREATE TABLE %I PARTITION OF ledger_entries_by_month FOR VALUES FROM (%L) TO (%L)',
                        'ledger_entries_' || to_char(m, 'YYYY_MM'), m, (m + interval '1 month')::date);
         m := (m + interval '1 month')::date;
       END LOOP;
     END $$;
     INSERT INTO ledger_entries_by_month
     SELECT wallet_id, seq, id, amount, balance_after, created_at FROM bench_entries;
     ALTER TABLE ledger_entries_by_month ADD CONSTRAINT ledger_entries_by_month_pkey
       PRIMARY KEY (wallet_id, seq, posted_at);
     CREATE INDEX ledger_entries_by_month_transaction_brin ON ledger_entries_by_month USING brin (transaction_id);
     -- NOT VALID (checked for new rows only) is refused on a partitioned table: per partition.
     DO $$
     DECLARE p regclass;
     BEGIN
       FOR p IN SELECT inhrelid::regclass FROM pg_inherits
                WHERE inhparent = 'ledger_entries_by_month'::regclass LOOP
         EXECUTE format('ALTER TABLE %s ADD FOREIGN KEY (transaction_id) REFERENCES ledger_transactions (id) NOT VALID', p);
       END LOOP;
     END $$;"
        .to_owned()
}

/// The wallets read: a typical personal wallet (median entry count), the busiest wallet (the
/// funding account) and the busiest merchant.
struct Wallets {
    typical: (Uuid, i64),
    busiest: (Uuid, i64),
    merchant: (Uuid, i64),
    p99: i64,
    over_100k: i64,
}

impl Wallets {
    fn describe(&self) -> String {
        format!(
            "wallets: typical {} ({} entries, the median), p99 {} entries, {} wallets over 100k \
             entries, busiest merchant {} ({} entries), busiest {} ({} entries)",
            self.typical.0,
            self.typical.1,
            self.p99,
            self.over_100k,
            self.merchant.0,
            self.merchant.1,
            self.busiest.0,
            self.busiest.1
        )
    }
}

async fn pick_wallets(client: &tokio_postgres::Client) -> Result<Wallets, BoxError> {
    let row = client
        .query_one(
            "WITH c AS (SELECT w, wallet_id, count(*) AS n FROM bench_entries GROUP BY w, wallet_id),
                  q AS (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY n) AS med,
                               percentile_disc(0.99) WITHIN GROUP (ORDER BY n) AS p99 FROM c)
             SELECT (SELECT wallet_id FROM c, q ORDER BY abs(n - med), w LIMIT 1),
                    (SELECT med FROM q), (SELECT p99 FROM q),
                    (SELECT count(*) FROM c WHERE n > 100000),
                    (SELECT wallet_id FROM c WHERE w = 1), (SELECT n FROM c WHERE w = 1),
                    (SELECT n FROM c WHERE w = 0)",
            &[],
        )
        .await?;
    let busiest = Uuid::parse_str(FUNDING_WALLET)?;
    Ok(Wallets {
        typical: (row.get(0), row.get(1)),
        p99: row.get(2),
        over_100k: row.get(3),
        merchant: (row.get(4), row.get(5)),
        busiest: (busiest, row.get(6)),
    })
}

async fn sizes(client: &tokio_postgres::Client) -> Result<String, BoxError> {
    let rows = client
        .query(
            "WITH r(name, parts) AS (VALUES ('ledger_transactions', ARRAY['ledger_transactions'::regclass]),
                 ('ledger_entries', ARRAY['ledger_entries'::regclass]),
                 ('ledger_entries_by_month', ARRAY(SELECT inhrelid::regclass FROM pg_inherits
                    WHERE inhparent = 'ledger_entries_by_month'::regclass)),
                 ('ledger_entries_posted', ARRAY['ledger_entries_posted'::regclass]))
             SELECT name, (SELECT sum(pg_relation_size(p))::int8 FROM unnest(parts) p),
                    (SELECT sum(pg_indexes_size(p))::int8 FROM unnest(parts) p),
                    (SELECT sum(reltuples)::int8 FROM pg_class WHERE oid = ANY(parts)),
                    cardinality(parts)
             FROM r",
            &[],
        )
        .await?;
    let mut out = String::from("sizes (table / indexes / bytes per row incl. indexes):");
    for r in rows {
        let (name, table, indexes, tuples, parts): (&str, i64, i64, i64, i32) =
            (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
        write!(
            out,
            "\n  {name}: {} MB / {} MB / {:.0} B, {tuples} rows, {parts} relation(s)",
            table >> 20,
            indexes >> 20,
            (table + indexes) as f64 / tuples.max(1) as f64
        )?;
    }
    Ok(out)
}

/// One table layout and how the store's two reads are written against it.
struct Layout {
    name: &'static str,
    table: &'static str,
    history: &'static str,
    /// The history statement when a time range is given, if it differs.
    history_in_range: Option<&'static str>,
    balance_at: &'static str,
}

/// `single` is store.rs's SQL itself (`contacto_core::bench`) (binary search on `seq` for times, migration V8); `single, V7
/// reads` the statements before V8, which walked back from the newest entry; the others filter on
/// the entry's own `posted_at`.
const LAYOUTS: [Layout; 4] = [
    Layout {
        name: "single",
        table: "ledger_entries",
        history: contacto_core::bench::LEDGER_HISTORY_SQL,
        balance_at: contacto_core::bench::LEDGER_BALANCE_AT_SQL,
        history_in_range: None,
    },
    Layout {
        name: "single, V7 reads",
        table: "ledger_entries",
        history: "SELECT e.seq, t.id, t.kind::text, t.currency, t.amount, t.description, t.created_at, \
                    e.amount, e.balance_after \
             FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id \
             WHERE e.wallet_number = (SELECT number FROM wallets WHERE id = $1) \
               AND ($2::int8 IS NULL OR e.seq < $2) \
               AND ($3::text IS NULL OR t.kind::text = $3) \
               AND ($4::timestamptz IS NULL OR t.created_at >= $4) \
               AND ($5::timestamptz IS NULL OR t.created_at < $5) \
             ORDER BY e.seq DESC LIMIT $6",
        balance_at: "SELECT e.balance_after FROM ledger_entries e \
             JOIN ledger_transactions t ON t.id = e.transaction_id \
             WHERE e.wallet_number = (SELECT number FROM wallets WHERE id = $1) \
               AND t.created_at <= $2 ORDER BY e.seq DESC LIMIT 1",
        history_in_range: None,
    },
    Layout {
        name: "by_month",
        table: "ledger_entries_by_month",
        history: "SELECT e.seq, t.id, t.kind::text, t.currency, t.amount, t.description, t.created_at, \
                    e.amount, e.balance_after \
             FROM ledger_entries_by_month e JOIN ledger_transactions t ON t.id = e.transaction_id \
             WHERE e.wallet_id = $1 AND ($2::int8 IS NULL OR e.seq < $2) \
               AND ($3::text IS NULL OR t.kind::text = $3) \
               AND ($4::timestamptz IS NULL OR e.posted_at >= $4) \
               AND ($5::timestamptz IS NULL OR e.posted_at < $5) \
             ORDER BY e.seq DESC LIMIT $6",
        balance_at: "SELECT e.balance_after FROM ledger_entries_by_month e \
             WHERE e.wallet_id = $1 AND e.posted_at <= $2 ORDER BY e.seq DESC LIMIT 1",
        history_in_range: None,
    },
    Layout {
        name: "single+posted_at",
        table: "ledger_entries_posted",
        history: "SELECT e.seq, t.id, t.kind::text, t.currency, t.amount, t.description, t.created_at, \
                    e.amount, e.balance_after \
             FROM ledger_entries_posted e JOIN ledger_transactions t ON t.id = e.transaction_id \
             WHERE e.wallet_id = $1 AND ($2::int8 IS NULL OR e.seq < $2) \
               AND ($3::text IS NULL OR t.kind::text = $3) \
               AND ($4::timestamptz IS NULL OR e.posted_at >= $4) \
               AND ($5::timestamptz IS NULL OR e.posted_at < $5) \
             ORDER BY e.seq DESC LIMIT $6",
        balance_at: "SELECT e.balance_after FROM ledger_entries_posted e \
             WHERE e.wallet_id = $1 AND e.posted_at <= $2 \
             ORDER BY e.posted_at DESC, e.seq DESC LIMIT 1",
        // In a range, walk the time index from the range's end: the same entries, newest first,
        // without reading the wallet's newer history.
        history_in_range: Some(
            "SELECT e.seq, t.id, t.kind::text, t.currency, t.amount, t.description, \
                    t.created_at, e.amount, e.balance_after \
             FROM ledger_entries_posted e JOIN ledger_transactions t ON t.id = e.transaction_id \
             WHERE e.wallet_id = $1 AND ($2::int8 IS NULL OR e.seq < $2) \
               AND ($3::text IS NULL OR t.kind::text = $3) \
               AND ($4::timestamptz IS NULL OR e.posted_at >= $4) \
               AND ($5::timestamptz IS NULL OR e.posted_at < $5) \
             ORDER BY e.posted_at DESC, e.seq DESC LIMIT $6",
        ),
    },
];

/// One measured read: a statement and its parameters.
struct Read {
    label: String,
    sql: &'static str,
    params: Params,
}

/// The parameters of store.rs's two reads (no kind filter).
enum Params {
    History {
        wallet: Uuid,
        before_seq: Option<i64>,
        from: Option<SystemTime>,
        to: Option<SystemTime>,
    },
    Balance {
        wallet: Uuid,
        at: SystemTime,
    },
}

fn reads(layout: &Layout, wallets: &Wallets, generated_at: SystemTime) -> Vec<Read> {
    const DAY: Duration = Duration::from_secs(86_400);
    let start = generated_at - DAY * HISTORY_DAYS;
    let recent = generated_at - DAY;
    let old = start + DAY * 7;
    // A month a year back: the range filter of a statement page.
    let (from, to) = (start + DAY * 365, start + DAY * 395);
    let deep = wallets.busiest.1 / 20;
    let page = |what: &str, wallet: Uuid, cursor, from: Option<SystemTime>, to| Read {
        label: format!("{:<18} history {what}", layout.name),
        sql: match (from, layout.history_in_range) {
            (Some(_), Some(in_range)) => in_range,
            _ => layout.history,
        },
        params: Params::History {
            wallet,
            before_seq: cursor,
            from,
            to,
        },
    };
    let balance = |what: &str, wallet: Uuid, at| Read {
        label: format!("{:<18} balance_at {what}", layout.name),
        sql: layout.balance_at,
        params: Params::Balance { wallet, at },
    };
    let (typical, merchant, busiest) = (wallets.typical.0, wallets.merchant.0, wallets.busiest.0);
    vec![
        page("first page, typical", typical, None, None, None),
        page("first page, busiest", busiest, None, None, None),
        page(
            &format!("deep page seq<{deep}, busiest"),
            busiest,
            Some(deep),
            None,
            None,
        ),
        page(
            "month a year back, typical",
            typical,
            None,
            Some(from),
            Some(to),
        ),
        page(
            "month a year back, merchant",
            merchant,
            None,
            Some(from),
            Some(to),
        ),
        page(
            "month a year back, busiest",
            busiest,
            None,
            Some(from),
            Some(to),
        ),
        balance("yesterday, typical", typical, recent),
        balance("yesterday, busiest", busiest, recent),
        balance("2 years back, typical", typical, old),
        balance("2 years back, merchant", merchant, old),
        balance("2 years back, busiest", busiest, old),
    ]
}

async fn run_once(client: &tokio_postgres::Client, read: &Read) -> Result<usize, BoxError> {
    let rows = match &read.params {
        Params::History {
            wallet,
            before_seq,
            from,
            to,
        } => {
            let kind: Option<&str> = None;
            let params: [(&(dyn ToSql + Sync), Type); 6] = [
                (wallet, Type::UUID),
                (before_seq, Type::INT8),
                (&kind, Type::TEXT),
                (from, Type::TIMESTAMPTZ),
                (to, Type::TIMESTAMPTZ),
                (&PAGE_LIMIT, Type::INT8),
            ];
            client.query_typed(read.sql, &params).await?
        }
        Params::Balance { wallet, at } => {
            let params: [(&(dyn ToSql + Sync), Type); 2] =
                [(wallet, Type::UUID), (at, Type::TIMESTAMPTZ)];
            client.query_typed(read.sql, &params).await?
        }
    };
    Ok(rows.len())
}

/// Warm-up runs (cache warm: the data set is larger than shared_buffers but fits the OS page
/// cache), then up to `--iterations` timed runs within `--read-seconds`.
async fn measure(
    client: &tokio_postgres::Client,
    read: &Read,
    args: &Args,
) -> Result<String, BoxError> {
    for _ in 0..3 {
        run_once(client, read).await?;
    }
    let budget = Duration::from_secs(args.read_seconds);
    let started = Instant::now();
    let mut samples = Vec::with_capacity(args.iterations);
    let mut rows = 0;
    while samples.len() < args.iterations && (samples.len() < 5 || started.elapsed() < budget) {
        let t = Instant::now();
        rows = run_once(client, read).await?;
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    Ok(format!(
        "{:<64} n={:<4} rows={rows:<3} p50 {:>9.3} ms  p99 {:>9.3} ms  mean {:>9.3} ms",
        read.label,
        samples.len(),
        pick(0.5),
        pick(0.99),
        mean
    ))
}

/// 100 statements of 1,000 entries appended to existing wallets (past their last `seq`, as the
/// write path appends), in one transaction that is rolled back: the index and constraint work of
/// each layout, without the commit's flush, which is the same for all. The entries of a statement
/// alternate +1 and -1 on one transaction, so they balance as the migrated table's check (V9)
/// requires.
async fn insert_cost(client: &tokio_postgres::Client, layout: &Layout) -> Result<String, BoxError> {
    // `single` is the migrated table, whose entries name their wallet by number.
    let (wallet, posted) = if layout.name == "single" {
        ("wallet_number", "")
    } else {
        ("wallet_id", ", posted_at")
    };
    let posted_value = if layout.name == "single" {
        ""
    } else {
        ", now()"
    };
    let sql = format!(
        "INSERT INTO {table} ({wallet}, seq, transaction_id, amount, balance_after{posted}) \
         SELECT {wallet}, 1000000000 + k, \
                (SELECT id FROM ledger_transactions ORDER BY id DESC LIMIT 1), \
                CASE k % 2 WHEN 0 THEN 1 ELSE -1 END, 0{posted_value} \
         FROM bench_targets WHERE k > $1::int8 * {INSERT_BATCH} AND k <= ($1::int8 + 1) * {INSERT_BATCH}",
        table = layout.table
    );
    client.batch_execute("BEGIN").await?;
    let started = Instant::now();
    let mut inserted = 0;
    for batch in 0..INSERT_BATCHES {
        inserted += client.execute(&sql, &[&batch]).await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    client.batch_execute("ROLLBACK").await?;
    Ok(format!(
        "{:<18} insert {inserted} entries in {INSERT_BATCHES} statements: {:.2} s, {:.0} entries/s, {:.1} µs per entry",
        layout.name,
        seconds,
        inserted as f64 / seconds,
        seconds * 1e6 / inserted.max(1) as f64
    ))
}

fn print_baseline(before: &PgbenchRun, after: &PgbenchRun) {
    let spread = (before.tps - after.tps).abs() / before.tps.max(after.tps).max(1.0) * 100.0;
    println!(
        "baseline S (pgbench -S -c 8 -j 2 -M prepared, same cluster): before {:.0} tps ({:.3} ms), \
         after {:.0} tps ({:.3} ms), brackets differ by {spread:.0}%{}",
        before.tps,
        before.latency_ms,
        after.tps,
        after.latency_ms,
        if spread > 15.0 {
            " (noise: run again)"
        } else {
            ""
        }
    );
}
