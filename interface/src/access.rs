//! Every request, counted, timed and logged: the metrics
//! [`application::instruments::HTTP_REQUESTS`] and [`HTTP_REQUEST_SECONDS`] by route,
//! method and status, and one access log line (`request answered`, at info) inside the
//! request's span, so it carries the request id and the correlation id. The route is the
//! pattern that matched (`/api/orders/{id}`), `unmatched` for none, so that labels stay few
//! whatever paths clients send. A request whose client goes away before the answer is
//! counted with status `499` and logged as `request abandoned`.

use std::time::Instant;

use application::instruments::{HTTP_REQUEST_SECONDS, HTTP_REQUESTS};
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

/// The status recorded for a request abandoned by its client (nginx's convention).
pub const ABANDONED: &str = "499";

/// Counts, times and logs the request (the layer goes outside every other but the request
/// id's, so that refusals by the limits are counted too).
pub async fn record(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let mut pending = Pending {
        route: Some(route),
        method: method_label(request.method()),
        started: Instant::now(),
    };
    let response = next.run(request).await;
    pending.answered(response.status().as_str());
    response
}

/// A request not answered yet.
struct Pending {
    /// Taken once the request is recorded.
    route: Option<String>,
    method: &'static str,
    started: Instant,
}

impl Pending {
    fn answered(&mut self, status: &str) {
        if let Some(route) = self.route.take() {
            let elapsed = self.started.elapsed();
            let message = if status == ABANDONED {
                "request abandoned"
            } else {
                "request answered"
            };
            tracing::info!(
                route = %route,
                status = %status,
                latency_ms = elapsed.as_secs_f64() * 1000.0,
                "{message}"
            );
            let labels = [
                ("route", route),
                ("method", self.method.to_owned()),
                ("status", status.to_owned()),
            ];
            metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
            metrics::histogram!(HTTP_REQUEST_SECONDS, &labels).record(elapsed);
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.answered(ABANDONED);
    }
}

/// The method's name, or `other` for one outside the standard set.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_exporter_prometheus::PrometheusBuilder;

    #[test]
    fn a_request_or_a_command_dropped_before_its_answer_is_still_counted() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            drop(Pending {
                route: Some("/api/orders".into()),
                method: "POST",
                started: Instant::now(),
            });
            drop(application::instruments::CommandTimer::start(
                "order", "Place",
            ));
        });
        let text = handle.render();
        assert!(
            text.contains(
                "domainflow_http_requests_total{route=\"/api/orders\",method=\"POST\",status=\"499\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "domainflow_commands_total{aggregate=\"order\",command=\"Place\",outcome=\"cancelled\"} 1"
            ),
            "{text}"
        );
    }
}
