//! Contacto's benchmarks and their baselines.
//!
//! - `cargo bench -p contacto-benches`: criterion benchmarks of the hot paths, no database.
//! - `cargo run --release -p contacto-benches --bin wallet-bench`: the ledger measured against
//!   pgbench on the same, durable PostgreSQL cluster, as `../shared/PERFORMANCE.md` asks.

pub mod baseline;
