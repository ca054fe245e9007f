//! `/api/tickets`: support tickets.

use application::commands::{OpenTicket, limits};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::command::{CommandRequest, IdempotencyKeyHeader, Validate};
use super::orders::{EmptyBody, parse_id};
use super::problems::CommandProblems;
use super::result::CommandResultBody;
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
pub async fn open_ticket(request: CommandRequest) -> Response {
    request
        .command::<OpenTicketBody, _, _>(
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
pub async fn post_message(Path(id): Path<String>, request: CommandRequest) -> Response {
    request
        .command::<PostMessageBody, _, _>(
            StatusCode::OK,
            |commands, actor, input, meta| async move {
                let ticket = parse_id(&id, "ticket")?;
                commands
                    .post_ticket_message(&actor, ticket, input, &meta)
                    .await
            },
        )
        .await
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
pub async fn assign_ticket(Path(id): Path<String>, request: CommandRequest) -> Response {
    request
        .command::<AssignTicketBody, _, _>(
            StatusCode::OK,
            |commands, actor, input, meta| async move {
                let ticket = parse_id(&id, "ticket")?;
                commands.assign_ticket(&actor, ticket, &input, &meta).await
            },
        )
        .await
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
pub async fn close_ticket(Path(id): Path<String>, request: CommandRequest) -> Response {
    request
        .command::<CloseTicketBody, _, _>(
            StatusCode::OK,
            |commands, actor, input, meta| async move {
                let ticket = parse_id(&id, "ticket")?;
                commands.close_ticket(&actor, ticket, input, &meta).await
            },
        )
        .await
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
pub async fn reopen_ticket(Path(id): Path<String>, request: CommandRequest) -> Response {
    request
        .command::<EmptyBody, _, _>(StatusCode::OK, |commands, actor, _, meta| async move {
            let ticket = parse_id(&id, "ticket")?;
            commands.reopen_ticket(&actor, ticket, &meta).await
        })
        .await
}
