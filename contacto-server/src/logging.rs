//! Structured logs on stdout: JSON lines for pipelines, or pretty lines for terminals.
//!
//! Lines are formatted on the thread that logs them and written by a thread of their own
//! (`contacto-log`, through `tracing-appender`), in as few writes as there are bursts: a request
//! never waits for stdout (a pipe to a log shipper that falls behind would otherwise stall the
//! runtime's workers one by one). While it runs nothing is dropped: once 128,000 lines wait
//! unwritten, loggers wait for room, as they would on stdout itself. The guard [`init`] returns
//! writes what is left when it is dropped, at the end of [`crate::cli::run`], waiting about a
//! second at most.

use std::io::Write;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, ServerConfig};

/// Installs the global subscriber, writing to stdout; call once, first thing, and keep the guard
/// until the end.
///
/// # Errors
///
/// When `CONTACTO_LOG` is not a valid filter, or a subscriber is already installed.
pub fn init(config: &ServerConfig) -> Result<WorkerGuard, String> {
    init_with_writer(&config.log, config.log_format(), std::io::stdout())
}

/// Installs the global subscriber as [`init`] does, writing to `writer` (the load harness's
/// in-process server writes its request log to a file, as the binary writes to stdout).
///
/// # Errors
///
/// When `filter` is not a valid filter, or a subscriber is already installed.
pub fn init_with_writer<W>(
    filter: &str,
    format: LogFormat,
    writer: W,
) -> Result<WorkerGuard, String>
where
    W: Write + Send + 'static,
{
    let filter = EnvFilter::try_new(effective_filter(filter))
        .map_err(|err| format!("CONTACTO_LOG={filter:?} is not a valid filter: {err}"))?;
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("contacto-log")
        .finish(std::io::BufWriter::new(writer));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let installed = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
    installed.map_err(|err| format!("installing the logger: {err}"))?;
    Ok(guard)
}

/// Libraries whose debug logs carry request data: tokio-postgres prints statement parameters
/// (emails, phone numbers, password hashes), hyper and h2 print raw headers (bearer tokens). They
/// stay at `info` unless the filter names them explicitly.
const CHATTY_LIBRARIES: &[&str] = &["tokio_postgres", "hyper", "h2"];

fn effective_filter(filter: &str) -> String {
    let mut effective = filter.to_owned();
    for library in CHATTY_LIBRARIES {
        if !filter.contains(library) {
            effective.push_str(&format!(",{library}=info"));
        }
    }
    effective
}

#[cfg(test)]
mod tests {
    use super::effective_filter;

    #[test]
    fn chatty_libraries_stay_at_info_unless_named() {
        assert_eq!(
            effective_filter("debug"),
            "debug,tokio_postgres=info,hyper=info,h2=info"
        );
        assert_eq!(
            effective_filter("trace,tokio_postgres=trace"),
            "trace,tokio_postgres=trace,hyper=info,h2=info"
        );
    }
}
