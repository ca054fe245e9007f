//! `/api/tickets`: support tickets.

use std::future::Future;
use std::sync::Arc;

use application::commands::{OpenTicket, limits};
use application::event_log::CommandMetadata;
use application::{Actor, CommandResult, Commands};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::command::{IdempotencyKeyHeader, Validate, command};
use super::orders::{EmptyBody, parse_id};
use super::problems::CommandProblems;
use super::result::CommandResultBody;
use crate::caller::Caller;
use crate::state::AppState;

/// The ticket routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_ticket))
        .routes(routes!(post_message))
        .routes(routes!(assign_ticket))
        .routes(routes!(close_ticket))
        .routes(routes!(reopen_ticket))
}

/// A new ticket.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenTicketBody {
    /// Whose ticket. Customers may omit it; agents must give it.
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = "^[^\\s\\x00-\\x1F\\x7F-\\x9F]{1,128}$"
    )]
    pub customer_id: Option<String>,
    /// What it is about.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$"
    )]
    pub subject: String,
    /// The first message.
    #[schema(
        min_length = 1,
        max_length = 4000,
        pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$"
    )]
    pub message: String,
    /// The order it concerns.
    pub order_id: Option<Uuid>,
}

impl Validate for OpenTicketBody {
    type Valid = OpenTicket;

    fn validate(self) -> Result<OpenTicket, application::Error> {
        OpenTicket {
            customer_id: self.customer_id,
            subject: self.subject,
            message: self.message,
            order_id: self.order_id,
        }
        .check()
    }
}

/// A message for the thread.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostMessageBody {
    /// The text.
    #[schema(
        min_length = 1,
        max_length = 4000,
        pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$"
    )]
    pub body: String,
}

impl Validate for PostMessageBody {
    type Valid = String;

    fn validate(self) -> Result<String, application::Error> {
        limits::ticket_message(self.body)
    }
}

/// Who takes the ticket.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssignTicketBody {
    /// The agent's id.
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = "^[^\\s\\x00-\\x1F\\x7F-\\x9F]{1,128}$"
    )]
    pub agent_id: String,
}

impl Validate for AssignTicketBody {
    type Valid = String;

    fn validate(self) -> Result<String, application::Error> {
        limits::agent(self.agent_id)
    }
}

/// How the ticket was resolved.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseTicketBody {
    /// The resolution.
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$"
    )]
    pub resolution: String,
}

impl Validate for CloseTicketBody {
    type Valid = String;

    fn validate(self) -> Result<String, application::Error> {
        limits::resolution(self.resolution)
    }
}

/// A command on the ticket the path names, answering 200.
async fn on_ticket<T, F, Fut>(
    state: AppState,
    caller: Caller,
    id: String,
    action: &str,
    headers: HeaderMap,
    body: Bytes,
    call: F,
) -> Response
where
    T: DeserializeOwned + Validate,
    F: FnOnce(Arc<Commands>, Actor, Uuid, T::Valid, CommandMetadata) -> Fut,
    Fut: Future<Output = Result<CommandResult, application::Error>>,
{
    let path = format!("POST /api/tickets/{id}/{action}");
    command::<T, _, _>(
        state,
        caller,
        headers,
        path,
        body,
        StatusCode::OK,
        |commands, actor, input, meta| async move {
            let ticket = parse_id(&id, "ticket")?;
            call(commands, actor, ticket, input, meta).await
        },
    )
    .await
}

/// Open a ticket (customer, agent).
#[utoipa::path(
    post, path = "/api/tickets", tag = "tickets",
    request_body = OpenTicketBody,
    params(IdempotencyKeyHeader),
    responses(
        (status = 201, description = "Opened", body = CommandResultBody),
        CommandProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn open_ticket(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = "POST /api/tickets".to_owned();
    command::<OpenTicketBody, _, _>(
        state,
        caller,
        headers,
        path,
        body,
        StatusCode::CREATED,
        |commands, actor, ticket, meta| async move {
            commands.open_ticket(&actor, ticket, &meta).await
        },
    )
    .await
}

/// Post a message on a ticket (its customer, agent).
#[utoipa::path(
    post, path = "/api/tickets/{id}/messages", tag = "tickets",
    params(("id" = Uuid, Path, description = "The ticket's id"), IdempotencyKeyHeader),
    request_body = PostMessageBody,
    responses(
        (status = 200, description = "Posted", body = CommandResultBody),
        CommandProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn post_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = |commands: Arc<Commands>, actor: Actor, ticket, input: String, meta| async move {
        commands
            .post_ticket_message(&actor, ticket, input, &meta)
            .await
    };
    on_ticket::<PostMessageBody, _, _>(state, caller, id, "messages", headers, body, call).await
}

/// Assign a ticket to an agent (agent).
#[utoipa::path(
    post, path = "/api/tickets/{id}/assign", tag = "tickets",
    params(("id" = Uuid, Path, description = "The ticket's id"), IdempotencyKeyHeader),
    request_body = AssignTicketBody,
    responses(
        (status = 200, description = "Assigned", body = CommandResultBody),
        CommandProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn assign_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = |commands: Arc<Commands>, actor: Actor, ticket, input: String, meta| async move {
        commands.assign_ticket(&actor, ticket, &input, &meta).await
    };
    on_ticket::<AssignTicketBody, _, _>(state, caller, id, "assign", headers, body, call).await
}

/// Close a ticket (its customer, agent).
#[utoipa::path(
    post, path = "/api/tickets/{id}/close", tag = "tickets",
    params(("id" = Uuid, Path, description = "The ticket's id"), IdempotencyKeyHeader),
    request_body = CloseTicketBody,
    responses(
        (status = 200, description = "Closed", body = CommandResultBody),
        CommandProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn close_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = |commands: Arc<Commands>, actor: Actor, ticket, input: String, meta| async move {
        commands.close_ticket(&actor, ticket, input, &meta).await
    };
    on_ticket::<CloseTicketBody, _, _>(state, caller, id, "close", headers, body, call).await
}

/// Reopen a closed ticket (its customer, agent).
#[utoipa::path(
    post, path = "/api/tickets/{id}/reopen", tag = "tickets",
    params(("id" = Uuid, Path, description = "The ticket's id"), IdempotencyKeyHeader),
    request_body(content = Option<EmptyBody>),
    responses(
        (status = 200, description = "Reopened", body = CommandResultBody),
        CommandProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn reopen_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = |commands: Arc<Commands>, actor: Actor, ticket, _, meta| async move {
        commands.reopen_ticket(&actor, ticket, &meta).await
    };
    on_ticket::<EmptyBody, _, _>(state, caller, id, "reopen", headers, body, call).await
}
