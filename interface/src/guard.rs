//! The limits every request meets before its handler. The liveness probe passes untouched,
//! so an overloaded server still tells its orchestrator it is alive; the readiness probe
//! queries the database, so it is limited like everything else.
//!
//! - The client address's rate limit ([`crate::throttle`]): 429 `RATE_LIMITED`.
//! - At most `max_in_flight` requests at once, `max_in_flight_per_address` of them from one
//!   address ([`crate::in_flight`]): beyond that, 503 `UNAVAILABLE` with `Retry-After` at
//!   once, rather than a queue that grows while clients time out.
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
    if request.uri().path() == "/health/live" {
        return next.run(request).await;
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    if let Some(peer) = peer
        && let Err(refused) = state.throttle.address(peer)
    {
        return refused.into_response();
    }
    let _place = match state.in_flight.enter(peer) {
        Ok(place) => place,
        Err(refused) => return refused.into_response(),
    };
    let limit = state.limits.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::TimedOut { after: limit }.into_response(),
    }
}
