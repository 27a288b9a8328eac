//! Core's typed configuration. Core never reads environment variables or files: the embedding
//! application (or `contacto-server`) builds this struct.

use std::time::Duration;

use secrecy::SecretString;

/// Everything core needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the data lives.
    pub database: DatabaseConfig,
    /// Passwords, tokens and login throttling.
    pub auth: AuthConfig,
    /// Limits, webhooks and idempotency of the wallet.
    pub wallet: WalletConfig,
}

/// The wallet's settings.
#[derive(Debug, Clone)]
pub struct WalletConfig {
    /// The HMAC-SHA256 key payment providers sign deposit webhooks with; without one, every
    /// webhook is refused.
    pub webhook_secret: Option<SecretString>,
    /// Daily outgoing limits by verification level, in minor units.
    pub daily_limits: crate::wallet::DailyLimits,
    /// How long idempotency keys are remembered (at least 7 days).
    pub idempotency_retention: Duration,
    /// The fee of merchants without one of their own, in basis points (150 = 1.5%).
    pub default_merchant_fee_bps: i32,
    /// When transfers naming their receiver by email or phone stop finding receivers.
    pub contact_lookups: ContactLookupThrottle,
}

impl Default for WalletConfig {
    /// No webhook secret; daily limits of 50,000, 500,000 and 5,000,000 DZD for levels 0, 1, 2;
    /// keys kept 7 days; a 1.5% default merchant fee; 20 receivers not found in an hour lock a
    /// caller's lookups for an hour.
    fn default() -> Self {
        Self {
            webhook_secret: None,
            daily_limits: crate::wallet::DailyLimits([5_000_000, 50_000_000, 500_000_000]),
            idempotency_retention: Duration::from_secs(7 * 24 * 3600),
            default_merchant_fee_bps: 150,
            contact_lookups: ContactLookupThrottle::default(),
        }
    }
}

/// How many receivers a caller may fail to find by email or phone before their lookups are
/// refused for a while. A transfer to an address answers whether it belongs to a user; counting
/// the misses bounds how fast an account can test a list of addresses, while a caller paying
/// people they know, however many, finds them and is never counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactLookupThrottle {
    /// Lookups finding nobody within `window` that lock the caller's lookups.
    pub max_misses: u32,
    /// The window misses are counted in.
    pub window: Duration,
    /// How long a lock lasts; while it does, every lookup of the caller is refused, whether or
    /// not it would find someone, so the refusal tells nothing either.
    pub lockout: Duration,
}

impl Default for ContactLookupThrottle {
    fn default() -> Self {
        Self {
            max_misses: 20,
            window: Duration::from_secs(3600),
            lockout: Duration::from_secs(3600),
        }
    }
}

/// The database and its pool.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// A PostgreSQL URL or key-value connection string; secret because it may carry a password.
    pub url: SecretString,
    /// Most connections the pool opens. The ledger's worker keeps two more of its own to the
    /// primary (one per batch in flight), so that its commits never wait for the pool.
    pub pool_max_size: usize,
    /// How long opening one connection may take.
    pub connect_timeout: Duration,
    /// How long a request waits for a free pooled connection before it gets a 503.
    pub wait_timeout: Duration,
    /// Server-side cap on one statement, so a runaway query cannot hold a connection forever.
    pub statement_timeout: Option<Duration>,
    /// Streaming replicas for reads that tolerate a little lag (directory pages, review lists,
    /// history, reports); empty for none. Each gets a pool of `pool_max_size`.
    pub replicas: Vec<SecretString>,
    /// A replica lagging more than this is taken out of rotation until it catches up.
    pub replica_max_lag: Duration,
    /// How often each replica's lag and health are checked.
    pub replica_check_interval: Duration,
    /// Whether the ledger (small batches), directory searches without text and payments' reads of
    /// their wallets may prepare their statements once per connection instead of planning them
    /// every time. Turn it off behind a pooler that hands a client's statements to different
    /// server sessions, such as PgBouncer before 1.21 in transaction mode.
    pub prepared_statements: bool,
}

impl DatabaseConfig {
    /// Defaults for `url`: 16 connections, 5 s to connect or wait, 30 s per statement, no replicas
    /// (with replicas: 2 s of lag at most, checked every 250 ms), prepared statements on.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: SecretString::from(url.into()),
            pool_max_size: 16,
            connect_timeout: Duration::from_secs(5),
            wait_timeout: Duration::from_secs(5),
            statement_timeout: Some(Duration::from_secs(30)),
            replicas: Vec::new(),
            replica_max_lag: Duration::from_secs(2),
            replica_check_interval: Duration::from_millis(250),
            prepared_statements: true,
        }
    }
}

/// Authentication settings.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// HMAC key for the HS256 bearer tokens; at least [`MIN_JWT_SECRET_BYTES`] bytes.
    pub jwt_secret: SecretString,
    /// How long a token is accepted after it is issued.
    pub token_ttl: Duration,
    /// The argon2id cost.
    pub password_hashing: PasswordHashing,
    /// Failed-login throttling.
    pub login_throttle: LoginThrottle,
    /// Throttling of registrations refused because their email or phone is taken.
    pub registration_throttle: RegistrationThrottle,
}

/// Shortest accepted JWT secret: HS256 keys shorter than the hash output weaken it (RFC 7518 3.2).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

impl AuthConfig {
    /// Defaults around a secret: tokens for one hour, OWASP's argon2id cost, 5 failures per account
    /// and 20 per address in 15 minutes before a 15-minute lock, 20 registrations refused for a
    /// taken email or phone per address in an hour before an hour's lock.
    pub fn new(jwt_secret: impl Into<String>) -> Self {
        Self {
            jwt_secret: SecretString::from(jwt_secret.into()),
            token_ttl: Duration::from_secs(3600),
            password_hashing: PasswordHashing::default(),
            login_throttle: LoginThrottle::default(),
            registration_throttle: RegistrationThrottle::default(),
        }
    }
}

/// argon2id parameters. New hashes use them; existing hashes carry their own and stay verifiable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordHashing {
    /// Memory cost in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for PasswordHashing {
    /// OWASP's recommendation for argon2id: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// When failed logins lock an account or a client address out for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    /// Failures on an account from one client address within `window` that lock that address
    /// out of the account (the owner, elsewhere, still logs in); ten times as many from all
    /// addresses together lock the account (without a client address: this many).
    pub max_failures_per_account: u32,
    /// Failures per client address within `window` that trigger a lock.
    pub max_failures_per_address: u32,
    /// The window failures are counted in.
    pub window: Duration,
    /// How long a lock lasts.
    pub lockout: Duration,
}

/// When registrations refused because their email or phone is taken lock a client address out of
/// registering for a while. Each such refusal tells whether an address belongs to a user, so one
/// client address may learn it of `max_taken` addresses per `window`; past that, every
/// registration from it is refused until the lock ends, whether or not its email is taken, so the
/// refusal tells nothing either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationThrottle {
    /// Refusals for a taken email or phone from one client address within `window` that lock it.
    pub max_taken: u32,
    /// The window refusals are counted in.
    pub window: Duration,
    /// How long a lock lasts.
    pub lockout: Duration,
}

impl Default for RegistrationThrottle {
    fn default() -> Self {
        Self {
            max_taken: 20,
            window: Duration::from_secs(3600),
            lockout: Duration::from_secs(3600),
        }
    }
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            max_failures_per_account: 5,
            max_failures_per_address: 20,
            window: Duration::from_secs(15 * 60),
            lockout: Duration::from_secs(15 * 60),
        }
    }
}
