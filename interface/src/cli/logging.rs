//! How the log looks: JSON lines for a collector, or lines for people on a terminal.
//! `--log-format` (`DOMAINFLOW_LOG_FORMAT`, `log_format` in the settings file) picks one;
//! `auto`, the default, writes text when standard error is a terminal and JSON otherwise.
//! `RUST_LOG` filters as usual (default `info,sqlx=warn`).

use std::io::IsTerminal;

use clap::ValueEnum;
use serde::Deserialize;
use tracing_subscriber::EnvFilter;

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

/// Installs the process's log subscriber, writing to standard error in `format`.
pub fn init(format: LogFormat) {
    let terminal = std::io::stderr().is_terminal();
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format.is_json(terminal) {
        builder.json().init();
    } else {
        builder.with_ansi(terminal).init();
    }
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
