//! The limits every request meets before its handler. The health probes pass untouched, so
//! an overloaded server still tells its orchestrator it is alive.
//!
//! - The client address's rate limit ([`crate::throttle`]): 429 `RATE_LIMITED`.
//! - At most `max_in_flight` requests at once: beyond that, 503 `UNAVAILABLE` with
//!   `Retry-After` at once, rather than a queue that grows while clients time out.
//! - `request_timeout` to produce the response head: else 503 `UNAVAILABLE`. A command cut
//!   off this way may still take effect, so a client retries it with the same
//!   `Idempotency-Key`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// The middleware.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/health/") {
        return next.run(request).await;
    }
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>()
        && let Err(refused) = state.throttle.address(peer.ip())
    {
        return refused.into_response();
    }
    let Ok(_permit) = state.in_flight.clone().try_acquire_owned() else {
        return ApiError::Overloaded(format!(
            "the server is serving its limit of {} requests at once; retry shortly",
            state.limits.max_in_flight
        ))
        .into_response();
    };
    let limit = state.limits.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::TimedOut { after: limit }.into_response(),
    }
}
