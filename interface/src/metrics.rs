//! `GET /metrics`: the Prometheus text exposition of what this process has recorded through
//! the `metrics` facade (the names are in [`application::instruments`]): HTTP requests,
//! commands, events appended, conflicts retried, every follower's lag, the sagas by phase,
//! dead letters and deadlines. The workers and the saga runner keep their gauges as they go,
//! so a scrape counts nothing in the database: it reads the recorder, and this process's
//! memory for the connection pool, the payment circuit and the saga's retries.
//!
//! Unauthenticated, like the health probes, unless a metrics token is set
//! (`--metrics-token`): then a scrape must send it as `Authorization: Bearer TOKEN`.

use std::sync::OnceLock;
use std::time::Duration;

use application::instruments::{
    self, DB_CONNECTIONS, DB_CONNECTIONS_MAX, PAYMENT_CIRCUIT, SAGA_RETRIES,
};
use application::saga::BreakerState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::sync::watch;

use crate::error::ApiError;
use crate::state::AppState;

/// The content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The bucket bounds, in seconds, of every duration histogram.
pub const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often the recorder folds the samples recorded since into its histograms.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process's recorder: installed as the global one on first use, with every metric
/// described and the duration histograms bucketed. Every server of the process shares it.
/// If another global recorder was installed first, this one records nothing and says so.
#[must_use]
pub fn recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = instruments::HISTOGRAMS.iter().try_fold(
                PrometheusBuilder::new(),
                |builder, name| {
                    builder.set_buckets_for_metric(Matcher::Full((*name).to_owned()), &BUCKETS)
                },
            );
            let builder = match builder {
                Ok(builder) => builder,
                Err(error) => {
                    tracing::warn!(%error, "histogram buckets refused; durations become summaries");
                    PrometheusBuilder::new()
                }
            };
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            match metrics::set_global_recorder(recorder) {
                Ok(()) => instruments::describe(),
                Err(error) => {
                    tracing::warn!(%error, "another metrics recorder is installed: /metrics stays empty");
                }
            }
            handle
        })
        .clone()
}

/// Folds the recorded samples into the histograms every few seconds until `stop` turns
/// true, so that memory stays bounded between scrapes.
pub async fn upkeep(handle: PrometheusHandle, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(UPKEEP_EVERY) => handle.run_upkeep(),
            _ = stop.changed() => return,
        }
    }
}

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
    record_memory(&state);
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}

/// Sets the gauges read from this process's memory: the pool, the circuit, the retries.
fn record_memory(state: &AppState) {
    let pool = &state.pool;
    let size = pool.size();
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
    metrics::gauge!(DB_CONNECTIONS, "state" => "in_use").set(f64::from(size.saturating_sub(idle)));
    metrics::gauge!(DB_CONNECTIONS, "state" => "idle").set(f64::from(idle));
    metrics::gauge!(DB_CONNECTIONS_MAX).set(f64::from(pool.options().get_max_connections()));
    metrics::counter!(SAGA_RETRIES).absolute(state.saga.fulfil.retries());
    let circuit = state.saga.breaker.state();
    for each in [
        BreakerState::Closed,
        BreakerState::Open,
        BreakerState::HalfOpen,
    ] {
        metrics::gauge!(PAYMENT_CIRCUIT, "state" => each.as_str())
            .set(f64::from(u8::from(each == circuit)));
    }
}
