//! How the log looks: JSON lines for a collector, or lines for people on a terminal.
//! `--log-format` (`DOMAINFLOW_LOG_FORMAT`, `log_format` in the settings file) picks one;
//! `auto`, the default, writes text when standard error is a terminal and JSON otherwise.
//! `RUST_LOG` filters as usual (default `info,sqlx=warn`). Spans may also go to an
//! OpenTelemetry collector (see `telemetry`).

use std::io::IsTerminal;

use clap::ValueEnum;
use serde::Deserialize;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

/// The log's format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Text on a terminal, JSON otherwise.
    #[default]
    Auto,
    /// One JSON object per line, with the fields of the spans it happened in.
    Json,
    /// Lines for people, coloured on a terminal.
    Text,
}

impl LogFormat {
    /// Whether this format writes JSON when standard error is (`terminal`) or is not a
    /// terminal.
    #[must_use]
    pub const fn is_json(self, terminal: bool) -> bool {
        match self {
            Self::Auto => !terminal,
            Self::Json => true,
            Self::Text => false,
        }
    }
}

/// The spans exported to a collector: the server's at info and above, none of the HTTP
/// stack's (the exporter's own requests among them).
const EXPORTED: &str =
    "info,sqlx=warn,hyper=off,hyper_util=off,h2=off,reqwest=off,opentelemetry=off";

/// Installs the process's log subscriber, writing to standard error in `format`, and
/// exporting spans to the OpenTelemetry collector at `otlp_endpoint` when there is one.
///
/// # Errors
/// A message naming `--otlp-endpoint` when it is not a URL.
pub fn init(format: LogFormat, otlp_endpoint: Option<&str>) -> Result<(), String> {
    let terminal = std::io::stderr().is_terminal();
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let lines = if format.is_json(terminal) {
        fmt::layer().json().with_writer(std::io::stderr).boxed()
    } else {
        fmt::layer()
            .with_ansi(terminal)
            .with_writer(std::io::stderr)
            .boxed()
    };
    // Exported spans have a filter of their own: `RUST_LOG` quiets the log without
    // losing traces, and the exporter's own HTTP client is never traced.
    let export = otlp_endpoint
        .map(super::telemetry::tracer)
        .transpose()?
        .map(|tracer| {
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(EnvFilter::new(EXPORTED))
        });
    tracing_subscriber::registry()
        .with(lines.with_filter(filter))
        .with(export)
        .init();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::LogFormat;

    #[test]
    fn auto_writes_json_unless_on_a_terminal() {
        assert!(LogFormat::Auto.is_json(false));
        assert!(!LogFormat::Auto.is_json(true));
        assert!(LogFormat::Json.is_json(true));
        assert!(!LogFormat::Text.is_json(false));
    }
}
