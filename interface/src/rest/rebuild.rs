//! `POST /api/admin/projections/{name}/rebuild`: rebuilds a read model without downtime.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa::IntoResponses;
use utoipa::openapi::RefOr;
use utoipa::openapi::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::admin::AdminProblems;
use super::problems::problem_responses;
use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The rebuild route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(rebuild_projection))
}

/// The problem+json answers particular to starting a rebuild.
#[derive(Debug)]
pub struct RebuildProblems;

impl IntoResponses for RebuildProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problem_responses(&[
            (404, "NOT_FOUND: no projection has this name"),
            (
                409,
                "CONFLICT: a rebuild of this projection is already running",
            ),
        ])
    }
}

/// Rebuilds projection `name` from the start of the log into shadow tables while the live
/// tables keep serving, then swaps them in. Answers at once; `GET /api/admin/projections`
/// shows it `REBUILDING` with its progress until it is done. Operators only.
#[utoipa::path(
    post, path = "/api/admin/projections/{name}/rebuild", tag = "admin",
    params(("name" = String, Path, description = "The projection: orders, products, tickets or payments")),
    responses(
        (status = 202, description = "The rebuild started"),
        RebuildProblems,
        AdminProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn rebuild_projection(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .operations
        .rebuild(&caller.actor, &name, state.shutdown.clone())
        .await?;
    Ok(StatusCode::ACCEPTED)
}
