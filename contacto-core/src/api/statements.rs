//! Query analysis on the wire: the statements that cost the database most, as
//! `pg_stat_statements` counts them.

use serde::{Deserialize, Serialize};

/// Statements listed when no limit is given.
pub const DEFAULT_STATEMENTS_LIMIT: i64 = 20;

/// Most statements one report lists: beyond the top hundred, the totals are noise, and each
/// statement's text may be up to [`MAX_STATEMENT_TEXT_CHARS`] long.
pub const MAX_STATEMENTS_LIMIT: i64 = 100;

/// Longest statement text reported; longer texts are cut. PostgreSQL itself keeps at most
/// `track_activity_query_size` bytes (1 kB by default) of each.
pub const MAX_STATEMENT_TEXT_CHARS: i32 = 2000;

/// `GET /api/v1/admin/statements`: the statements that took the most execution time in this
/// database since the statistics were last reset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatementsReport {
    /// PostgreSQL writes statements that run longer than this to its log
    /// (`log_min_duration_statement`); `null` when it logs none by duration.
    #[cfg_attr(feature = "openapi", schema(example = 250))]
    pub slow_query_threshold_ms: Option<i64>,
    /// Most total execution time first.
    pub statements: Vec<StatementStats>,
}

/// One normalised statement's totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatementStats {
    /// The statement as `pg_stat_statements` normalises it: constants become `$1`, `$2`, ...,
    /// so no value a caller sent appears. Only queries and data changes are listed, never
    /// utility statements (`ALTER ROLE ... PASSWORD`), whose text is kept verbatim.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "SELECT balance FROM wallets WHERE id = $1")
    )]
    pub query: String,
    /// Times it ran.
    #[cfg_attr(feature = "openapi", schema(example = 1200))]
    pub calls: i64,
    /// Execution time of all its runs, in milliseconds.
    #[cfg_attr(feature = "openapi", schema(example = 84.5))]
    pub total_time_ms: f64,
    /// Execution time of one run on average, in milliseconds.
    #[cfg_attr(feature = "openapi", schema(example = 0.07))]
    pub mean_time_ms: f64,
    /// Rows returned or changed by all its runs.
    pub rows: i64,
    /// Shared buffer pages found in PostgreSQL's cache.
    pub shared_blocks_hit: i64,
    /// Shared buffer pages read from the operating system (its cache, or the disk).
    pub shared_blocks_read: i64,
}
