//! `GET /metrics`: Prometheus text exposition of every projection's lag, computed on each
//! scrape from [`projections::status`]. Unauthenticated, like the health probes.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use projections::{ProjectionState, ProjectionStatus};

use crate::error::ApiError;
use crate::state::AppState;

/// The content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(state): State<AppState>) -> Response {
    match projections::status(&state.pool).await {
        Ok(statuses) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], render(&statuses)).into_response(),
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}

/// The three projection series in the Prometheus text format.
#[must_use]
pub fn render(statuses: &[ProjectionStatus]) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "domainflow_projection_lag_events",
        "Events in the log after the projection's checkpoint.",
        statuses,
        |s| s.lag_events.to_string(),
    );
    family(
        &mut out,
        "domainflow_projection_lag_seconds",
        "Age in seconds of the oldest event the projection has not applied (0 when caught up).",
        statuses,
        |s| s.lag_seconds.to_string(),
    );
    family(
        &mut out,
        "domainflow_projection_parked",
        "1 when the projection is parked after a failing event, 0 while it runs.",
        statuses,
        |s| u8::from(s.state == ProjectionState::Parked).to_string(),
    );
    out
}

fn family(
    out: &mut String,
    name: &str,
    help: &str,
    statuses: &[ProjectionStatus],
    value: impl Fn(&ProjectionStatus) -> String,
) {
    use std::fmt::Write as _;
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    for status in statuses {
        let _ = writeln!(
            out,
            "{name}{{projection=\"{}\"}} {}",
            escape(&status.name),
            value(status)
        );
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_each_series_per_projection() {
        let statuses = [ProjectionStatus {
            name: "or\"ders".into(),
            position: "0".repeat(32),
            state: ProjectionState::Parked,
            error: Some("boom".into()),
            lag_events: 3,
            lag_seconds: 1.5,
            rebuild: None,
        }];
        let text = render(&statuses);
        assert!(text.contains("# TYPE domainflow_projection_lag_events gauge\n"));
        assert!(text.contains("domainflow_projection_lag_events{projection=\"or\\\"ders\"} 3\n"));
        assert!(
            text.contains("domainflow_projection_lag_seconds{projection=\"or\\\"ders\"} 1.5\n")
        );
        assert!(text.contains("domainflow_projection_parked{projection=\"or\\\"ders\"} 1\n"));
    }
}
