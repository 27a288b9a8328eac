//! Structured logs on stdout: JSON lines for pipelines, or pretty lines for terminals.

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, ServerConfig};

/// Installs the global subscriber; call once, first thing.
///
/// # Errors
///
/// When `CONTACTO_LOG` is not a valid filter.
pub fn init(config: &ServerConfig) -> Result<(), String> {
    let filter = EnvFilter::try_new(effective_filter(&config.log))
        .map_err(|err| format!("CONTACTO_LOG={:?} is not a valid filter: {err}", config.log))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
    let installed = match config.log_format() {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
    installed.map_err(|err| format!("installing the logger: {err}"))
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
