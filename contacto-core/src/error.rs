//! The one error type of core, its classification and its stable machine codes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How an [`Error`] should be treated by whoever reports it: the server maps each kind to one HTTP
/// status, in one exhaustive `match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The thing asked for does not exist, or the caller may not know that it does.
    NotFound,
    /// The input breaks a rule; the details name the fields.
    Invalid,
    /// The input is valid but clashes with the current state (a taken email, a reused key).
    Conflict,
    /// The caller did not prove who they are.
    Unauthenticated,
    /// The caller is known but may not do this.
    Forbidden,
    /// Too many attempts; try again later.
    RateLimited,
    /// A dependency (the database) is unreachable or overloaded; retrying later may succeed.
    Unavailable,
    /// A bug or an unexpected state; never the caller's fault.
    Internal,
}

/// One rule broken by one field of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The field's name as it appears in the request (`email`, `phone`).
    pub field: String,
    /// A stable, machine-readable reason (`invalid_format`, `too_short`).
    pub code: String,
    /// A human-readable explanation.
    pub message: String,
}

impl FieldError {
    /// A field error from its three parts.
    pub fn new(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// Every field error found in one input; validation reports them all at once, not the first only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one broken rule.
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Records the error of a validation result, keeping its value when it succeeded.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    /// The recorded errors.
    pub fn as_slice(&self) -> &[FieldError] {
        &self.0
    }

    /// `Ok(())` when nothing was recorded, otherwise [`Error::Validation`].
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] carrying every recorded field error.
    pub fn into_result(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self))
        }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<&str> = self.0.iter().map(|e| e.field.as_str()).collect();
        write!(f, "invalid fields: {}", fields.join(", "))
    }
}

/// A boxed source error; core does not leak its dependencies' error types.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in core.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Some fields of the input break their rules.
    #[error("{0}")]
    Validation(FieldErrors),
    /// The email address belongs to another account.
    #[error("an account with this email already exists")]
    EmailTaken,
    /// The phone number belongs to another account.
    #[error("an account with this phone number already exists")]
    PhoneTaken,
    /// Wrong email or password; deliberately does not say which.
    #[error("the email or password is incorrect")]
    InvalidCredentials,
    /// No credentials, or credentials that are malformed, expired or revoked.
    #[error("authentication is required: {reason}")]
    Unauthenticated {
        /// Why the credentials were not accepted, safe to show to the caller.
        reason: &'static str,
    },
    /// The caller may not do this.
    #[error("you are not allowed to {action}")]
    Forbidden {
        /// What was refused, phrased as a verb phrase (`create API keys with an API key`).
        action: &'static str,
    },
    /// The resource does not exist or is not visible to the caller.
    #[error("{resource} not found")]
    NotFound {
        /// What was looked for (`user`, `api key`).
        resource: &'static str,
    },
    /// A limit on how many of something a caller may hold.
    #[error("{what}: at most {limit} allowed")]
    QuotaExceeded {
        /// What ran out (`active API keys`).
        what: &'static str,
        /// The limit.
        limit: u32,
    },
    /// The paying wallet's available balance is lower than the amount.
    #[error("insufficient funds: {available} available, {requested} requested")]
    InsufficientFunds {
        /// What the wallet can spend, in minor units.
        available: i64,
        /// What was asked, in minor units.
        requested: i64,
    },
    /// The wallets involved hold different currencies; nothing is converted implicitly.
    #[error("currency mismatch: {0}")]
    CurrencyMismatch(String),
    /// A frozen wallet neither sends nor receives.
    #[error("wallet {0} is frozen")]
    WalletFrozen(crate::api::WalletId),
    /// The operation would pass a daily limit of the wallet's verification level.
    #[error("daily outgoing limit of {limit} reached: {used} already sent today")]
    LimitExceeded {
        /// The limit, in minor units.
        limit: i64,
        /// Sent today before this operation, in minor units.
        used: i64,
    },
    /// The hold was already captured, voided or expired.
    #[error("the hold is no longer authorised")]
    HoldSettled,
    /// The withdrawal was already completed or failed.
    #[error("the withdrawal is no longer pending")]
    WithdrawalSettled,
    /// A refund would give back more than remains of the payment.
    #[error("only {refundable} of this payment can still be refunded")]
    RefundExceedsPayment {
        /// What remains refundable, in minor units.
        refundable: i64,
    },
    /// The caller already has a wallet in this currency.
    #[error("a wallet in this currency already exists")]
    WalletExists,
    /// The user already has a professional profile.
    #[error("you already have a professional profile")]
    ProfileExists,
    /// The user already reviewed this professional; edit that review instead.
    #[error("you already reviewed this professional")]
    ReviewExists,
    /// The professional already answered this review.
    #[error("this review was already answered")]
    ReviewAnswered,
    /// An idempotency key was reused with a different request.
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    /// A webhook's signature does not match its body.
    #[error("the webhook signature is missing or invalid")]
    InvalidSignature,
    /// The deposit was already settled differently.
    #[error("deposit already {0}")]
    DepositSettled(&'static str),
    /// A rejection recorded under an idempotency key, replayed as it was first answered.
    #[error("{message}")]
    Replayed {
        /// How the original rejection was classified.
        kind: ErrorKind,
        /// Its code.
        code: String,
        /// Its message.
        message: String,
    },
    /// Too many failed attempts.
    #[error("too many attempts; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until an attempt may succeed.
        retry_after_secs: u64,
    },
    /// The database schema is older than this build expects.
    #[error("the database schema is not up to date: run `contacto-server migrate`")]
    SchemaOutdated,
    /// The database has migrations this build does not know: a newer version was deployed.
    #[error("the database schema is newer than this build: {0}")]
    SchemaAhead(String),
    /// Query statistics cannot be read: `pg_stat_statements` is not loaded or not installed, or
    /// the database role may not install or use it. The message says what the operator must do.
    #[error("query statistics are unavailable: {0}")]
    StatementsUnavailable(&'static str),
    /// The database cannot be reached or is overloaded.
    #[error("the database is unavailable")]
    Unavailable(#[source] BoxError),
    /// A bug or an unexpected state.
    #[error("internal error: {context}")]
    Internal {
        /// What was being done.
        context: &'static str,
        /// The underlying failure.
        #[source]
        source: BoxError,
    },
}

impl Error {
    /// How the error should be treated.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Validation(_) => ErrorKind::Invalid,
            Error::EmailTaken
            | Error::PhoneTaken
            | Error::QuotaExceeded { .. }
            | Error::InsufficientFunds { .. }
            | Error::WalletFrozen(_)
            | Error::LimitExceeded { .. }
            | Error::WalletExists
            | Error::ProfileExists
            | Error::ReviewExists
            | Error::ReviewAnswered
            | Error::IdempotencyKeyReused
            | Error::DepositSettled(_)
            | Error::RefundExceedsPayment { .. }
            | Error::WithdrawalSettled
            | Error::HoldSettled => ErrorKind::Conflict,
            Error::CurrencyMismatch(_) => ErrorKind::Invalid,
            Error::InvalidSignature => ErrorKind::Unauthenticated,
            Error::Replayed { kind, .. } => *kind,
            Error::InvalidCredentials | Error::Unauthenticated { .. } => ErrorKind::Unauthenticated,
            Error::Forbidden { .. } => ErrorKind::Forbidden,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::SchemaOutdated
            | Error::SchemaAhead(_)
            | Error::StatementsUnavailable(_)
            | Error::Unavailable(_) => ErrorKind::Unavailable,
            Error::Internal { .. } => ErrorKind::Internal,
        }
    }

    /// The stable machine code callers match on (`EMAIL_TAKEN`); listed in [`ERROR_CODES`].
    pub fn code(&self) -> &str {
        match self {
            Error::InsufficientFunds { .. } => "INSUFFICIENT_FUNDS",
            Error::CurrencyMismatch(_) => "CURRENCY_MISMATCH",
            Error::WalletFrozen(_) => "WALLET_FROZEN",
            Error::LimitExceeded { .. } => "LIMIT_EXCEEDED",
            Error::WalletExists => "WALLET_EXISTS",
            Error::ProfileExists => "PROFILE_EXISTS",
            Error::ReviewExists => "REVIEW_EXISTS",
            Error::ReviewAnswered => "REVIEW_ANSWERED",
            Error::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            Error::InvalidSignature => "INVALID_SIGNATURE",
            Error::DepositSettled(_) => "DEPOSIT_SETTLED",
            Error::RefundExceedsPayment { .. } => "REFUND_EXCEEDS_PAYMENT",
            Error::WithdrawalSettled => "WITHDRAWAL_SETTLED",
            Error::HoldSettled => "HOLD_SETTLED",
            Error::Replayed { code, .. } => code,
            Error::Validation(_) => "VALIDATION_FAILED",
            Error::EmailTaken => "EMAIL_TAKEN",
            Error::PhoneTaken => "PHONE_TAKEN",
            Error::InvalidCredentials => "INVALID_CREDENTIALS",
            Error::Unauthenticated { .. } => "UNAUTHENTICATED",
            Error::Forbidden { .. } => "FORBIDDEN",
            Error::NotFound { .. } => "NOT_FOUND",
            Error::QuotaExceeded { .. } => "QUOTA_EXCEEDED",
            Error::RateLimited { .. } => "RATE_LIMITED",
            Error::SchemaOutdated => "SCHEMA_OUTDATED",
            Error::SchemaAhead(_) => "SCHEMA_AHEAD",
            Error::StatementsUnavailable(_) => "STATEMENTS_UNAVAILABLE",
            Error::Unavailable(_) => "SERVICE_UNAVAILABLE",
            Error::Internal { .. } => "INTERNAL",
        }
    }

    /// The message safe to show to a caller: internals are never part of it.
    pub fn public_message(&self) -> String {
        match self.kind() {
            ErrorKind::Internal => "an internal error occurred".to_owned(),
            _ => self.to_string(),
        }
    }

    /// Field-level details of a validation error.
    pub fn field_errors(&self) -> Option<&[FieldError]> {
        match self {
            Error::Validation(errors) => Some(errors.as_slice()),
            _ => None,
        }
    }

    /// For [`Error::RateLimited`], seconds until a retry may succeed.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Error::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// A validation error about one field.
    pub fn invalid(field: &str, code: &str, message: impl Into<String>) -> Self {
        FieldError::new(field, code, message).into()
    }

    /// An internal error with what was being done.
    pub fn internal(context: &'static str, source: impl Into<BoxError>) -> Self {
        Error::Internal {
            context,
            source: source.into(),
        }
    }
}

impl From<FieldError> for Error {
    fn from(error: FieldError) -> Self {
        let mut errors = FieldErrors::new();
        errors.push(error);
        Error::Validation(errors)
    }
}

/// Every machine code core can return, for documentation and contract tests.
pub const ERROR_CODES: &[&str] = &[
    "INSUFFICIENT_FUNDS",
    "CURRENCY_MISMATCH",
    "WALLET_FROZEN",
    "LIMIT_EXCEEDED",
    "WALLET_EXISTS",
    "PROFILE_EXISTS",
    "REVIEW_EXISTS",
    "REVIEW_ANSWERED",
    "IDEMPOTENCY_KEY_REUSED",
    "INVALID_SIGNATURE",
    "DEPOSIT_SETTLED",
    "REFUND_EXCEEDS_PAYMENT",
    "WITHDRAWAL_SETTLED",
    "HOLD_SETTLED",
    "VALIDATION_FAILED",
    "EMAIL_TAKEN",
    "PHONE_TAKEN",
    "INVALID_CREDENTIALS",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "QUOTA_EXCEEDED",
    "RATE_LIMITED",
    "SCHEMA_OUTDATED",
    "SCHEMA_AHEAD",
    "STATEMENTS_UNAVAILABLE",
    "SERVICE_UNAVAILABLE",
    "INTERNAL",
];

/// Core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_show_their_source_to_callers() {
        let err = Error::internal("hashing a password", "secret detail");
        assert_eq!(err.public_message(), "an internal error occurred");
        assert_eq!(err.kind(), ErrorKind::Internal);
    }

    #[test]
    fn every_code_is_listed_once() {
        let mut codes = ERROR_CODES.to_vec();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ERROR_CODES.len());
        let samples = [
            Error::EmailTaken,
            Error::PhoneTaken,
            Error::InvalidCredentials,
            Error::SchemaOutdated,
            Error::RateLimited {
                retry_after_secs: 1,
            },
        ];
        for code in ERROR_CODES {
            assert!(
                crate::api::ErrorCode::parse(code).is_some(),
                "{code} has no api::ErrorCode"
            );
        }
        for err in samples {
            assert!(
                ERROR_CODES.contains(&err.code()),
                "{} is not listed",
                err.code()
            );
        }
    }
}
