//! `contacto-load`: the HTTP load harness.
//!
//! ```text
//! cargo run --release -p contacto-benches --bin contacto-load -- transfers --vus 256 --hold 20s --baseline
//! cargo run --release -p contacto-benches --bin contacto-load -- mixed --target http://127.0.0.1:8080 \
//!     --database-url postgres://contacto@localhost/contacto --webhook-secret "$CONTACTO_WEBHOOK_SECRET"
//! ```
//!
//! Without `--target` it starts the server itself, in process, on a durable PostgreSQL cluster of
//! its own in a temporary directory (removed at the end). Exit status: 0 when every threshold
//! holds, 99 when one does not (as k6), 1 when the run could not be made. `docs/PERFORMANCE.md`
//! says how to run each scenario and read the report.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use contacto_benches::directory_seed::BoxError;
use contacto_benches::load::baselines::PgbenchTarget;
use contacto_benches::load::report::{BaselineReport, Bracket, LoadReport, Report, is_breakdown};
use contacto_benches::load::runner::{Model, RunOptions};
use contacto_benches::load::scenarios::{
    Context, Distribution, Outcome, Scenario, Settings, run_scenario,
};
use contacto_benches::load::schedule::{Schedule, parse_duration};
use contacto_benches::load::server::{ManagedServer, ServerOptions, random_hex};
use contacto_benches::load::table;
use contacto_benches::load::threshold::Threshold;
use contacto_client::Client;

/// Exit status of a run whose thresholds did not all hold (k6's).
const THRESHOLDS_FAILED: u8 = 99;

/// The names of the in-process server's threads: its runtime (and blocking pool), core's ledger
/// worker, and the request log's writer. Every other thread of the process is the harness's.
const SERVER_THREADS: &[&str] = &["contacto-server", "contacto-ledger", "contacto-log"];

#[derive(Debug, Parser)]
#[command(
    name = "contacto-load",
    about = "Drives a Contacto server with a scenario and reports per-operation rates, latency \
             percentiles and errors against the baselines"
)]
struct Args {
    /// The scenario.
    #[arg(value_enum)]
    scenario: Scenario,

    /// A running server (`http://host:port`); without it the harness starts one on a durable
    /// PostgreSQL cluster of its own.
    #[arg(long)]
    target: Option<String>,
    /// With --target: the server's database, to seed the directory and reconcile the books.
    #[arg(long)]
    database_url: Option<String>,
    /// With --target: the server's CONTACTO_WEBHOOK_SECRET, to fund wallets by deposit.
    #[arg(long, env = "CONTACTO_WEBHOOK_SECRET", hide_env_values = true)]
    webhook_secret: Option<String>,

    /// Closed model: virtual users at the hold (default depends on the scenario).
    #[arg(long, conflicts_with = "rate")]
    vus: Option<usize>,
    /// Open model: arrivals per second at the hold.
    #[arg(long)]
    rate: Option<f64>,
    /// Open model: iterations in flight at most (arrivals beyond wait, and their wait counts).
    #[arg(long, default_value_t = 1024)]
    max_in_flight: usize,
    /// Stage 1: from zero to the target.
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    ramp_up: Duration,
    /// Stage 2: at the target; rates called "hold" are measured over it.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    hold: Duration,
    /// Stage 3: from the target to zero.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    ramp_down: Duration,
    /// k6-style stages instead of the three above: `5s:100,20s:100,5s:0`.
    #[arg(long)]
    stages: Option<String>,
    /// Closed model: mean pause between iterations (default 1s for mixed, none otherwise).
    #[arg(long, value_parser = parse_duration)]
    think: Option<Duration>,
    /// Open model: how long after the last stage waiting arrivals may still start.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    graceful_stop: Duration,
    /// Per-request timeout (a timeout is a transport error).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    timeout: Duration,

    /// Customers with funded wallets (default: 1000, mixed 200).
    #[arg(long)]
    users: Option<usize>,
    /// Merchants (payments-hot, mixed).
    #[arg(long, default_value_t = 100)]
    merchants: usize,
    /// How transfers choose wallets.
    #[arg(long, value_enum, default_value_t = Distribution::Uniform)]
    distribution: Distribution,
    /// Exponent of the Zipf choice.
    #[arg(long, default_value_t = 1.0)]
    zipf_exponent: f64,
    /// payments-hot: share of payments to the one hot merchant.
    #[arg(long, default_value_t = 0.8)]
    hot_share: f64,
    /// bulk: transfers per request.
    #[arg(long, default_value_t = 500)]
    batch_size: usize,
    /// search, mixed: professionals to seed into an empty directory.
    #[arg(long, default_value_t = 2000)]
    professionals: usize,
    /// Each customer's starting balance, in centimes.
    #[arg(long, default_value_t = 10_000_000)]
    funding_minor: i64,

    /// A pass/fail criterion, k6-style (repeatable): `transfers.p99<50ms`, `errors<0.1%`.
    #[arg(long = "threshold")]
    thresholds: Vec<String>,
    /// Write the JSON report there (`-` for stdout).
    #[arg(long)]
    json: Option<PathBuf>,
    /// No live progress line.
    #[arg(long)]
    quiet: bool,

    /// Run pgbench brackets (P, L_P, L_1; S for read scenarios) before and after the load.
    #[arg(long)]
    baseline: bool,
    /// Seconds of each pgbench run.
    #[arg(long, default_value_t = 10)]
    pgbench_seconds: u32,
    /// With --target and --baseline: a database on the same PostgreSQL that pgbench may fill.
    #[arg(long)]
    pgbench_url: Option<String>,
    /// health: run wrk on the same endpoint before and after, for the hold's length.
    #[arg(long)]
    wrk: bool,
    /// wrk's threads.
    #[arg(long, default_value_t = 2)]
    wrk_threads: usize,
    /// health: a bare HTTP/1.1 connection per virtual user instead of contacto-client.
    #[arg(long)]
    raw: bool,

    /// Worker threads of the harness (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Worker threads of the in-process server (default: one per core, as the binary).
    #[arg(long)]
    server_threads: Option<usize>,
    /// Pooled database connections of the in-process server.
    #[arg(long, default_value_t = 16)]
    server_pool: usize,
    /// Do not write the in-process server's request log.
    #[arg(long)]
    no_request_log: bool,
    /// Seed of the virtual users' random choices.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.unwrap_or_else(cores).max(1))
        .thread_name("contacto-load")
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: starting the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(THRESHOLDS_FAILED),
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn thresholds(args: &Args) -> Result<Vec<Threshold>, BoxError> {
    let known = args.scenario.operations();
    args.thresholds
        .iter()
        .map(|text| {
            let threshold = Threshold::parse(text)?;
            if let Some(op) = threshold.operation.as_deref()
                && !known.contains(&op)
                && !(is_breakdown(op) && known.contains(&op.split('/').next().unwrap_or("")))
            {
                return Err(format!(
                    "threshold {text:?}: {} records no operation {op:?} (it records {})",
                    args.scenario.name(),
                    known.join(", ")
                )
                .into());
            }
            Ok(threshold)
        })
        .collect()
}

fn run_options(args: &Args) -> Result<RunOptions, BoxError> {
    let target = match (args.vus, args.rate) {
        (_, Some(rate)) => rate,
        (Some(vus), None) => vus as f64,
        (None, None) => args.scenario.default_vus() as f64,
    };
    let schedule = match &args.stages {
        Some(stages) => Schedule::parse(stages)?,
        None => Schedule::ramp_hold(target, args.ramp_up, args.hold, args.ramp_down)?,
    };
    let model = match args.rate {
        Some(_) => Model::Open {
            max_in_flight: args.max_in_flight,
        },
        None => Model::Closed {
            think: args.think.unwrap_or(if args.scenario == Scenario::Mixed {
                Duration::from_secs(1)
            } else {
                Duration::ZERO
            }),
        },
    };
    Ok(RunOptions {
        schedule,
        model,
        graceful_stop: args.graceful_stop,
        label: args.scenario.name().to_owned(),
        progress: !args.quiet,
        seed: args.seed,
    })
}

async fn run(args: Args) -> Result<bool, BoxError> {
    let thresholds = thresholds(&args)?;
    let options = run_options(&args)?;
    let server = match &args.target {
        Some(_) => None,
        None => {
            eprintln!("starting a durable PostgreSQL cluster and the server in this process ...");
            let options = ServerOptions {
                pool: args.server_pool,
                threads: args.server_threads.unwrap_or_else(cores),
                request_log: !args.no_request_log,
            };
            Some(ManagedServer::start(&options).await?)
        }
    };
    let target = match (&args.target, &server) {
        (Some(target), _) => target.trim_end_matches('/').to_owned(),
        (None, Some(server)) => server.base_url(),
        (None, None) => unreachable!("a server was started"),
    };
    // No retries: a failure is a figure of the run, not something to paper over.
    let client = Client::builder(&target)
        .max_retries(0)
        .timeout(args.timeout)
        .build()?;
    wait_ready(&client).await?;
    let ctx = Context {
        client,
        target: target.clone(),
        run_id: random_hex(4),
        webhook_secret: match &server {
            Some(server) => Some(server.webhook_secret().to_owned()),
            None => args.webhook_secret.clone(),
        },
        database_url: match &server {
            Some(server) => Some(server.database_url().to_owned()),
            None => args.database_url.clone(),
        },
        settings: settings(&args),
        options,
        server_threads: server.as_ref().map(|_| SERVER_THREADS),
    };
    let pgbench = match (args.baseline, &server, &args.pgbench_url) {
        (false, _, _) => None,
        (true, Some(server), _) => {
            eprintln!("pgbench -i -s 10 ...");
            Some(PgbenchTarget::managed(server.cluster(), args.pgbench_seconds).await?)
        }
        (true, None, Some(url)) => Some(PgbenchTarget::url(url, args.pgbench_seconds)?),
        (true, None, None) => {
            return Err("--baseline against --target needs --pgbench-url (a database pgbench may fill on the same PostgreSQL)".into());
        }
    };
    let mut brackets = Vec::new();
    let bracket = |brackets: &mut Vec<Bracket>| -> Result<(), BoxError> {
        if let Some(pgbench) = &pgbench {
            eprintln!("pgbench bracket {} ...", brackets.len() + 1);
            let one = tokio::task::block_in_place(|| pgbench.bracket(args.scenario.reads()))?;
            eprintln!(
                "  P = {:.0} tps, L_P = {:.2} ms, L_1 = {:.2} ms",
                one.p_tps, one.l_p_ms, one.l_1_ms
            );
            brackets.push(one);
        }
        Ok(())
    };
    bracket(&mut brackets)?;
    let outcome = tokio::select! {
        outcome = run_scenario(args.scenario, &ctx) => outcome?,
        _ = tokio::signal::ctrl_c() => return Err("interrupted".into()),
    };
    bracket(&mut brackets)?;
    let balanced = match (&ctx.database_url, args.scenario.moves_money()) {
        (Some(_), true) => Some(ctx.core()?.wallet().reconcile(None).await?.balanced),
        _ => None,
    };
    let report = report(&args, &ctx, outcome, brackets, balanced, &thresholds);
    print!("{}", table::render(&report));
    if let Some(server) = &server {
        println!("server request log: {}", server.log_path().display());
    }
    write_json(&args, &report)?;
    if let Some(server) = server {
        server.stop()?;
    }
    Ok(report.passed)
}

async fn wait_ready(client: &Client) -> Result<(), BoxError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match client.ready().await {
            Ok(ready) if ready.ready => return Ok(()),
            other if Instant::now() > deadline => {
                return Err(format!("the server is not ready after 30 s: {other:?}").into());
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

fn settings(args: &Args) -> Settings {
    let users = args.users.unwrap_or(match args.scenario {
        Scenario::Mixed => 200,
        _ => 1000,
    });
    Settings {
        users,
        merchants: args.merchants,
        distribution: args.distribution,
        zipf_exponent: args.zipf_exponent,
        hot_share: args.hot_share,
        batch_size: args.batch_size,
        professionals: args.professionals,
        funding_minor: args.funding_minor,
        wrk: args.wrk,
        wrk_threads: args.wrk_threads,
        raw: args.raw,
    }
}

fn git() -> String {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let sha = run(&["rev-parse", "--short", "HEAD"]);
    if run(&["status", "--porcelain", "--untracked-files=no"]).is_empty() {
        sha
    } else {
        format!("{sha} with uncommitted changes")
    }
}

/// Operations whose rate is divided by S (reads) rather than P (durable writes).
const READS: &[&str] = &[
    "health", "search", "profile", "reviews", "wallets", "history",
];

/// Operations that move money: their rate is divided by P and their latency by L_P and L_1.
const WRITES: &[&str] = &[
    "transfers",
    "payments",
    "payments_uniform",
    "bulk",
    "deposits",
    "webhooks",
    "withdrawals",
];

fn report(
    args: &Args,
    ctx: &Context,
    outcome: Outcome,
    brackets: Vec<Bracket>,
    balanced: Option<bool>,
    thresholds: &[Threshold],
) -> Report {
    let (phases, operations) = outcome.recordings.summarise();
    let baseline = (!brackets.is_empty()).then(|| BaselineReport::of(brackets));
    let mut ratios = outcome.ratios.clone();
    // With think time the users, not the server, set the rate: dividing it by P says nothing.
    let paced = matches!(ctx.options.model, Model::Closed { think } if !think.is_zero());
    if let Some(b) = &baseline {
        for (name, op) in operations.iter().filter(|(_, op)| op.ok > 0) {
            if WRITES.contains(&name.as_str()) {
                if !paced {
                    let rate = op.steady_item_rate / b.p_tps;
                    ratios.insert(format!("{name} hold rate / P"), rate);
                }
                ratios.insert(format!("{name} p99 / L_P"), op.latency_ms.p99 / b.l_p_ms);
                ratios.insert(format!("{name} p50 / L_1"), op.latency_ms.p50 / b.l_1_ms);
            }
            if let (true, false, Some(s)) = (READS.contains(&name.as_str()), paced, b.s_tps) {
                ratios.insert(format!("{name} hold rate / S"), op.steady_rate / s);
            }
        }
    }
    let verdicts: Vec<_> = thresholds
        .iter()
        .map(|t| t.evaluate(&outcome.recordings))
        .collect();
    let mut settings = BTreeMap::new();
    settings.insert(
        "command".to_owned(),
        std::env::args().collect::<Vec<_>>().join(" "),
    );
    let s = &ctx.settings;
    for (key, value) in [
        ("users", s.users.to_string()),
        ("merchants", s.merchants.to_string()),
        (
            "distribution",
            format!("{:?}", s.distribution).to_lowercase(),
        ),
        ("zipf_exponent", s.zipf_exponent.to_string()),
        ("hot_share", s.hot_share.to_string()),
        ("batch_size", s.batch_size.to_string()),
        ("professionals", s.professionals.to_string()),
    ] {
        settings.insert(key.to_owned(), value);
    }
    Report {
        scenario: args.scenario.name().to_owned(),
        settings,
        git: git(),
        cores: cores(),
        target: ctx.target.clone(),
        server: match &args.target {
            Some(_) => "external".to_owned(),
            None => format!(
                "in-process, pool {}, durable PostgreSQL (fsync=on, synchronous_commit=on); harness, server and PostgreSQL share the machine",
                args.server_pool
            ),
        },
        load: Some(LoadReport::new(ctx.options.model, &ctx.options.schedule)),
        phases,
        operations,
        baseline,
        wrk: outcome.wrk.clone(),
        cpu: outcome.cpu,
        ratios,
        reconciliation_balanced: balanced,
        passed: verdicts.iter().all(|v| v.passed) && balanced != Some(false),
        thresholds: verdicts,
    }
}

fn write_json(args: &Args, report: &Report) -> Result<(), BoxError> {
    let Some(path) = &args.json else {
        return Ok(());
    };
    let text = serde_json::to_string_pretty(report)? + "\n";
    if path.as_os_str() == "-" {
        print!("{text}");
    } else {
        std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        eprintln!("JSON report: {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_builds_the_documented_load() {
        let args = Args::parse_from([
            "contacto-load",
            "transfers",
            "--rate",
            "500",
            "--hold",
            "10s",
        ]);
        let options = run_options(&args).unwrap();
        assert!(matches!(
            options.model,
            Model::Open {
                max_in_flight: 1024
            }
        ));
        assert_eq!(options.schedule.max_target(), 500.0);
        assert_eq!(options.schedule.total(), Duration::from_secs(13));
        let args = Args::parse_from(["contacto-load", "mixed"]);
        let options = run_options(&args).unwrap();
        assert_eq!(
            options.model,
            Model::Closed {
                think: Duration::from_secs(1)
            }
        );
        let args = Args::parse_from([
            "contacto-load",
            "search",
            "--threshold",
            "search/geo.p99<10ms",
            "--threshold",
            "search.errors<1%",
        ]);
        assert_eq!(thresholds(&args).unwrap().len(), 2);
        let args = Args::parse_from(["contacto-load", "search", "--threshold", "transfers.p99<1s"]);
        assert!(thresholds(&args).is_err(), "search records no transfers");
    }
}
