//! The HTTP metrics: every answered request counted and timed by route, method and status
//! ([`application::instruments::HTTP_REQUESTS`], [`HTTP_REQUEST_SECONDS`]). The route is the
//! pattern that matched (`/api/orders/{id}`), `unmatched` for none, so that labels stay few
//! whatever paths clients send.

use std::time::Instant;

use application::instruments::{HTTP_REQUEST_SECONDS, HTTP_REQUESTS};
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

/// Counts and times the request (the layer goes outside every other, so that refusals by
/// the limits are counted too).
pub async fn record(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_str().to_owned();
    let labels = [
        ("route", route),
        ("method", method.to_owned()),
        ("status", status),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_REQUEST_SECONDS, &labels).record(started.elapsed());
    response
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
