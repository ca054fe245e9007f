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
    let checked = tokio::time::timeout(DATABASE_WAIT, async {
        let applied: i64 =
            sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&state.pool)
                .await?;
        let parked: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT name, error FROM projection_checkpoints WHERE state = 'parked' ORDER BY name",
        )
        .fetch_all(&state.pool)
        .await?;
        Ok::<_, sqlx::Error>((applied, parked))
    })
    .await;
    let known = i64::try_from(infrastructure::MIGRATOR.iter().count()).unwrap_or(i64::MAX);
    let unavailable = |body: Value| (StatusCode::SERVICE_UNAVAILABLE, Json(body));
    match checked {
        Ok(Ok((applied, _))) if applied < known => unavailable(
            json!({ "status": "migrations pending", "applied": applied, "known": known }),
        ),
        Ok(Ok((applied, parked))) if parked.is_empty() => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "migrations": applied })),
        ),
        Ok(Ok((_, parked))) => unavailable(json!({
            "status": "parked",
            "parked": parked
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
