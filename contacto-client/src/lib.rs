//! A typed async client for the Contacto API, shaped like core's façade:
//! `client.identity().login(..)`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), contacto_client::Error> {
//! use contacto_client::Client;
//!
//! let client = Client::builder("http://127.0.0.1:8080").build()?;
//! let session = client.identity().login("amina@example.dz", "a long password").await?;
//! let me = client.with_token(&session.token).identity().me().await?;
//! assert_eq!(me.email, "amina@example.dz");
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - [`Client`] and [`ClientBuilder`]: base URL, credentials, timeout, retries.
//! - [`IdentityApi`]: registration, login, the caller's account, API keys.
//! - [`WalletApi`]: wallets, histories, transfers, payments, refunds, holds, withdrawals (each
//!   money-moving call carries an idempotency key, reused across its retries, so one call moves
//!   money once; the `*_with_key` variants take the caller's own key, so that a call given up
//!   after a crash or a timeout can be made again without moving money twice), deposits,
//!   reconciliation.
//! - [`DirectoryApi`]: wilayas, categories, professionals' profiles and services, reviews, and
//!   search ([`SearchBuilder`]).
//! - [`AdminApi`]: administrators' view of the database (the statements that cost it most).
//! - [`Error`]: the server's classification kept, its machine code typed as an [`ErrorCode`]
//!   (`err.is(ErrorCode::EmailTaken)`, `err.error_code()`; `err.code()` gives the text).
//!
//! Requests and responses are `contacto_core::api` types, the very structs the server encodes.
//! Safe requests (GET, HEAD) and money-moving POSTs (which carry an idempotency key) are retried
//! with exponential backoff (capped at 10 s, or the server's `Retry-After`) when the exchange
//! breaks off (connecting, a timeout, a reset, a body cut short) and on 429, 502, 503 and 504,
//! with our error envelope or a proxy's page; a keyed POST's retry is answered with the first
//! attempt's outcome. `NOT_READY` and everything else are answered at once.

mod admin;
mod client;
mod directory;
mod error;
mod identity;
mod wallet;

pub use admin::AdminApi;
pub use client::{Client, ClientBuilder};
pub use contacto_core::api;
pub use contacto_core::api::ErrorCode;
pub use directory::{DirectoryApi, SearchBuilder};
pub use error::Error;
pub use identity::IdentityApi;
pub use wallet::{HistoryFilter, WalletApi};
