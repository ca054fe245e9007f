//! `/api/tickets`: support tickets.

use application::commands::OpenTicket;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::command::{IdempotencyKeyHeader, Validate, run};
use super::orders::{EmptyBody, parse_id};
use super::problems::CommandProblems;
use super::result::CommandResultBody;
use crate::caller::Caller;
use crate::state::AppState;
use application::input::{check_id, check_text};

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
    fn validate(&self) -> Result<(), application::Error> {
        if let Some(customer) = &self.customer_id {
            check_id("customerId", customer)?;
        }
        check_text("subject", &self.subject, 200)?;
        check_text("message", &self.message, 4000)
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
    fn validate(&self) -> Result<(), application::Error> {
        check_text("body", &self.body, 4000)
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
    fn validate(&self) -> Result<(), application::Error> {
        check_id("agentId", &self.agent_id)
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
    fn validate(&self) -> Result<(), application::Error> {
        check_text("resolution", &self.resolution, 1000)
    }
}

macro_rules! ticket_responses {
    ($(#[$meta:meta])* $name:ident, $path:literal, $ok:literal, $body:ty, |$input:ident, $actor:ident, $commands:ident, $id:ident, $meta_:ident| $call:expr) => {
        $(#[$meta])*
        pub async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            Path(id): Path<String>,
            headers: HeaderMap,
            body: Bytes,
        ) -> Response {
            let $commands = state.commands.clone();
            let $actor = caller.actor.clone();
            let path = format!($path, id);
            run(&state, &caller, &headers, &path, body, |$input: $body, $meta_| async move {
                let $id = parse_id(&id, "ticket")?;
                let result = $call.await?;
                Ok((StatusCode::from_u16($ok).unwrap_or(StatusCode::OK), CommandResultBody::json(&result)))
            })
            .await
        }
    };
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
    let commands = state.commands.clone();
    let actor = caller.actor.clone();
    run(
        &state,
        &caller,
        &headers,
        "POST /api/tickets",
        body,
        |input: OpenTicketBody, meta| async move {
            let ticket = OpenTicket {
                customer_id: input.customer_id,
                subject: input.subject,
                message: input.message,
                order_id: input.order_id,
            };
            let result = commands.open_ticket(&actor, ticket, &meta).await?;
            Ok((StatusCode::CREATED, CommandResultBody::json(&result)))
        },
    )
    .await
}

ticket_responses!(
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
    post_message, "POST /api/tickets/{}/messages", 200, PostMessageBody,
    |input, actor, commands, ticket, meta| commands.post_ticket_message(&actor, ticket, input.body, &meta)
);

ticket_responses!(
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
    assign_ticket, "POST /api/tickets/{}/assign", 200, AssignTicketBody,
    |input, actor, commands, ticket, meta| commands.assign_ticket(&actor, ticket, &input.agent_id, &meta)
);

ticket_responses!(
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
    close_ticket, "POST /api/tickets/{}/close", 200, CloseTicketBody,
    |input, actor, commands, ticket, meta| commands.close_ticket(&actor, ticket, input.resolution, &meta)
);

ticket_responses!(
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
    reopen_ticket, "POST /api/tickets/{}/reopen", 200, EmptyBody,
    |_input, actor, commands, ticket, meta| commands.reopen_ticket(&actor, ticket, &meta)
);
