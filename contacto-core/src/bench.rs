//! Entry points into core's pure hot paths for the criterion benchmarks in `benches/`: ledger
//! validation and posting, fee arithmetic, search text folding and query building, token
//! verification, metrics recording. No database. Compiled only with the `bench` feature and hidden
//! from the documentation: not a stable API.

use std::collections::BTreeMap;

use secrecy::SecretString;
use time::Date;

use crate::api::{Role, SearchSort, TransactionKind, UserId, WalletId};
use crate::config::DatabaseConfig;
use crate::db::Db;
use crate::directory::search::{self, SearchSpec};
use crate::directory::{model, text};
use crate::error::Result;
use crate::identity::token::{TokenKeys, TokenSubject};
use crate::metrics::Metrics;
use crate::wallet::DailyLimits;
use crate::wallet::ledger::{self, Intent, WalletState};

/// A batch of transfers between customer wallets, as the ledger worker validates it under its
/// locks.
pub struct LedgerBatch {
    states: BTreeMap<WalletId, WalletState>,
    intents: Vec<Intent>,
    today: Date,
}

impl LedgerBatch {
    /// `transfers` transfers among `wallets` funded wallets, in a fixed pseudo-random pattern.
    pub fn transfers(wallets: usize, transfers: usize) -> Self {
        let ids: Vec<WalletId> = (0..wallets)
            .map(|i| WalletId(uuid::Uuid::from_u128(i as u128 + 1)))
            .collect();
        let states = ids
            .iter()
            .map(|id| {
                let state = WalletState {
                    owner: Some(id.0),
                    currency: "DZD".to_owned(),
                    posted: 1_000_000_000,
                    pending: 0,
                    may_go_negative: false,
                    frozen: false,
                    verification_level: 2,
                    entry_count: 0,
                    outgoing_day: None,
                    outgoing_minor: 0,
                };
                (*id, state)
            })
            .collect();
        let intents = (0..transfers)
            .map(|i| {
                let from = ids[(i * 7919) % wallets];
                let to = ids[(i * 104_729 + 1) % wallets];
                let amount = 100 + (i as i64 % 5000);
                Intent {
                    kind: TransactionKind::Transfer,
                    currency: None,
                    payer_owner: Some(from.0),
                    amount,
                    description: None,
                    postings: vec![(from, -amount), (to, amount)],
                    outgoing_from: Some(from),
                    gives_back: None,
                    holds: Vec::new(),
                    settlement: false,
                }
            })
            .collect();
        Self {
            states,
            intents,
            today: Date::MIN,
        }
    }

    /// Validates and posts every transfer in order, in memory; returns how many posted.
    pub fn post(&self) -> usize {
        let mut states = self.states.clone();
        let limits = DailyLimits([i64::MAX; 3]);
        self.intents
            .iter()
            .filter(|intent| ledger::apply(&mut states, intent, limits, self.today).is_ok())
            .count()
    }
}

/// The fee of a payment, in minor units, rounded as `docs/WALLET.md` documents.
pub fn fee_minor(amount: i64, bps: i32) -> i64 {
    crate::wallet::fees::fee_minor(amount, bps)
}

/// Search text folding: accents, case, Arabic variants.
pub fn fold(text: &str) -> String {
    text::fold(text)
}

/// The consonant skeleton of a folded word.
pub fn skeleton(word: &str) -> Option<String> {
    text::skeleton(word)
}

/// Builds both statements of a search for `q` with a category, wilaya and distance filter, as
/// every search request does; returns their total SQL length.
pub fn search_statements(q: &str) -> usize {
    let spec = SearchSpec {
        terms: search::terms(q),
        categories: Some(vec![6, 66, 67, 68]),
        wilaya: Some("16".to_owned()),
        commune: None,
        min_rating: Some(3.5),
        verified: None,
        open_at: None,
        language: Some("fr".to_owned()),
        near: Some((model::to_xyz(36.75, 3.06), model::chord_km(25.0))),
        sort: SearchSort::Relevance,
        limit: 20,
        offset: 0,
        now_minute: 600,
    };
    search::statements(&spec)
        .iter()
        .map(|statement| statement.sql.len())
        .sum()
}

/// Issues and verifies bearer tokens, as every authenticated request does.
pub struct Tokens(TokenKeys);

impl Tokens {
    /// Keys from a secret of at least 32 bytes.
    ///
    /// # Errors
    ///
    /// When the secret is too short.
    pub fn new(secret: &str) -> Result<Self> {
        TokenKeys::new(
            &SecretString::from(secret.to_owned()),
            std::time::Duration::from_secs(3600),
        )
        .map(Self)
    }

    /// A fresh token for a customer.
    ///
    /// # Errors
    ///
    /// When signing fails.
    pub fn issue(&self) -> Result<String> {
        let subject = TokenSubject {
            user_id: UserId(uuid::Uuid::from_u128(42)),
            role: Role::Customer,
        };
        self.0.issue(subject).map(|(token, _)| token)
    }

    /// Whether `token` verifies, as a request verifies it: in full the first time these keys see
    /// it, then from the tokens they remember (expiry only).
    pub fn verify(&self, token: &str) -> bool {
        self.0.verify(token).is_ok()
    }

    /// Whether `token` verifies in full (signature and claims), as on its first request.
    pub fn verify_in_full(&self, token: &str) -> bool {
        self.0.verify_in_full(token).is_ok()
    }
}

/// Core's metrics, as the ledger and every business operation record them.
pub struct MetricsRecorder(Metrics);

impl MetricsRecorder {
    /// Metrics in a private registry (the pool is never connected).
    ///
    /// # Errors
    ///
    /// When the metrics cannot be registered.
    pub fn new() -> Result<Self> {
        let db = Db::new(&DatabaseConfig::new("postgres://bench@localhost/bench"))?;
        Metrics::new(prometheus::Registry::new(), &db).map(Self)
    }

    /// Records what one posted transfer records: its operation, amount and batch.
    pub fn record_transfer(&self) {
        let ok: Result<()> = Ok(());
        self.0.operation("transfer", &ok);
        self.0.amount_moved("transfer", "DZD", 12_500);
        self.0.ledger_batch(64, 0.0012);
    }
}

/// The wallet history statement exactly as the store runs it (`ledger-growth` measures it).
pub const LEDGER_HISTORY_SQL: &str = crate::wallet::store::HISTORY_SQL;

/// The balance-at-time statement exactly as the store runs it (`ledger-growth` measures it).
pub const LEDGER_BALANCE_AT_SQL: &str = crate::wallet::store::BALANCE_AT_SQL;
