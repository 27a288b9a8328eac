//! Contacto's core: domain logic and PostgreSQL persistence, embeddable in any Rust program.
//!
//! ```no_run
//! # async fn demo() -> contacto_core::Result<()> {
//! use contacto_core::{AuthConfig, Config, Contacto, DatabaseConfig, WalletConfig};
//!
//! let contacto = Contacto::builder(Config {
//!     database: DatabaseConfig::new("postgres://contacto@localhost/contacto"),
//!     auth: AuthConfig::new("a secret of at least thirty-two bytes"),
//!     wallet: WalletConfig::default(),
//! })
//! .build()?;
//! contacto.migrate().await?;
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! - [`api`]: the request and response types of the HTTP API, shared with `contacto-client`;
//!   always compiled.
//! - With the `persistence` feature (on by default): the [`Contacto`] façade and its feature
//!   handles ([`Identity`], [`Wallets`], [`Directory`]), the typed [`Config`], the database plumbing ([`managed`] local
//!   clusters, migrations) and, with `testing`, per-test databases in [`testing`].
//! - [`Error`] and [`ErrorKind`]: one error type with stable machine codes.
//!
//! Inside each feature module (`identity/`, ...): `model.rs` holds pure rules, `store.rs` the SQL,
//! and `mod.rs` the use cases, which open transactions. See `docs/ARCHITECTURE.md`.

pub mod api;
#[cfg(feature = "bench")]
#[doc(hidden)]
pub mod bench;
mod error;

#[cfg(feature = "persistence")]
mod config;
#[cfg(feature = "persistence")]
mod contacto;
#[cfg(feature = "persistence")]
mod db;
#[cfg(feature = "persistence")]
mod directory;
#[cfg(feature = "persistence")]
mod hex;
#[cfg(feature = "persistence")]
mod identity;
#[cfg(feature = "persistence")]
mod metrics;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "persistence")]
mod wallet;

pub use error::{BoxError, ERROR_CODES, Error, ErrorKind, FieldError, FieldErrors, Result};

#[cfg(feature = "persistence")]
pub use config::{
    AuthConfig, Config, ContactLookupThrottle, DatabaseConfig, LoginThrottle, MIN_JWT_SECRET_BYTES,
    PasswordHashing, RegistrationThrottle, WalletConfig,
};
#[cfg(feature = "persistence")]
pub use contacto::{Contacto, ContactoBuilder};
#[cfg(feature = "persistence")]
pub use db::{MigrationReport, ReplicaStatus};
#[cfg(feature = "persistence")]
pub use db::{managed, redacted_url};
#[cfg(feature = "persistence")]
pub use directory::{Directory, MAX_DIRECTORY_PAGE_SIZE};
#[cfg(feature = "persistence")]
pub use identity::{API_KEY_PREFIX, Credential, Identity, MAX_ACTIVE_API_KEYS, Principal};
#[cfg(feature = "persistence")]
pub use wallet::{
    DESCRIPTION_MAX_CHARS, DailyLimits, HistoryQuery, IDEMPOTENCY_KEY_MAX_CHARS, MAX_AMOUNT_MINOR,
    MAX_BULK_TRANSFERS, MAX_PAGE_SIZE, Wallets, new_idempotency_key,
};
