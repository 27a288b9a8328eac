//! Database facts translated into domain errors, at the store boundary.

use tokio_postgres::error::SqlState;

use crate::error::Error;

/// Violated constraints that mean something to the caller. Every constraint is named in
/// `migrations/`; a name missing here is a bug and surfaces as an internal error.
fn constraint_error(constraint: &str) -> Option<Error> {
    match constraint {
        "users_email_key" => Some(Error::EmailTaken),
        "users_phone_key" => Some(Error::PhoneTaken),
        "wallets_owner_currency_key" => Some(Error::WalletExists),
        "professionals_user_key" => Some(Error::ProfileExists),
        "reviews_once_key" => Some(Error::ReviewExists),
        _ => None,
    }
}

/// Whether a failure means "the database is not there right now, retry later" rather than "this
/// is a bug".
fn is_unavailable(err: &tokio_postgres::Error) -> bool {
    if err.is_closed() {
        return true;
    }
    if let Some(code) = err.code() {
        let code = code.code();
        // Class 08: connection exceptions; class 53: insufficient resources (too many
        // connections, out of memory or disk); 57P01..57P03: the server is shutting down or
        // starting; 57014: statement timeout; 25006: a read-only server (a replica, or a primary
        // after failover); 40001 and 40P01: serialization failure and deadlock, which a retry
        // resolves.
        return code.starts_with("08")
            || code.starts_with("53")
            || [
                "57P01", "57P02", "57P03", "57014", "25006", "40001", "40P01",
            ]
            .contains(&code);
    }
    // Without a SQLSTATE, only an I/O failure talking to the server means unavailable; row-count
    // and type-conversion errors are bugs.
    std::error::Error::source(err).is_some_and(|source| source.is::<std::io::Error>())
}

/// Whether the schema lacks what this build expects: a table, column or function is missing.
fn is_schema_drift(err: &tokio_postgres::Error) -> bool {
    err.code().is_some_and(|code| {
        [
            SqlState::UNDEFINED_TABLE,
            SqlState::UNDEFINED_COLUMN,
            SqlState::UNDEFINED_FUNCTION,
        ]
        .contains(code)
    })
}

/// Translates a tokio-postgres failure.
pub(crate) fn from_pg(err: tokio_postgres::Error, context: &'static str) -> Error {
    if let Some(mapped) = err
        .as_db_error()
        .and_then(|db| db.constraint())
        .and_then(constraint_error)
    {
        return mapped;
    }
    if is_unavailable(&err) {
        return Error::Unavailable(Box::new(err));
    }
    if is_schema_drift(&err) {
        return Error::SchemaOutdated;
    }
    // Class 22, data exceptions (a NUL byte in text, a value out of range): input that validation
    // should have refused. It stays a 400, never a 500, and the database wrote nothing.
    if err.code().is_some_and(|code| code.code().starts_with("22")) {
        return Error::invalid(
            "body",
            "invalid_value",
            "a value in the request cannot be stored",
        );
    }
    Error::internal(context, err)
}

/// Translates a failure to obtain a pooled connection.
pub(crate) fn from_pool(err: deadpool_postgres::PoolError) -> Error {
    use deadpool_postgres::PoolError;
    match err {
        PoolError::Backend(err) => from_pg(err, "connecting to the database"),
        other => Error::Unavailable(Box::new(other)),
    }
}

/// `.db("what was being done")` on a tokio-postgres result.
pub(crate) trait PgResultExt<T> {
    /// Maps the error with [`from_pg`].
    fn db(self, context: &'static str) -> Result<T, Error>;
}

impl<T> PgResultExt<T> for Result<T, tokio_postgres::Error> {
    fn db(self, context: &'static str) -> Result<T, Error> {
        self.map_err(|err| from_pg(err, context))
    }
}
