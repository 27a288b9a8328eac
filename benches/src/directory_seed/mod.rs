//! Seeds the directory with realistic professionals: Arabic and French names, bios in both
//! languages, every wilaya (weighted towards the big cities) and every category, communes and
//! coordinates around each capital, opening hours, services, reviews and verification.
//!
//! Accounts go in with plain SQL (hashing 100,000 passwords with argon2id would take hours);
//! everything else goes through core's public API (`create_profile`, `add_service`, `administer`,
//! `review`), several calls in flight, so the real code paths and triggers run.
//!
//! ```no_run
//! # async fn demo(core: &contacto_core::Contacto, url: &str) -> Result<(), contacto_benches::directory_seed::BoxError> {
//! use contacto_benches::directory_seed::{SeedOptions, seed};
//! let report = seed(core, url, &SeedOptions::new(5_000)).await?;
//! println!("{report}");
//! # Ok(()) }
//! ```

pub mod data;
mod details;
pub mod plan;

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use contacto_core::api::{Category, ProfessionalAdminUpdate, Role, UserId};
use contacto_core::{Contacto, Credential, Principal};
use uuid::Uuid;

pub use self::plan::{Account, DUMMY_PASSWORD_HASH, Generator, Names, ProfessionalPlan};

/// Errors of the seeding and the benchmark.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Accounts per `INSERT`: large enough to amortise round trips, small enough for one statement.
const ACCOUNTS_PER_INSERT: usize = 5_000;

/// How to seed.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// Professionals to create.
    pub professionals: usize,
    /// The random seed: the same seed gives the same data.
    pub seed: u64,
    /// Core calls in flight.
    pub concurrency: usize,
    /// Print progress to stderr every this often; `None` for silence.
    pub progress: Option<Duration>,
}

impl SeedOptions {
    /// `professionals` with seed 42, 16 calls in flight, progress every 10 s.
    pub fn new(professionals: usize) -> Self {
        Self {
            professionals,
            seed: 42,
            concurrency: 16,
            progress: Some(Duration::from_secs(10)),
        }
    }

    /// Reviewer accounts: one per five professionals, at least 1,000, so that reviews spread.
    pub fn reviewers(&self) -> usize {
        (self.professionals / 5).max(1_000)
    }
}

/// What seeding did and how long it took.
#[derive(Debug, Clone, Default)]
pub struct SeedReport {
    /// Accounts inserted with SQL (professionals, reviewers and one administrator).
    pub accounts: u64,
    /// Seconds spent inserting accounts.
    pub accounts_seconds: f64,
    /// Profiles created through core.
    pub profiles: u64,
    /// Services added through core.
    pub services: u64,
    /// Reviews written through core.
    pub reviews: u64,
    /// Profiles verified through core.
    pub verified: u64,
    /// Core calls that failed.
    pub failures: u64,
    /// The first failure, to see what went wrong.
    pub first_failure: Option<String>,
    /// Seconds spent in core calls (wall clock, all workers).
    pub api_seconds: f64,
}

impl SeedReport {
    /// Core calls per second while seeding through core.
    pub fn calls_per_second(&self) -> f64 {
        (self.profiles + self.services + self.reviews + self.verified + self.failures) as f64
            / self.api_seconds.max(1e-9)
    }

    /// Profiles (each with its services, reviews and verification) per second.
    pub fn profiles_per_second(&self) -> f64 {
        self.profiles as f64 / self.api_seconds.max(1e-9)
    }
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} accounts by SQL in {:.1} s; through core in {:.1} s: {} profiles, {} services, {} reviews, {} verified, {} failed = {:.0} calls/s, {:.0} profiles/s",
            self.accounts,
            self.accounts_seconds,
            self.api_seconds,
            self.profiles,
            self.services,
            self.reviews,
            self.verified,
            self.failures,
            self.calls_per_second(),
            self.profiles_per_second(),
        )?;
        if let Some(failure) = &self.first_failure {
            write!(f, "; first failure: {failure}")?;
        }
        Ok(())
    }
}

/// The names of the wilayas and categories, as core serves them.
///
/// # Errors
///
/// When core cannot read them.
pub async fn names(core: &Contacto) -> Result<Names, BoxError> {
    fn walk(categories: &[Category], names: &mut Names) {
        for category in categories {
            names.categories.insert(
                category.slug.clone(),
                (category.name_fr.clone(), category.name_ar.clone()),
            );
            walk(&category.children, names);
        }
    }
    let mut names = Names::default();
    for wilaya in core.directory().wilayas().await? {
        names
            .wilayas
            .insert(wilaya.code, (wilaya.name_fr, wilaya.name_ar));
    }
    walk(&core.directory().categories(None).await?, &mut names);
    Ok(names)
}

/// Seeds an empty directory of the migrated database at `url`, which `core` uses too.
///
/// # Errors
///
/// When the accounts cannot be inserted (for instance because this seed ran there already) or
/// the reference data is not what the generator knows. Failed core calls are counted in the
/// report, not returned.
pub async fn seed(
    core: &Contacto,
    url: &str,
    options: &SeedOptions,
) -> Result<SeedReport, BoxError> {
    let generator = Arc::new(Generator::new(
        options.seed,
        names(core).await?,
        options.reviewers(),
    )?);
    let mut report = SeedReport::default();
    let started = Instant::now();
    let admin = insert_accounts(url, &generator, options.professionals).await?;
    report.accounts = (options.professionals + generator.reviewers() + 1) as u64;
    report.accounts_seconds = started.elapsed().as_secs_f64();
    if options.progress.is_some() {
        eprintln!(
            "  {} accounts in {:.1} s; profiles through core, {} in flight ...",
            report.accounts, report.accounts_seconds, options.concurrency
        );
    }
    through_core(core, generator, admin, options, &mut report).await?;
    Ok(report)
}

async fn connect(url: &str) -> Result<tokio_postgres::Client, BoxError> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// Inserts every account with SQL and returns the administrator's id.
async fn insert_accounts(
    url: &str,
    generator: &Generator,
    professionals: usize,
) -> Result<UserId, BoxError> {
    let client = connect(url).await?;
    let admin = UserId(Uuid::now_v7());
    let statement = client
        .prepare(
            "INSERT INTO users (id, email, full_name, phone, role, password_hash) \
             SELECT id, email, full_name, phone, $5, $6 \
               FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) \
                    AS a (id, email, full_name, phone)",
        )
        .await?;
    let insert = async |accounts: Vec<Account>, role: &str| -> Result<(), BoxError> {
        let ids: Vec<Uuid> = accounts.iter().map(|a| a.id.0).collect();
        let emails: Vec<&str> = accounts.iter().map(|a| a.email.as_str()).collect();
        let names: Vec<&str> = accounts.iter().map(|a| a.full_name.as_str()).collect();
        let phones: Vec<Option<&str>> = accounts.iter().map(|a| a.phone.as_deref()).collect();
        client
            .execute(
                &statement,
                &[&ids, &emails, &names, &phones, &role, &DUMMY_PASSWORD_HASH],
            )
            .await?;
        Ok(())
    };
    insert(
        vec![Account {
            id: admin,
            email: format!("admin.{}@seed.contacto.example", admin.0.simple()),
            full_name: "Seed Administrator".to_owned(),
            phone: None,
        }],
        "admin",
    )
    .await?;
    for start in (0..generator.reviewers()).step_by(ACCOUNTS_PER_INSERT) {
        let end = (start + ACCOUNTS_PER_INSERT).min(generator.reviewers());
        insert(
            (start..end).map(|j| generator.reviewer(j)).collect(),
            "customer",
        )
        .await?;
    }
    for start in (0..professionals).step_by(ACCOUNTS_PER_INSERT) {
        let end = (start + ACCOUNTS_PER_INSERT).min(professionals);
        let accounts = (start..end)
            .map(|i| generator.professional(i).account)
            .collect();
        insert(accounts, "professional").await?;
    }
    Ok(admin)
}

#[derive(Default)]
struct Counters {
    next: AtomicUsize,
    profiles: AtomicU64,
    services: AtomicU64,
    reviews: AtomicU64,
    verified: AtomicU64,
    failures: AtomicU64,
    first_failure: Mutex<Option<String>>,
}

impl Counters {
    fn count<T>(
        &self,
        counter: &AtomicU64,
        what: &str,
        result: contacto_core::Result<T>,
    ) -> Option<T> {
        match result {
            Ok(value) => {
                counter.fetch_add(1, Ordering::Relaxed);
                Some(value)
            }
            Err(err) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut first) = self.first_failure.lock() {
                    first.get_or_insert_with(|| format!("{what}: {err}"));
                }
                None
            }
        }
    }
}

fn principal(user_id: UserId, role: Role) -> Principal {
    Principal {
        user_id,
        role,
        credential: Credential::Token,
    }
}

/// Creates each professional's profile, services, verification and reviews through core, with
/// `options.concurrency` workers taking the next number in turn.
async fn through_core(
    core: &Contacto,
    generator: Arc<Generator>,
    admin: UserId,
    options: &SeedOptions,
    report: &mut SeedReport,
) -> Result<(), BoxError> {
    let counters = Arc::new(Counters::default());
    let total = options.professionals;
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..options.concurrency.max(1) {
        let (core, generator, counters) =
            (core.clone(), Arc::clone(&generator), Arc::clone(&counters));
        workers.push(tokio::spawn(async move {
            loop {
                let i = counters.next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                create(&core, &generator, admin, &counters, i).await;
            }
        }));
    }
    let progress = options.progress.map(|every| {
        let counters = Arc::clone(&counters);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let done = counters.profiles.load(Ordering::Relaxed);
                let seconds = started.elapsed().as_secs_f64();
                eprintln!(
                    "  {done}/{total} profiles after {seconds:.0} s ({:.0} profiles/s), {} failures",
                    done as f64 / seconds,
                    counters.failures.load(Ordering::Relaxed)
                );
            }
        })
    });
    for worker in workers {
        worker.await?;
    }
    if let Some(progress) = progress {
        progress.abort();
    }
    report.api_seconds = started.elapsed().as_secs_f64();
    report.profiles = counters.profiles.load(Ordering::Relaxed);
    report.services = counters.services.load(Ordering::Relaxed);
    report.reviews = counters.reviews.load(Ordering::Relaxed);
    report.verified = counters.verified.load(Ordering::Relaxed);
    report.failures = counters.failures.load(Ordering::Relaxed);
    report.first_failure = counters.first_failure.lock().ok().and_then(|f| f.clone());
    Ok(())
}

async fn create(
    core: &Contacto,
    generator: &Generator,
    admin: UserId,
    counters: &Counters,
    i: usize,
) {
    let plan = generator.professional(i);
    let directory = core.directory();
    let owner = principal(plan.account.id, Role::Professional);
    let created = directory.create_profile(&owner, &plan.profile).await;
    let Some(profile) = counters.count(&counters.profiles, "create_profile", created) else {
        return;
    };
    for service in &plan.services {
        let added = directory.add_service(&owner, service).await;
        counters.count(&counters.services, "add_service", added);
    }
    if plan.verified {
        let update = ProfessionalAdminUpdate { verified: true };
        let done = directory
            .administer(&principal(admin, Role::Admin), profile.id, &update)
            .await;
        counters.count(&counters.verified, "administer", done);
    }
    let target = profile.id.to_string();
    for (author, review) in &plan.reviews {
        let author = principal(generator.reviewer(*author).id, Role::Customer);
        let written = directory.review(&author, &target, review).await;
        counters.count(&counters.reviews, "review", written);
    }
}
