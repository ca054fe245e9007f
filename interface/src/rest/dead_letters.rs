//! `/api/admin/dead-letters`: the saga's failed actions, and their redrive (operators).

use application::operations::{DeadLetter, Operations, Redrive};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::admin::AdminProblems;
use super::command::{CommandRequest, IdempotencyKeyHeader};
use super::orders::EmptyBody;
use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The dead-letter routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_dead_letters))
        .routes(routes!(retry_dead_letter))
}

/// One action the saga gave up on.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterBody {
    /// Its id.
    pub id: i64,
    /// The order whose fulfilment stopped.
    pub order_id: Uuid,
    /// The action that failed, e.g. `ChargePayment`.
    pub action: String,
    /// The event that caused it: `{eventId, position, stream, version, eventType}`; empty
    /// for a payment deadline.
    #[schema(value_type = Object)]
    pub cause: Value,
    /// The last error.
    pub error: String,
    /// Attempts so far.
    pub attempts: i32,
    /// When it first failed.
    pub first_failed_at: DateTime<Utc>,
    /// When it last failed.
    pub last_failed_at: DateTime<Utc>,
}

impl From<DeadLetter> for DeadLetterBody {
    fn from(letter: DeadLetter) -> Self {
        Self {
            id: letter.id,
            order_id: letter.order,
            action: letter.action,
            cause: letter.cause,
            error: letter.error,
            attempts: letter.attempts,
            first_failed_at: letter.first_failed_at,
            last_failed_at: letter.last_failed_at,
        }
    }
}

/// A page of dead letters.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterPage {
    /// Oldest first.
    pub items: Vec<DeadLetterBody>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Paging of the dead-letter list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DeadLetterQuery {
    /// The `next` of the previous page.
    #[param(pattern = "^[0-9]{1,18}$")]
    pub after: Option<String>,
    /// Most letters answered (1 to 100) [default: 50].
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// What a redrive came to.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedriveBody {
    /// The dead letter.
    pub id: i64,
    /// `COMPLETED` (the letter is gone) or `FAILED` (it stays, with the new error).
    pub status: String,
    /// The new error, when it failed again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Attempts so far, when it failed again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<i32>,
}

impl RedriveBody {
    /// The answer for the redrive of letter `id`.
    #[must_use]
    pub fn new(id: i64, outcome: Redrive) -> Self {
        match outcome {
            Redrive::Completed => Self {
                id,
                status: "COMPLETED".into(),
                error: None,
                attempts: None,
            },
            Redrive::Failed { error, attempts } => Self {
                id,
                status: "FAILED".into(),
                error: Some(error),
                attempts: Some(attempts),
            },
        }
    }
}

/// The saga's dead letters, oldest first (operators).
#[utoipa::path(
    get, path = "/api/admin/dead-letters", tag = "admin",
    params(DeadLetterQuery),
    responses(
        (status = 200, description = "A page of dead letters", body = DeadLetterPage),
        (status = 422, description = "VALIDATION: a malformed `after` or `limit`", body = crate::error::Problem, content_type = "application/problem+json"),
        AdminProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn list_dead_letters(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<DeadLetterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<DeadLetterPage>, ApiError> {
    Operations::may_operate(&caller.actor)?;
    let Query(query) = query.map_err(|e| ApiError::Validation(e.body_text()))?;
    let after = query
        .after
        .as_deref()
        .map(|raw| {
            raw.parse::<i64>()
                .map_err(|_| ApiError::Validation(format!("after {raw:?} is not a page token")))
        })
        .transpose()?;
    let limit = i64::from(query.limit.unwrap_or(50));
    if !(1..=100).contains(&limit) {
        return Err(ApiError::Validation(
            "limit must be between 1 and 100".into(),
        ));
    }
    let letters = state
        .operations
        .dead_letters(&caller.actor, after, limit + 1)
        .await?;
    let more = letters.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    let items: Vec<DeadLetterBody> = letters
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(DeadLetterBody::from)
        .collect();
    let next = more
        .then(|| items.last().map(|l| l.id.to_string()))
        .flatten();
    Ok(Json(DeadLetterPage { items, next }))
}

/// Carry out a dead letter's action again, and the rest of its step (operators). 202 with
/// `COMPLETED` when it went through (the letter is removed), or `FAILED` with the new error
/// (the letter stays).
#[utoipa::path(
    post, path = "/api/admin/dead-letters/{id}/retry", tag = "admin",
    params(
        ("id" = i64, Path, description = "The dead letter's id", minimum = 1),
        IdempotencyKeyHeader,
    ),
    request_body(content = Option<EmptyBody>),
    responses(
        (status = 202, description = "Redriven; see `status`", body = RedriveBody),
        (status = 404, description = "NOT_FOUND: no such dead letter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "CONFLICT: the same Idempotency-Key is still running", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "VALIDATION: a malformed id or body", body = crate::error::Problem, content_type = "application/problem+json"),
        AdminProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn retry_dead_letter(Path(id): Path<String>, request: CommandRequest) -> Response {
    let operations = request.operations();
    let actor = request.actor();
    request
        .run::<EmptyBody, _, _>(|_, _| async move {
            Operations::may_operate(&actor)?;
            let id: i64 = id
                .parse()
                .map_err(|_| ApiError::Validation(format!("{id:?} is not a dead letter id")))?;
            let outcome = operations.redrive(&actor, id).await?;
            let body = serde_json::to_value(RedriveBody::new(id, outcome))
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok((StatusCode::ACCEPTED, body))
        })
        .await
}
