//! Query analysis for operators: the slow-query threshold said at start-up, and the
//! `top-statements` report as a table for terminals.

use std::fmt::Write as _;

use contacto_core::Contacto;
use contacto_core::api::StatementsReport;

use crate::config::ServerConfig;

/// Longest statement text in a table row; `--json` prints them whole.
const TABLE_QUERY_CHARS: usize = 160;

/// Logs which statements PostgreSQL writes to its log as slow, so operators know what the log
/// holds, and warns when `CONTACTO_SLOW_QUERY_MS` is not what is in effect.
pub(crate) async fn log_slow_query_threshold(core: &Contacto, config: &ServerConfig) {
    let effective_ms = match core.slow_query_threshold().await {
        Ok(threshold) => threshold.map_or(-1, |t| i64::try_from(t.as_millis()).unwrap_or(i64::MAX)),
        Err(err) => {
            tracing::warn!(error = %err, "reading the slow-query threshold");
            return;
        }
    };
    if effective_ms < 0 {
        tracing::info!(
            log_min_duration_statement_ms = effective_ms,
            "slow-query threshold: PostgreSQL logs no statement for its duration"
        );
    } else {
        tracing::info!(
            log_min_duration_statement_ms = effective_ms,
            "slow-query threshold: PostgreSQL logs statements that run longer than this"
        );
    }
    if let Some(configured_ms) = config.slow_query_ms
        && configured_ms != effective_ms
    {
        tracing::warn!(
            configured_ms,
            effective_ms,
            "CONTACTO_SLOW_QUERY_MS is not in effect: it is written to the managed PostgreSQL's \
             settings when that starts (restart it if it was already running); on another server, \
             set log_min_duration_statement there"
        );
    }
}

/// The report as a table: one statement a row, most total time first.
pub(crate) fn table(report: &StatementsReport) -> String {
    let mut out = String::new();
    let _ = match report.slow_query_threshold_ms {
        Some(ms) => writeln!(
            out,
            "slow-query threshold: {ms} ms (log_min_duration_statement)"
        ),
        None => writeln!(
            out,
            "slow-query threshold: none (log_min_duration_statement = -1)"
        ),
    };
    if report.statements.is_empty() {
        out.push_str("no statements recorded since the statistics were last reset\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{:>10} {:>12} {:>10} {:>10} {:>6}  query",
        "calls", "total ms", "mean ms", "rows", "hit %"
    );
    for s in &report.statements {
        let blocks = s.shared_blocks_hit + s.shared_blocks_read;
        let hit = if blocks == 0 {
            "-".to_owned()
        } else {
            format!("{:.1}", 100.0 * s.shared_blocks_hit as f64 / blocks as f64)
        };
        let _ = writeln!(
            out,
            "{:>10} {:>12.2} {:>10.3} {:>10} {:>6}  {}",
            s.calls,
            s.total_time_ms,
            s.mean_time_ms,
            s.rows,
            hit,
            one_line(&s.query, TABLE_QUERY_CHARS)
        );
    }
    out
}

/// `text` on one line (runs of white space become one space), cut to `max_chars`.
fn one_line(text: &str, max_chars: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let line = words.join(" ");
    if line.chars().count() <= max_chars {
        return line;
    }
    let mut cut: String = line.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use contacto_core::api::StatementStats;

    use super::*;

    #[test]
    fn a_report_reads_as_one_row_per_statement() {
        let report = StatementsReport {
            slow_query_threshold_ms: Some(250),
            statements: vec![StatementStats {
                query: "SELECT balance\n    FROM wallets\n   WHERE id = $1".to_owned(),
                calls: 1200,
                total_time_ms: 84.5,
                mean_time_ms: 0.0704,
                rows: 1200,
                shared_blocks_hit: 999,
                shared_blocks_read: 1,
            }],
        };
        let table = table(&report);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        assert!(lines[0].contains("250 ms"), "{table}");
        assert!(
            lines[2].ends_with("99.9  SELECT balance FROM wallets WHERE id = $1"),
            "{table}"
        );
        assert!(
            lines[2].contains("84.50") && lines[2].contains("0.070"),
            "{table}"
        );
    }

    #[test]
    fn long_statements_are_cut_and_empty_reports_say_so() {
        assert_eq!(one_line("a  b\tc", 10), "a b c");
        assert_eq!(one_line("abcdef", 4), "abc…");
        let empty = StatementsReport {
            slow_query_threshold_ms: None,
            statements: Vec::new(),
        };
        let table = table(&empty);
        assert!(
            table.contains("none") && table.contains("no statements"),
            "{table}"
        );
    }
}
