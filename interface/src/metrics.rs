//! `GET /metrics`: Prometheus text exposition of every projection's lag (from
//! [`projections::status`]) and of the order-fulfilment saga (sagas by phase, dead letters,
//! running deadlines, retries, the payment circuit), computed on each scrape.
//! Unauthenticated, like the health probes, unless a metrics token is set
//! (`--metrics-token`): then a scrape must send it as `Authorization: Bearer TOKEN`.

use application::saga::BreakerState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use projections::saga::SagaSummary;
use projections::{ProjectionState, ProjectionStatus};

use crate::error::ApiError;
use crate::state::AppState;

/// The content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.limits.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        // Digests are compared, so the time taken says nothing of the token.
        if given.map(application::api_keys::hash).as_ref() != Some(expected) {
            return ApiError::Unauthenticated("/metrics needs the metrics token".into())
                .into_response();
        }
    }
    let scraped = async {
        let statuses = projections::status(&state.pool).await?;
        let summary = projections::saga::summary(&state.pool).await?;
        let mut text = render(&statuses);
        text.push_str(&render_saga(
            &summary,
            state.saga.fulfil.retries(),
            state.saga.breaker.state(),
        ));
        Ok::<_, projections::Error>(text)
    };
    match scraped.await {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(e) => ApiError::Internal(e.to_string()).into_response(),
    }
}

/// The saga series in the Prometheus text format.
#[must_use]
pub fn render_saga(summary: &SagaSummary, retries: u64, circuit: BreakerState) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP domainflow_sagas Order-fulfilment sagas by phase.\n# TYPE domainflow_sagas gauge"
    );
    for (phase, count) in &summary.by_phase {
        let _ = writeln!(
            out,
            "domainflow_sagas{{phase=\"{}\"}} {count}",
            escape(phase)
        );
    }
    let gauges = [
        (
            "domainflow_saga_dead_letters",
            "Saga actions given up on, waiting for an operator.",
            "gauge",
            summary.dead_letters.to_string(),
        ),
        (
            "domainflow_saga_deadlines",
            "Payment deadlines running.",
            "gauge",
            summary.deadlines.to_string(),
        ),
        (
            "domainflow_saga_retries_total",
            "Saga retries by this process: failed charges and commands tried again.",
            "counter",
            retries.to_string(),
        ),
    ];
    for (name, help, kind, value) in gauges {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP domainflow_payment_circuit_state 1 for the payment provider circuit's current \
         state (closed, open, half_open), 0 for the others.\n\
         # TYPE domainflow_payment_circuit_state gauge"
    );
    for state in [
        BreakerState::Closed,
        BreakerState::Open,
        BreakerState::HalfOpen,
    ] {
        let _ = writeln!(
            out,
            "domainflow_payment_circuit_state{{state=\"{}\"}} {}",
            state.as_str(),
            u8::from(state == circuit)
        );
    }
    out
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
    fn renders_the_saga_series() {
        let summary = SagaSummary {
            by_phase: vec![("CONFIRMED".into(), 3), ("PAYING".into(), 1)],
            dead_letters: 2,
            deadlines: 1,
        };
        let text = render_saga(&summary, 7, BreakerState::Open);
        assert!(text.contains("domainflow_sagas{phase=\"CONFIRMED\"} 3\n"));
        assert!(text.contains("domainflow_saga_dead_letters 2\n"));
        assert!(text.contains(
            "# TYPE domainflow_saga_retries_total counter\ndomainflow_saga_retries_total 7\n"
        ));
        assert!(text.contains("domainflow_payment_circuit_state{state=\"open\"} 1\n"));
        assert!(text.contains("domainflow_payment_circuit_state{state=\"closed\"} 0\n"));
    }

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
