//! The HTTP load harness behind `contacto-load`: scenarios that set up their own users, wallets
//! and data through `contacto-client`, then drive a server with a closed (virtual users) or open
//! (arrival rate) load model through ramp-up, hold and ramp-down stages; HDR histograms per
//! operation, errors by class, a live progress line, a table and a JSON report, k6-like
//! thresholds, and the baselines of `../shared/PERFORMANCE.md` (pgbench brackets, wrk).
//!
//! # Layout
//!
//! - [`schedule`]: stages, and when each arrival of the open model is due.
//! - [`runner`]: the closed and open models driving a [`runner::Workload`].
//! - [`stats`]: per-worker recordings (histograms, counts, errors, per-second timeline).
//! - [`report`] and [`table`]: the report, as JSON and as text.
//! - [`threshold`]: pass/fail criteria.
//! - [`scenarios`]: `health`, `auth`, `search`, `transfers`, `payments-hot`, `bulk`, `mixed`.
//! - [`setup`]: accounts, wallets and funding through the API.
//! - [`server`]: the in-process server on a managed durable cluster.
//! - [`baselines`]: pgbench and wrk; [`threads`]: CPU split between harness and server.

pub mod baselines;
pub mod report;
pub mod runner;
pub mod scenarios;
pub mod schedule;
pub mod server;
pub mod setup;
pub mod stats;
pub mod table;
pub mod threads;
pub mod threshold;
