//! Database facts translated into domain errors, at the store boundary.

use tokio_postgres::error::SqlState;

use crate::error::Error;

/// Violated constraints that mean something to the caller. Every constraint is named in
/// `migrations/`; a name missing here is a bug and surfaces as an internal error.
fn constraint_error(constraint: &str) -> Option<Error> {
    match constraint {
        "users_email_key" => Some(Error::EmailTaken),
        "users_phone_key" => Some(Error::PhoneTaken),
        _ => None,
    }
}

/// Whether a failure means "the database is not there right now" rather than "this is a bug".
fn is_unavailable(err: &tokio_postgres::Error) -> bool {
    if err.is_closed() {
        return true;
    }
    match err.code() {
        // Class 08: connection exceptions; 57P01..57P03: the server is shutting down or starting;
        // class 53: insufficient resources (too many connections, out of memory or disk).
        Some(code) => {
            let code = code.code();
            code.starts_with("08")
                || code.starts_with("53")
                || *code == *SqlState::ADMIN_SHUTDOWN.code()
                || *code == *SqlState::CRASH_SHUTDOWN.code()
                || *code == *SqlState::CANNOT_CONNECT_NOW.code()
        }
        // No SQLSTATE: an I/O or protocol failure talking to the server.
        None => true,
    }
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
