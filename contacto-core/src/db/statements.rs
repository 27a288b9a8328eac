//! Query analysis: per-statement totals from `pg_stat_statements`, and the slow-query threshold.
//!
//! The extension is installed on first use (`CREATE EXTENSION IF NOT EXISTS`), not by a
//! migration: installing it takes a superuser, and an application role that is not one must still
//! be able to migrate. When it cannot be installed or used, callers get
//! [`Error::StatementsUnavailable`] (a 503 naming what the operator must do), never a 500.

use std::time::Duration;

use tokio_postgres::GenericClient;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;

use super::error::{PgResultExt, from_pg};
use crate::Principal;
use crate::api::{
    DEFAULT_STATEMENTS_LIMIT, MAX_STATEMENT_TEXT_CHARS, MAX_STATEMENTS_LIMIT, Role, StatementStats,
    StatementsReport,
};
use crate::error::{Error, Result};

const NOT_PRELOADED: &str = "pg_stat_statements is not loaded: add it to \
     shared_preload_libraries in postgresql.conf and restart PostgreSQL";
const NOT_PERMITTED: &str = "the pg_stat_statements extension is not installed in this database \
     and the database role may not install it: a superuser must run \
     `CREATE EXTENSION pg_stat_statements` in it";
const NOT_AVAILABLE: &str = "the pg_stat_statements extension is not available on the database \
     server: install PostgreSQL's contrib modules";
const TOO_OLD: &str = "the pg_stat_statements extension is too old: this needs version 1.8 \
     (PostgreSQL 13) or newer; run `ALTER EXTENSION pg_stat_statements UPDATE` after upgrading";
const RESET_NOT_PERMITTED: &str = "the database role may not reset the statistics: a superuser \
     must run `GRANT EXECUTE ON FUNCTION pg_stat_statements_reset TO <role>`";

/// Only plannable statements, whose constants `pg_stat_statements` replaces with `$n`. Utility
/// statements (`CREATE ROLE .. PASSWORD '..'`) are kept verbatim, literals included, and must
/// never reach an API answer.
const PLANNABLE: &str = r"^\s*(select|insert|update|delete|merge|with|values|table)\M";

/// Query statistics are for administrators; `None` is a trusted caller (the command line).
pub(crate) fn authorise(principal: Option<&Principal>) -> Result<()> {
    if principal.is_some_and(|p| p.role != Role::Admin) {
        return Err(Error::Forbidden {
            action: "read query statistics",
        });
    }
    Ok(())
}

/// The number of statements to list: [`DEFAULT_STATEMENTS_LIMIT`] unless given, at most
/// [`MAX_STATEMENTS_LIMIT`].
pub(crate) fn checked_limit(limit: Option<i64>) -> Result<i64> {
    let limit = limit.unwrap_or(DEFAULT_STATEMENTS_LIMIT);
    if !(1..=MAX_STATEMENTS_LIMIT).contains(&limit) {
        return Err(Error::invalid(
            "limit",
            "out_of_range",
            format!("between 1 and {MAX_STATEMENTS_LIMIT}"),
        ));
    }
    Ok(limit)
}

/// The `limit` statements of this database with the most total execution time.
pub(crate) async fn top(client: &impl GenericClient, limit: i64) -> Result<StatementsReport> {
    let schema = installed_schema(client).await?;
    let sql = format!(
        "SELECT left(s.query, $1), s.calls, s.total_exec_time, s.mean_exec_time, s.rows, \
                s.shared_blks_hit, s.shared_blks_read \
         FROM {schema}.pg_stat_statements s \
         WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
           AND s.query ~* $2 \
         ORDER BY s.total_exec_time DESC \
         LIMIT $3",
        schema = quote_ident(&schema)
    );
    let rows = client
        .query_typed(
            &sql,
            &[
                (&MAX_STATEMENT_TEXT_CHARS, Type::INT4),
                (&PLANNABLE, Type::TEXT),
                (&limit, Type::INT8),
            ],
        )
        .await
        .map_err(|err| unusable(err, "reading pg_stat_statements"))?;
    let statements = rows
        .iter()
        .map(|row| StatementStats {
            query: row.get(0),
            calls: row.get(1),
            total_time_ms: row.get(2),
            mean_time_ms: row.get(3),
            rows: row.get(4),
            shared_blocks_hit: row.get(5),
            shared_blocks_read: row.get(6),
        })
        .collect();
    let threshold = slow_query_threshold(client).await?;
    Ok(StatementsReport {
        slow_query_threshold_ms: threshold
            .map(|t| i64::try_from(t.as_millis()).unwrap_or(i64::MAX)),
        statements,
    })
}

/// Forgets the totals of this database's statements (other databases' are left alone).
pub(crate) async fn reset(client: &impl GenericClient) -> Result<()> {
    let schema = installed_schema(client).await?;
    let sql = format!(
        "SELECT {}.pg_stat_statements_reset(0, \
                (SELECT oid FROM pg_database WHERE datname = current_database()), 0)",
        quote_ident(&schema)
    );
    client
        .query_typed(&sql, &[])
        .await
        .map_err(|err| match err.code() {
            Some(code) if *code == SqlState::INSUFFICIENT_PRIVILEGE => {
                Error::StatementsUnavailable(RESET_NOT_PERMITTED)
            }
            _ => unusable(err, "resetting pg_stat_statements"),
        })?;
    Ok(())
}

/// `log_min_duration_statement`: statements running longer are logged; `None` when disabled.
pub(crate) async fn slow_query_threshold(client: &impl GenericClient) -> Result<Option<Duration>> {
    // pg_settings gives the value in its unit (milliseconds), where SHOW gives text ("250ms").
    let row = client
        .query_typed_one(
            "SELECT setting::bigint FROM pg_settings WHERE name = 'log_min_duration_statement'",
            &[],
        )
        .await
        .db("reading log_min_duration_statement")?;
    let ms: i64 = row.get(0);
    Ok(u64::try_from(ms).ok().map(Duration::from_millis))
}

/// The schema `pg_stat_statements` lives in, installing the extension first if need be.
async fn installed_schema(client: &impl GenericClient) -> Result<String> {
    if let Some(schema) = extension_schema(client).await? {
        return Ok(schema);
    }
    match client
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .await
    {
        Ok(()) => {}
        // Another instance installed it at the same moment.
        Err(err) if err.code() == Some(&SqlState::UNIQUE_VIOLATION) => {}
        Err(err) if err.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => {
            return Err(Error::StatementsUnavailable(NOT_PERMITTED));
        }
        Err(err) if err.code() == Some(&SqlState::UNDEFINED_FILE) => {
            return Err(Error::StatementsUnavailable(NOT_AVAILABLE));
        }
        Err(err) => return Err(from_pg(err, "installing pg_stat_statements")),
    }
    extension_schema(client)
        .await?
        .ok_or_else(|| Error::internal("installing pg_stat_statements", "created, yet not found"))
}

async fn extension_schema(client: &impl GenericClient) -> Result<Option<String>> {
    let row = client
        .query_typed_opt(
            "SELECT n.nspname::text FROM pg_extension e \
             JOIN pg_namespace n ON n.oid = e.extnamespace \
             WHERE e.extname = 'pg_stat_statements'",
            &[],
        )
        .await
        .db("looking for pg_stat_statements")?;
    Ok(row.map(|row| row.get(0)))
}

/// Translates a failure to use an installed `pg_stat_statements`.
fn unusable(err: tokio_postgres::Error, context: &'static str) -> Error {
    let code = err.code();
    if code == Some(&SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE) {
        return Error::StatementsUnavailable(NOT_PRELOADED);
    }
    // An old extension lacks the columns read here; the generic mapping would call that an
    // outdated Contacto schema, which it is not.
    if code == Some(&SqlState::UNDEFINED_COLUMN) || code == Some(&SqlState::UNDEFINED_FUNCTION) {
        return Error::StatementsUnavailable(TOO_OLD);
    }
    from_pg(err, context)
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_whatever_they_hold() {
        assert_eq!(quote_ident("public"), "\"public\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn the_limit_defaults_and_is_bounded() {
        assert_eq!(checked_limit(None).ok(), Some(DEFAULT_STATEMENTS_LIMIT));
        assert_eq!(
            checked_limit(Some(MAX_STATEMENTS_LIMIT)).ok(),
            Some(MAX_STATEMENTS_LIMIT)
        );
        for limit in [0, -1, MAX_STATEMENTS_LIMIT + 1] {
            let err = checked_limit(Some(limit)).expect_err("out of range");
            assert_eq!(err.code(), "VALIDATION_FAILED", "{limit}");
        }
    }
}
