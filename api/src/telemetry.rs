use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

/// Logs to stderr, filtered by `RUST_LOG` (default `info`), as JSON when asked.
pub fn init(format: &LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
    // A second initialisation (tests start many servers in one process) is harmless.
    drop(result);
}
