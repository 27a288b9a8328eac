//! Contacto's HTTP server: `contacto-core` as a versioned JSON API.
//!
//! # Layout
//!
//! - [`routes`]: the pure `(method, path)` → [`routes::Route`] parser.
//! - `handlers`: one tiny handler per route (decode, call one façade method, encode).
//! - [`query`]: query strings, typed and checked; a bad, unknown or repeated parameter is a 400
//!   that names it.
//! - [`http`] and [`error`]: the envelope, body limits, statuses.
//! - [`app`]: the hyper service, request ids, logging, graceful shutdown.
//! - [`operations`], [`openapi`], [`postman`]: the route table documented, and the OpenAPI 3.1
//!   document and Postman collection generated from it; `docs`: Swagger UI, offline.
//! - `metrics`: request metrics in the registry core shares.
//! - [`config`], [`database`], [`logging`]: start-up: configuration layering, the managed
//!   PostgreSQL, logs.
//! - [`cli`]: the `contacto-server` command and its subcommands; [`backup`]: its `backup` and
//!   `restore`; `statements`: the slow-query threshold at start-up, the `top-statements` table.

pub mod app;
pub mod backup;
pub mod cli;
pub mod config;
pub mod database;
mod docs;
pub mod error;
mod handlers;
pub mod http;
pub mod logging;
mod metrics;
pub mod openapi;
pub mod operations;
pub mod postman;
pub mod query;
pub mod routes;
mod statements;

pub use app::{HttpOptions, REQUEST_ID_HEADER, serve};

/// How many tasks a runtime worker runs between two looks at its sockets: tokio's
/// `event_interval`, 61 by default. Chosen when the ledger's worker ran on this runtime, where
/// its PostgreSQL replies waited for a look behind hundreds of connection tasks:
/// `contacto-load transfers` (256 clients) measured batches of 14.6, 16.3, 14.5 and 13.3 ms
/// with 7, against 16.8 and 18.1 ms with 61 and 17.7 and 15.4 ms with 2 (looking costs a system
/// call), alternated (docs/PERFORMANCE.md, "The runtime's looks at its sockets"). The worker now
/// has a thread of its own (`contacto_core`'s ledger); measured again since, 7 and 61 give the
/// same rate within the noise ("The ledger on its own thread"), so 7 stays.
pub const EVENT_INTERVAL: u32 = 7;

/// The runtime the server runs on: multi-threaded (a worker per core), with I/O and timers, and
/// [`EVENT_INTERVAL`]. Applications embedding the server (the load harness does) build theirs from
/// it to run it as the binary does.
#[must_use]
pub fn runtime_builder() -> tokio::runtime::Builder {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all().event_interval(EVENT_INTERVAL);
    builder
}
