//! The scenarios: each sets up its own users, wallets and data through the API, then runs one or
//! more phases of load.
//!
//! | scenario | operations | set-up |
//! |---|---|---|
//! | `health` | `health` | none (with `--wrk`, wrk on the same endpoint before and after) |
//! | `auth` | `register`, `login` | none: every iteration registers a new account |
//! | `search` | `search`, `search/<class>` | the directory seeded when empty |
//! | `transfers` | `transfers` | `--users` funded customers; uniform or Zipf choice of wallets |
//! | `payments-hot` | `payments_uniform`, then `payments` | customers and `--merchants` merchants; `--hot-share` of payments to one |
//! | `bulk` | `bulk` (units of work: transfers posted) | funded customers |
//! | `mixed` | all of the above but auth, plus reads of profiles, reviews and wallets | all of the above |

mod auth;
mod directory;
mod health;
mod mixed;
mod wallet;

use std::collections::BTreeMap;
use std::sync::Arc;

use contacto_client::Client;
use contacto_core::Contacto;

use super::report::{CpuReport, Recordings, WrkReport};
use super::runner::{RunOptions, Workload, run};
use super::threads::CpuSampler;
use crate::directory_seed::BoxError;

/// The scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// `GET /health`: the HTTP shell and the harness itself.
    Health,
    /// Register a new account, then log in.
    Auth,
    /// The directory's mix of searches.
    Search,
    /// P2P transfers between funded customers.
    Transfers,
    /// Merchant payments, uniform then mostly to one merchant.
    PaymentsHot,
    /// Bulk transfers (`POST /transfers/batch`).
    Bulk,
    /// The realistic day: mostly directory reads, some reviews, payments and transfers, a few
    /// top-ups and withdrawals, with think time.
    Mixed,
}

impl Scenario {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Health => "health",
            Scenario::Auth => "auth",
            Scenario::Search => "search",
            Scenario::Transfers => "transfers",
            Scenario::PaymentsHot => "payments-hot",
            Scenario::Bulk => "bulk",
            Scenario::Mixed => "mixed",
        }
    }

    /// The operations it records (thresholds must name one of these).
    pub fn operations(self) -> &'static [&'static str] {
        match self {
            Scenario::Health => &["health"],
            Scenario::Auth => &["register", "login"],
            Scenario::Search => &["search"],
            Scenario::Transfers => &["transfers"],
            Scenario::PaymentsHot => &["payments", "payments_uniform"],
            Scenario::Bulk => &["bulk"],
            Scenario::Mixed => mixed::OPERATIONS,
        }
    }

    /// Whether it mostly reads (its baseline then includes S, `pgbench -S`).
    pub fn reads(self) -> bool {
        matches!(self, Scenario::Search | Scenario::Mixed | Scenario::Health)
    }

    /// Whether it moves money (the books are then reconciled afterwards when possible).
    pub fn moves_money(self) -> bool {
        matches!(
            self,
            Scenario::Transfers | Scenario::PaymentsHot | Scenario::Bulk | Scenario::Mixed
        )
    }

    /// Default virtual users of the closed model.
    pub fn default_vus(self) -> usize {
        match self {
            Scenario::Health => 64,
            Scenario::Auth => 8,
            Scenario::Search => 32,
            Scenario::Transfers | Scenario::PaymentsHot => 256,
            Scenario::Bulk => 8,
            Scenario::Mixed => 200,
        }
    }
}

/// How wallets are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Distribution {
    /// Every wallet equally likely.
    Uniform,
    /// Zipf-skewed: a few wallets take most transfers.
    Zipf,
}

/// The scenarios' settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Funded customers.
    pub users: usize,
    /// Merchants (`payments-hot`, `mixed`).
    pub merchants: usize,
    /// How wallets are chosen.
    pub distribution: Distribution,
    /// Zipf exponent.
    pub zipf_exponent: f64,
    /// Share of payments to the one hot merchant.
    pub hot_share: f64,
    /// Transfers per bulk request.
    pub batch_size: usize,
    /// Professionals to seed into an empty directory.
    pub professionals: usize,
    /// Each customer's starting balance, in centimes.
    pub funding_minor: i64,
    /// `--wrk`: compare `health` with wrk.
    pub wrk: bool,
    /// wrk's threads.
    pub wrk_threads: usize,
    /// `health --raw`: a bare HTTP/1.1 connection per virtual user instead of the client.
    pub raw: bool,
}

/// What a scenario can reach.
pub struct Context {
    /// An unauthenticated client of the server (connections shared by every clone).
    pub client: Client,
    /// The server's base URL.
    pub target: String,
    /// A name unique to this run, in emails.
    pub run_id: String,
    /// The deposit webhooks' key, to fund wallets.
    pub webhook_secret: Option<String>,
    /// The application database, to seed the directory and reconcile.
    pub database_url: Option<String>,
    /// The scenario's settings.
    pub settings: Settings,
    /// The load model and stages.
    pub options: RunOptions,
    /// The in-process server's threads' names (prefixes), to split CPU.
    pub server_threads: Option<&'static [&'static str]>,
}

impl Context {
    /// The webhook secret.
    ///
    /// # Errors
    ///
    /// When none was given: funding wallets needs it.
    pub fn secret(&self) -> Result<&str, BoxError> {
        self.webhook_secret.as_deref().ok_or_else(|| {
            "funding wallets needs the deposit webhook's key: --webhook-secret \
             (the server's CONTACTO_WEBHOOK_SECRET)"
                .into()
        })
    }

    /// A core on the application database, for seeding and reconciling (its own pool, so the
    /// server's connections stay on the server's threads).
    ///
    /// # Errors
    ///
    /// When no database URL is known or core cannot be built.
    pub fn core(&self) -> Result<Contacto, BoxError> {
        let url = self
            .database_url
            .as_deref()
            .ok_or("this needs the database: --database-url")?;
        let mut database = contacto_core::DatabaseConfig::new(url);
        database.pool_max_size = 16;
        Ok(Contacto::builder(contacto_core::Config {
            database,
            // Nobody logs in through this handle; core only needs a well-formed secret.
            auth: contacto_core::AuthConfig::new("the load harness's unused token secret"),
            wallet: contacto_core::WalletConfig::default(),
        })
        .build()?)
    }
}

/// What the scenario measured.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Every phase's recordings.
    pub recordings: Recordings,
    /// CPU use over the phases.
    pub cpu: Option<CpuReport>,
    /// wrk's figures (`health --wrk`).
    pub wrk: Option<WrkReport>,
    /// Ratios between phases (`payments-hot`).
    pub ratios: BTreeMap<String, f64>,
}

impl Outcome {
    /// Runs one phase of `workload`, measuring CPU over it.
    pub async fn phase<W: Workload>(&mut self, ctx: &Context, name: &str, workload: W) {
        let mut options = ctx.options.clone();
        options.label = name.to_owned();
        let sampler = CpuSampler::start(ctx.server_threads);
        let result = run(Arc::new(workload), &options).await;
        let cpu = sampler.finish();
        // Over several phases: the mean, each phase weighted equally.
        self.cpu = Some(match self.cpu {
            None => cpu,
            Some(before) => CpuReport {
                machine: (before.machine + cpu.machine) / 2.0,
                harness: (before.harness + cpu.harness) / 2.0,
                server: before.server.zip(cpu.server).map(|(a, b)| (a + b) / 2.0),
                harness_ticks: before.harness_ticks + cpu.harness_ticks,
                server_ticks: before
                    .server_ticks
                    .zip(cpu.server_ticks)
                    .map(|(a, b)| a + b),
            },
        });
        self.recordings.push(name, result);
    }
}

/// Sets up `scenario` and runs its load.
///
/// # Errors
///
/// When the set-up fails (load errors are counted, not returned).
pub async fn run_scenario(scenario: Scenario, ctx: &Context) -> Result<Outcome, BoxError> {
    let mut outcome = Outcome::default();
    match scenario {
        Scenario::Health => health::run(ctx, &mut outcome).await?,
        Scenario::Auth => auth::run(ctx, &mut outcome).await?,
        Scenario::Search => directory::run(ctx, &mut outcome).await?,
        Scenario::Transfers => wallet::run_transfers(ctx, &mut outcome).await?,
        Scenario::PaymentsHot => wallet::run_payments(ctx, &mut outcome).await?,
        Scenario::Bulk => wallet::run_bulk(ctx, &mut outcome).await?,
        Scenario::Mixed => mixed::run(ctx, &mut outcome).await?,
    }
    Ok(outcome)
}
