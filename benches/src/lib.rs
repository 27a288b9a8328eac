//! Contacto's benchmarks and their baselines.
//!
//! - `cargo bench -p contacto-benches`: criterion benchmarks of the hot paths, no database.
//! - `cargo run --release -p contacto-benches --bin wallet-bench`: the ledger measured against
//!   pgbench on the same, durable PostgreSQL cluster, as `../shared/PERFORMANCE.md` asks.
//! - `cargo run --release -p contacto-benches --bin directory-bench`: directory searches through
//!   core, per class of query, against `pgbench -S` on the same cluster.
//! - `cargo run --release -p contacto-benches --bin directory-seed -- --database-url ..`: fills a
//!   database's directory with realistic professionals, to try the API or the UI by hand.
//! - `cargo run --release -p contacto-benches --bin contacto-load -- <scenario>`: the HTTP load
//!   harness, against a running server or one it starts on a durable cluster.
//!
//! # Layout
//!
//! - [`baseline`]: pgbench runs and their figures (P, L_P, L_1, S).
//! - [`cpu`]: CPU use of the machine and of the benchmark process.
//! - [`directory_seed`]: the generator of professionals and the seeding through core.
//! - [`directory_queries`]: the mix of searches, by class.
//! - [`load`]: the HTTP load harness (scenarios, load models, reports, thresholds).
//! - [`statements`]: PostgreSQL's time per statement (`pg_stat_statements`), for `--statements`.

pub mod baseline;
pub mod cpu;
pub mod directory_queries;
pub mod directory_seed;
pub mod load;
pub mod statements;

/// The cluster every benchmark runs on: durable (fsync on, as `../shared/PERFORMANCE.md` requires),
/// the working set in memory, and no checkpoint in the middle of a run.
pub fn bench_cluster_options(
    root: &std::path::Path,
    max_connections: u32,
) -> contacto_core::managed::ClusterOptions {
    let mut options = contacto_core::managed::ClusterOptions::new(root);
    options.max_connections = max_connections;
    options.settings = vec![
        ("shared_buffers".into(), "1GB".into()),
        ("max_wal_size".into(), "4GB".into()),
        ("checkpoint_timeout".into(), "15min".into()),
    ];
    options
}

/// The checked-out commit, short, for a report's header; empty outside a git checkout.
pub fn git_sha() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
