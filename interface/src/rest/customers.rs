//! `/api/customers`: erasing a customer's personal data.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::command::{CommandRequest, IdempotencyKeyHeader};
use super::orders::EmptyBody;
use super::problems::EraseCustomerProblems;
use super::result::CommandResultBody;
use crate::state::AppState;

/// The customer routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(erase_customer))
}

/// Erase a customer (operator): their data keys are destroyed, so the personal fields of
/// their events (ticket subjects, messages, resolutions) read as `[erased]` everywhere from
/// now on, and the erasure is recorded in the log as `CustomerErased` on the stream
/// `customer/{id}`. Needs the server's `--data-key` (409 `NOT_CONFIGURED` without one).
#[utoipa::path(
    post, path = "/api/customers/{id}/erasure", tag = "customers",
    params(("id" = String, Path, description = "The customer's id"), IdempotencyKeyHeader),
    request_body(content = Option<EmptyBody>),
    responses(
        (status = 200, description = "Erased", body = CommandResultBody),
        EraseCustomerProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn erase_customer(Path(id): Path<String>, request: CommandRequest) -> Response {
    request
        .command::<EmptyBody, _, _>(StatusCode::OK, |commands, actor, _, meta| async move {
            commands.erase_customer(&actor, &id, &meta).await
        })
        .await
}
