//! The server's API tests: the real server on port 0, real PostgreSQL, driven by the real client,
//! plus raw-HTTP tests that pin the wire contract.

#![expect(
    clippy::unwrap_used,
    reason = "helpers of tests fail loudly on unexpected errors"
)]

mod backup;
mod cli;
mod client;
mod contract;
mod directory;
mod documents;
mod helpers;
mod identity;
mod lifecycle;
mod observability;
mod operations;
mod wallet;
