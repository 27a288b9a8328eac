//! Structured logs on stdout: JSON lines for pipelines, or pretty lines for terminals.

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, ServerConfig};

/// Installs the global subscriber; call once, first thing.
///
/// # Errors
///
/// When `CONTACTO_LOG` is not a valid filter.
pub fn init(config: &ServerConfig) -> Result<(), String> {
    let filter = EnvFilter::try_new(&config.log)
        .map_err(|err| format!("CONTACTO_LOG={:?} is not a valid filter: {err}", config.log))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
    let installed = match config.log_format() {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
    installed.map_err(|err| format!("installing the logger: {err}"))
}
