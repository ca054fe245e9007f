//! Rebuilds asked for over the API (`POST /api/admin/projections/{name}/rebuild`, the
//! `rebuildProjection` mutation): started at once, run in the background inside the
//! server, and followed through the projections' status (`REBUILDING` with progress).

use std::sync::Arc;

use application::EventStore;
use infrastructure::PgEventStore;
use projections::{Projections, Rebuild, RebuildOptions};

use crate::error::ApiError;
use crate::state::AppState;

/// Starts rebuilding projection `name` in the background. Returns once the rebuild holds
/// its lock, so a second request for the same projection is refused.
///
/// # Errors
/// [`ApiError::NotFound`] for an unknown projection; [`ApiError::Conflict`] when a rebuild
/// of it is already running; [`ApiError::Internal`] when the database fails.
pub async fn start(state: &AppState, name: &str) -> Result<(), ApiError> {
    let projection = Projections::named(name)
        .ok_or_else(|| ApiError::NotFound(format!("no projection named {name:?}")))?;
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(state.pool.clone()));
    let rebuild = Rebuild::start(&state.pool, store, projection, RebuildOptions::default())
        .await
        .map_err(|error| match error {
            projections::Error::RebuildRunning(name) => {
                ApiError::Conflict(format!("a rebuild of {name} is already running"))
            }
            other => ApiError::Internal(other.to_string()),
        })?;
    let shutdown = state.shutdown.clone();
    let name = rebuild.name();
    tokio::spawn(async move {
        match rebuild.run(|_| {}, shutdown).await {
            Ok(rebuilt) => tracing::info!(
                projection = name,
                applied = rebuilt.applied,
                position = %rebuilt.position.token(),
                "projection rebuilt"
            ),
            Err(error) => tracing::error!(projection = name, %error, "projection rebuild failed"),
        }
    });
    Ok(())
}
