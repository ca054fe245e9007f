//! The `rebuildProjection` mutation and the rebuild progress shown by `projections`.

use application::operations::RebuildProgress;
use async_graphql::{Context, InputObject, Object};

use super::context::state;
use super::query::Projection;
use super::reads::graphql_error;
use super::reads::time;

/// Which projection to rebuild.
#[derive(Debug, Clone, InputObject)]
pub struct RebuildProjectionInput {
    /// The projection: `orders`, `products`, `tickets` or `payments`.
    pub name: String,
}

/// Starts rebuilding a projection in the background (operators); its status, `REBUILDING`
/// from now until the rebuilt tables are swapped in.
///
/// # Errors
/// `FORBIDDEN` for other roles; `NOT_FOUND` for an unknown projection; `CONFLICT` when a
/// rebuild of it is already running.
pub async fn rebuild_projection(
    ctx: &Context<'_>,
    input: RebuildProjectionInput,
) -> async_graphql::Result<Projection> {
    let caller = super::context::caller(ctx).await?;
    let state = state(ctx)?;
    state
        .operations
        .rebuild(&caller.actor, &input.name, state.shutdown.clone())
        .await
        .map(Projection)
        .map_err(graphql_error)
}

/// How far a running rebuild has come.
#[derive(Debug, Clone)]
pub struct Rebuild(pub RebuildProgress);

/// A running rebuild's progress.
#[Object(name = "RebuildProgress")]
impl Rebuild {
    /// Events of the log applied to the shadow tables so far.
    async fn applied(&self) -> i64 {
        self.0.applied
    }

    /// Events in the log when it started (raised when the log grew past it).
    async fn total(&self) -> i64 {
        self.0.total
    }

    /// When it started (RFC 3339).
    async fn started_at(&self) -> String {
        time(self.0.started_at)
    }
}
