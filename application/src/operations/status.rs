//! Where the followers of the log stand: each projection's checkpoint, state and lag, and a
//! running rebuild's progress. The OpenAPI schemas are derived with the `openapi` feature.

use serde::Serialize;

/// Whether a projection's worker applies events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProjectionState {
    /// Applying events (or waiting for new ones).
    Running,
    /// Stopped at a failing event until an operator resumes it.
    Parked,
    /// Serving while a rebuild fills its shadow tables (see [`RebuildProgress`]).
    Rebuilding,
}

impl ProjectionState {
    /// `RUNNING`, `PARKED` or `REBUILDING`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Parked => "PARKED",
            Self::Rebuilding => "REBUILDING",
        }
    }
}

/// One projection's checkpoint and lag.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProjectionStatus {
    /// The projection's name (`orders`, `products`, `tickets`, `payments`), or `fulfilment`
    /// for the saga, which follows the log the same way.
    pub name: String,
    /// The position token of the last event applied (all zeros before the first).
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{32}$"))]
    pub position: String,
    /// `RUNNING`, `PARKED` or `REBUILDING`.
    pub state: ProjectionState,
    /// Why it is parked, when it is.
    pub error: Option<String>,
    /// Events in the log after the checkpoint.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub lag_events: i64,
    /// Age in seconds of the oldest event not applied yet; 0 when caught up.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub lag_seconds: f64,
    /// How far the running rebuild has come, while one runs.
    pub rebuild: Option<RebuildProgress>,
}

/// A running rebuild's progress.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RebuildProgress {
    /// Events of the log applied to the shadow tables so far.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub applied: i64,
    /// Events in the log when it started (raised when the log grew past it).
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub total: i64,
    /// When it started.
    pub started_at: chrono::DateTime<chrono::Utc>,
}
