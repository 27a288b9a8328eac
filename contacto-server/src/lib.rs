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
