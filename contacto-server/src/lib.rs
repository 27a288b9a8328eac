//! Contacto's HTTP server: `contacto-core` as a versioned JSON API.
//!
//! # Layout
//!
//! - [`routes`]: the pure `(method, path)` → [`routes::Route`] parser.
//! - `handlers`: one tiny handler per route (decode, call one façade method, encode).
//! - [`http`] and [`error`]: the envelope, body limits, statuses.
//! - [`app`]: the hyper service, request ids, logging, graceful shutdown.
//! - [`config`], [`database`], [`logging`]: start-up: configuration layering, the managed
//!   PostgreSQL, logs.
//! - [`cli`]: the `contacto-server` command and its subcommands.

pub mod app;
pub mod cli;
pub mod config;
pub mod database;
pub mod error;
mod handlers;
pub mod http;
pub mod logging;
pub mod routes;

pub use app::{HttpOptions, REQUEST_ID_HEADER, serve};
