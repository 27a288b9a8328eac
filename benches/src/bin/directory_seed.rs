//! Fills the directory of an existing database with realistic professionals, to try search by
//! hand through the server or a client.
//!
//! ```text
//! cargo run --release -p contacto-benches --bin directory-seed -- \
//!     --database-url postgres://contacto@localhost/contacto --professionals 10000
//! ```
//!
//! The database is migrated first. Run it once per database and seed: the accounts it inserts
//! have fixed emails, so a second run with the same seed stops at the first duplicate.

use clap::Parser;
use contacto_benches::directory_seed::{BoxError, SeedOptions, seed};
use contacto_core::{AuthConfig, Config, Contacto, DatabaseConfig, WalletConfig};

#[derive(Debug, Parser)]
#[command(about = "Seeds a Contacto database's directory with generated professionals")]
struct Args {
    /// The database, migrated if need be.
    #[arg(long, env = "CONTACTO_DATABASE_URL")]
    database_url: String,
    /// Professionals to create.
    #[arg(long, default_value_t = 10_000)]
    professionals: usize,
    /// The random seed: the same seed gives the same data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Core calls in flight.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let mut database = DatabaseConfig::new(&args.database_url);
    database.pool_max_size = args.concurrency.max(1);
    let core = Contacto::builder(Config {
        database,
        // Nobody logs in through this process; core only needs a well-formed secret.
        auth: AuthConfig::new("the directory seeder's unused token secret"),
        wallet: WalletConfig::default(),
    })
    .build()?;
    core.migrate().await?;
    let mut options = SeedOptions::new(args.professionals);
    options.seed = args.seed;
    options.concurrency = args.concurrency;
    let report = seed(&core, &args.database_url, &options).await?;
    println!("{report}");
    Ok(())
}
