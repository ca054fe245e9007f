//! Liveness and readiness.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};

use crate::state::AppState;

/// `/health/live` and `/health/ready`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
}

/// The process is up.
async fn live() -> Json<Value> {
    Json(json!({ "status": "live" }))
}

/// How long readiness waits for the database before it says the database is unreachable.
const DATABASE_WAIT: Duration = Duration::from_secs(2);

/// Ready when the database answers (within [`DATABASE_WAIT`]), every migration this binary
/// knows is applied, and no projection nor the saga is parked; otherwise 503 with the reason.
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let checked = tokio::time::timeout(DATABASE_WAIT, state.operations.readiness()).await;
    let unavailable = |body: Value| (StatusCode::SERVICE_UNAVAILABLE, Json(body));
    match checked {
        Ok(Ok(ready)) if ready.migrations_applied < ready.migrations_known => unavailable(json!({
            "status": "migrations pending",
            "applied": ready.migrations_applied,
            "known": ready.migrations_known,
        })),
        Ok(Ok(ready)) if ready.parked.is_empty() => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "migrations": ready.migrations_applied })),
        ),
        Ok(Ok(ready)) => unavailable(json!({
            "status": "parked",
            "parked": ready
                .parked
                .into_iter()
                .map(|(name, error)| json!({ "name": name, "error": error }))
                .collect::<Vec<_>>(),
        })),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check failed");
            unavailable(json!({ "status": "database unreachable" }))
        }
        Err(_) => {
            tracing::warn!(wait = ?DATABASE_WAIT, "readiness check timed out");
            unavailable(json!({ "status": "database unreachable" }))
        }
    }
}
