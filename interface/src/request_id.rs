//! A request id for every request: taken from `x-request-id` when the client sends a sane
//! one, made otherwise; echoed in the response, the logs and every error body. And the
//! correlation id of the causal chain the request starts, always the server's own: the
//! commands it sends carry it in their metadata, the saga steps they cause log it, and so
//! does the request's access log line. A W3C `traceparent` makes the request's span a child
//! of the caller's, for trace export (`--otlp-endpoint`).

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

tokio::task_local! {
    static IDS: Ids;
}

/// The ids of the request being served.
#[derive(Debug, Clone)]
struct Ids {
    request: String,
    correlation: uuid::Uuid,
}

/// The header carrying the id.
pub const HEADER: &str = "x-request-id";

/// The id of the request being served, or `-` outside one.
#[must_use]
pub fn current() -> String {
    IDS.try_with(|ids| ids.request.clone())
        .unwrap_or_else(|_| "-".to_owned())
}

/// The correlation id of the request being served; a new one outside a request (a
/// subscription's own work, say).
#[must_use]
pub fn correlation() -> uuid::Uuid {
    IDS.try_with(|ids| ids.correlation)
        .unwrap_or_else(|_| uuid::Uuid::now_v7())
}

/// Middleware: assigns the ids, runs the rest of the stack inside a span carrying them, and
/// returns the request id in the response.
pub async fn assign(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    let correlation = uuid::Uuid::now_v7();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        correlation_id = %correlation,
        method = %request.method(),
        path = %request.uri().path(),
    );
    if request.headers().contains_key("traceparent") {
        // With trace export on, the request's span joins the caller's trace.
        let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&Headers(request.headers()))
        });
        let _ = span.set_parent(parent);
    }
    let ids = Ids {
        request: id.clone(),
        correlation,
    };
    let mut response = IDS.scope(ids, next.run(request).instrument(span)).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

/// A request's headers as OpenTelemetry reads a propagated context from them.
struct Headers<'a>(&'a axum::http::HeaderMap);

impl opentelemetry::propagation::Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(axum::http::HeaderName::as_str).collect()
    }
}
