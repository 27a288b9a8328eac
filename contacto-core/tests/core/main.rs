//! Core's integration tests: real PostgreSQL, one fresh database per test.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on unexpected errors"
)]

mod bulk;
mod crash;
mod directory;
mod directory_rules;
mod helpers;
mod history;
mod holds;
mod identity;
mod migrations;
mod payments;
mod pgbouncer;
mod pitr;
mod properties;
mod replicas;
mod statements;
mod wallet;
mod withdrawals;
