//! Opt-in criterion benchmarks against a real PostgreSQL: one transfer through core, and round
//! trips through the real server and client. They run only when `CONTACTO_BENCH_DATABASE_URL`
//! names a database they may write to (a throwaway one: each run migrates it and adds two users,
//! their wallets and every transfer it makes); without it, this binary prints a note and returns,
//! so `cargo bench` needs no database.
//!
//! Next to the figures, two floors measured on the same database in the same run: a `SELECT 1`
//! round trip and a one-row durable update (what pgbench's L_1 is made of). Read a transfer as a
//! multiple of the durable update, as `../shared/PERFORMANCE.md` asks, not as an absolute time.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use contacto_core::api::{
    DepositMethod, DepositRequest, DepositStatus, OpenWalletRequest, RegisterRequest, Role,
    TransferRequest, WalletId, WalletType,
};
use contacto_core::{
    AuthConfig, BoxError, Config, Contacto, DailyLimits, DatabaseConfig, Principal, WalletConfig,
    new_idempotency_key,
};
use contacto_server::HttpOptions;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use hmac::{Hmac, Mac};
use secrecy::SecretString;
use sha2::Sha256;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod support;

/// Names the database; without it, nothing runs.
const DATABASE_URL_VARIABLE: &str = "CONTACTO_BENCH_DATABASE_URL";

/// The key this benchmark's deposits are signed with, as a payment provider would.
const WEBHOOK_SECRET: &str = "the benchmark's webhook secret";

/// Each transfer: 1,500 DZD, a typical peer-to-peer amount.
const TRANSFER_MINOR: i64 = 150_000;

/// The payer's starting balance: millions of transfers, far more than a run makes, so a
/// rejection would be a bug, not a lack of funds.
const START_BALANCE_MINOR: i64 = 1_000_000_000_000;

/// Samples per benchmark. Each iteration waits for a durable commit (a millisecond or more), so
/// criterion's default of 100 linearly growing samples would take minutes; 30 flat samples keep a
/// run within its measurement time.
const SAMPLES: usize = 30;

/// How long the server may take to finish after the benchmarks.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

fn main() -> Result<(), BoxError> {
    let Ok(url) = std::env::var(DATABASE_URL_VARIABLE) else {
        println!(
            "with_database: skipped; set {DATABASE_URL_VARIABLE} to a PostgreSQL database it may \
             write to"
        );
        return Ok(());
    };
    support::print_machine();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let fixture = runtime.block_on(Fixture::set_up(&url))?;
    let mut criterion = Criterion::default().configure_from_args();
    floors(&mut criterion, &runtime, &fixture);
    through_core(&mut criterion, &runtime, &fixture);
    over_http(&mut criterion, &runtime, &fixture);
    criterion.final_summary();
    runtime.block_on(fixture.shut_down())
}

/// Two funded customers, core, a raw connection and the real server, all on one database.
struct Fixture {
    core: Contacto,
    sql: tokio_postgres::Client,
    /// `SELECT 1`, prepared (as pgbench's `-M prepared` and core's statements are).
    select_one: tokio_postgres::Statement,
    /// A wallet row rewritten unchanged: one HOT update and one flushed commit, the smallest
    /// durable write a transfer cannot go below.
    touch_wallet: tokio_postgres::Statement,
    payer: Principal,
    payee_wallet: WalletId,
    transfer: TransferRequest,
    client: contacto_client::Client,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

impl Fixture {
    async fn set_up(url: &str) -> Result<Self, BoxError> {
        let core = Contacto::builder(Config {
            database: DatabaseConfig::new(url),
            auth: AuthConfig::new("a benchmark secret of at least thirty-two bytes"),
            wallet: WalletConfig {
                webhook_secret: Some(SecretString::from(WEBHOOK_SECRET)),
                // Still checked on every transfer, but a run transfers more than a day allows.
                daily_limits: DailyLimits([i64::MAX; 3]),
                ..WalletConfig::default()
            },
        })
        .build()?;
        core.migrate().await?;
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        print_database(&client).await?;
        let select_one = client.prepare("SELECT 1").await?;
        let touch_wallet = client
            .prepare("UPDATE wallets SET posted = posted WHERE id = $1")
            .await?;

        let run = uuid::Uuid::new_v4().simple();
        let (payer, token) = customer(&core, &format!("bench.payer.{run}@example.dz")).await?;
        let (payee, _) = customer(&core, &format!("bench.payee.{run}@example.dz")).await?;
        let from = open_wallet(&core, &payer).await?;
        let to = open_wallet(&core, &payee).await?;
        top_up(&core, &payer, from, START_BALANCE_MINOR).await?;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (shutdown, stop) = oneshot::channel::<()>();
        let server = tokio::spawn(contacto_server::serve(
            listener,
            core.clone(),
            HttpOptions::default(),
            async move {
                let _ = stop.await;
            },
        ));
        // No retries: a failed call must fail the benchmark, not hide behind a backoff.
        let http = contacto_client::Client::builder(format!("http://{address}"))
            .token(token)
            .max_retries(0)
            .build()?;
        Ok(Self {
            core,
            sql: client,
            select_one,
            touch_wallet,
            payer,
            payee_wallet: to,
            transfer: TransferRequest {
                from_wallet_id: from,
                to_wallet_id: Some(to),
                to_email: None,
                to_phone: None,
                amount: TRANSFER_MINOR,
                description: Some("Loyer novembre".to_owned()),
            },
            client: http,
            shutdown,
            server,
        })
    }

    async fn shut_down(self) -> Result<(), BoxError> {
        // The client's idle keep-alive connections close first, so the server has none to wait for.
        drop(self.client);
        let _ = self.shutdown.send(());
        tokio::time::timeout(SHUTDOWN_TIMEOUT, self.server).await??;
        Ok(())
    }
}

/// Prints what the figures depend on, and warns when durability is off (benchmarks may not
/// trade it for speed).
async fn print_database(sql: &tokio_postgres::Client) -> Result<(), BoxError> {
    let mut settings = Vec::new();
    for name in ["server_version", "fsync", "synchronous_commit"] {
        let row = sql.query_one(&format!("SHOW {name}"), &[]).await?;
        settings.push(row.get::<_, String>(0));
    }
    println!(
        "database: PostgreSQL {}, fsync={}, synchronous_commit={}; benchmark, server and \
         PostgreSQL share this machine",
        settings[0], settings[1], settings[2]
    );
    if settings[1] != "on" || settings[2] != "on" {
        println!("warning: durability is off; these figures are not comparable to a baseline");
    }
    println!(
        "baseline: `floor/` below (same database, same run); a transfer reads as a multiple of \
         `floor/durable one-row update`"
    );
    Ok(())
}

/// A registered customer and their bearer token.
async fn customer(core: &Contacto, email: &str) -> Result<(Principal, String), BoxError> {
    let session = core
        .identity()
        .register(&RegisterRequest {
            email: email.to_owned(),
            password: "a long enough benchmark password".to_owned(),
            full_name: "Bench Customer".to_owned(),
            phone: None,
            role: Role::Customer,
        })
        .await?;
    let principal = core
        .identity()
        .authenticate(Some(&format!("Bearer {}", session.token)))
        .await?;
    Ok((principal, session.token))
}

async fn open_wallet(core: &Contacto, owner: &Principal) -> Result<WalletId, BoxError> {
    let request = OpenWalletRequest {
        wallet_type: WalletType::Personal,
        currency: "DZD".to_owned(),
    };
    Ok(core.wallet().open(owner, &request).await?.id)
}

/// Funds a wallet the way money really comes in: a deposit, then the provider's signed webhook.
async fn top_up(
    core: &Contacto,
    owner: &Principal,
    wallet: WalletId,
    amount: i64,
) -> Result<(), BoxError> {
    let request = DepositRequest {
        wallet_id: wallet,
        amount,
        method: DepositMethod::Cib,
        reference: None,
    };
    let deposit = core.wallet().deposit(owner, &request).await?;
    let body = serde_json::to_vec(&serde_json::json!({
        "deposit_id": deposit.id,
        "status": "succeeded",
        "provider_reference": format!("bench-{}", deposit.id),
    }))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes())?;
    mac.update(&body);
    let signature: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let settled = core
        .wallet()
        .deposit_webhook(&body, Some(&format!("sha256={signature}")))
        .await?;
    if settled.status != DepositStatus::Succeeded {
        return Err(format!("the funding deposit ended {:?}", settled.status).into());
    }
    Ok(())
}

/// A group for operations that wait on the database: few, flat samples.
fn group<'a>(criterion: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = criterion.benchmark_group(name);
    group.sample_size(SAMPLES);
    group.sampling_mode(SamplingMode::Flat);
    group
}

/// Runs `operation` to completion; a failure stops the run rather than be measured as a success.
fn run<T, E: Display>(
    runtime: &Runtime,
    what: &str,
    operation: impl Future<Output = Result<T, E>>,
) {
    if let Err(err) = runtime.block_on(operation) {
        panic!("{what} failed: {err}");
    }
}

/// The baselines every figure here is read against: the database's own round trip and its
/// cheapest durable write, on the same connection path and machine, in the same run.
fn floors(criterion: &mut Criterion, runtime: &Runtime, fixture: &Fixture) {
    let (sql, wallet) = (&fixture.sql, fixture.payee_wallet.0);
    let mut group = group(criterion, "floor");
    group.bench_function("select 1", |b| {
        b.iter(|| run(runtime, "SELECT 1", sql.query_one(&fixture.select_one, &[])));
    });
    group.bench_function("durable one-row update", |b| {
        b.iter(|| {
            run(
                runtime,
                "the update",
                sql.execute(&fixture.touch_wallet, &[&wallet]),
            )
        });
    });
    group.finish();
}

/// Guards the ledger through the library: one transfer, validated, posted and committed durably,
/// as an embedding application or a single idle client sees it (the ledger's batching must not
/// make a lone caller wait for a batch to fill).
fn through_core(criterion: &mut Criterion, runtime: &Runtime, fixture: &Fixture) {
    let mut group = group(criterion, "core");
    let wallet = fixture.core.wallet();
    group.bench_function("transfer", |b| {
        b.iter(|| {
            let transfer = wallet.transfer(&fixture.payer, &fixture.transfer, None);
            run(runtime, "a transfer through core", transfer);
        });
    });
    // What every HTTP transfer pays on top: its idempotency key, stored with the transaction.
    group.bench_function("transfer with idempotency key", |b| {
        b.iter(|| {
            let key = new_idempotency_key();
            let transfer = wallet.transfer(&fixture.payer, &fixture.transfer, Some(&key));
            run(runtime, "a keyed transfer through core", transfer);
        });
    });
    group.finish();
}

/// Guards the HTTP shell end to end, real server and real client over loopback: `GET /health`
/// is the shell alone (connection reuse, routing, envelope), a transfer is the shell plus the
/// ledger (token check, decoding, idempotency key, durable commit, encoding).
fn over_http(criterion: &mut Criterion, runtime: &Runtime, fixture: &Fixture) {
    let mut group = group(criterion, "http");
    let client = &fixture.client;
    group.bench_function("GET /health", |b| {
        b.iter(|| run(runtime, "GET /health", client.health()));
    });
    let wallet = client.wallet();
    group.bench_function("POST /api/v1/transfers", |b| {
        b.iter(|| {
            let transfer = wallet.transfer(&fixture.transfer);
            run(runtime, "a transfer over HTTP", transfer);
        });
    });
    group.finish();
}
