//! Operator endpoints under `/api/admin`: `GET /api/admin/projections`, every projection's
//! checkpoint, state and lag.

use std::collections::BTreeMap;

use application::operations::ProjectionStatus;
use axum::Json;
use axum::extract::State;
use utoipa::IntoResponses;
use utoipa::openapi::RefOr;
use utoipa::openapi::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The admin routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_projections))
}

/// The problem+json answers of an admin endpoint.
#[derive(Debug)]
pub struct AdminProblems;

const ANSWERS: [(u16, &str); 2] = [
    (401, "UNAUTHENTICATED: no valid token or API key"),
    (403, "FORBIDDEN: only operators may call it"),
];

impl IntoResponses for AdminProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        super::problems::problem_responses(&ANSWERS)
    }
}

/// Every projection: its position in the global order, its lag in events and seconds, and
/// whether it runs or is parked (with the error). Operators only.
#[utoipa::path(
    get, path = "/api/admin/projections", tag = "admin",
    responses(
        (status = 200, description = "Every projection, in a fixed order", body = Vec<ProjectionStatus>),
        AdminProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn list_projections(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ProjectionStatus>>, ApiError> {
    Ok(Json(state.operations.projections(&caller.actor).await?))
}
