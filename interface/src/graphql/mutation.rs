//! The mutations: one per command use case, each taking an `input` object and answering
//! a [`CommandResultObject`]. Roles and ownership are checked by the use cases.

use application::{CommandResult, Commands};
use async_graphql::{Context, Object};
use std::sync::Arc;

use super::command_result::CommandResultObject;
use super::context::{caller, metadata, state};
use super::inputs::{
    AssignTicketInput, CancelOrderInput, CloseTicketInput, EraseCustomerInput, OpenTicketInput,
    PlaceOrderInput, PostTicketMessageInput, RegisterProductInput, ReopenTicketInput,
    RepriceProductInput, RestockInput, ShipOrderInput,
};
use super::reads::graphql_error;
use crate::caller::Caller;

type Answer = async_graphql::Result<CommandResultObject>;

/// The root of the mutations.
#[derive(Debug, Default, Clone, Copy)]
pub struct Mutation;

/// What a mutation needs to run its command: who asks, the use cases, the metadata.
struct Command {
    caller: Caller,
    commands: Arc<Commands>,
    metadata: application::event_log::CommandMetadata,
}

impl Command {
    /// Authenticates the caller (before the input is looked at, as REST does).
    async fn of(ctx: &Context<'_>) -> async_graphql::Result<Self> {
        let caller = caller(ctx).await?;
        caller.actor.may_command().map_err(graphql_error)?;
        let commands = Arc::clone(&state(ctx)?.commands);
        let metadata = metadata(ctx, &caller);
        Ok(Self {
            caller,
            commands,
            metadata,
        })
    }
}

/// Turns an input check's failure into a GraphQL error.
fn checked<T>(input: Result<T, application::Error>) -> async_graphql::Result<T> {
    input.map_err(graphql_error)
}

/// Turns a use case's answer into the mutation's.
fn answer(result: Result<CommandResult, application::Error>) -> Answer {
    result
        .map(|result| CommandResultObject::from(&result))
        .map_err(graphql_error)
}

// Merged into the schema's `Mutation` root (see `MutationRoot`), under a name of its own.
#[Object(name = "CommandMutation")]
impl Mutation {
    /// Registers a product with its opening stock (operator).
    async fn register_product(&self, ctx: &Context<'_>, input: RegisterProductInput) -> Answer {
        let c = Command::of(ctx).await?;
        let input = checked(input.into_command())?;
        answer(
            c.commands
                .register_product(&c.caller.actor, input, &c.metadata)
                .await,
        )
    }

    /// Changes what one unit of a product costs (operator). Orders placed from then on are
    /// charged the new price; orders already placed keep theirs.
    async fn reprice_product(&self, ctx: &Context<'_>, input: RepriceProductInput) -> Answer {
        let c = Command::of(ctx).await?;
        let input = checked(input.into_command())?;
        answer(
            c.commands
                .reprice_product(&c.caller.actor, input, &c.metadata)
                .await,
        )
    }

    /// Adds units on hand to a product (operator).
    async fn restock(&self, ctx: &Context<'_>, input: RestockInput) -> Answer {
        let c = Command::of(ctx).await?;
        let (sku, quantity) = checked(input.into_command())?;
        answer(
            c.commands
                .restock(&c.caller.actor, &sku, quantity, &c.metadata)
                .await,
        )
    }

    /// Places an order (customer, operator). Fulfilment (stock, payment) follows
    /// asynchronously; the result's `orderId` names the new order.
    async fn place_order(&self, ctx: &Context<'_>, input: PlaceOrderInput) -> Answer {
        let c = Command::of(ctx).await?;
        let input = checked(input.into_command())?;
        answer(
            c.commands
                .place_order(&c.caller.actor, input, &c.metadata)
                .await,
        )
    }

    /// Cancels an order at its customer's request (its customer, operator). Compensation
    /// (release, refund) follows asynchronously.
    async fn cancel_order(&self, ctx: &Context<'_>, input: CancelOrderInput) -> Answer {
        let c = Command::of(ctx).await?;
        let order = checked(input.into_command())?;
        answer(
            c.commands
                .cancel_order(&c.caller.actor, order, &c.metadata)
                .await,
        )
    }

    /// Ships a confirmed order (operator).
    async fn ship_order(&self, ctx: &Context<'_>, input: ShipOrderInput) -> Answer {
        let c = Command::of(ctx).await?;
        let order = checked(input.into_command())?;
        answer(
            c.commands
                .ship_order(&c.caller.actor, order, &c.metadata)
                .await,
        )
    }

    /// Opens a support ticket (customer, agent); the result's `ticketId` names it.
    async fn open_ticket(&self, ctx: &Context<'_>, input: OpenTicketInput) -> Answer {
        let c = Command::of(ctx).await?;
        let input = checked(input.into_command())?;
        answer(
            c.commands
                .open_ticket(&c.caller.actor, input, &c.metadata)
                .await,
        )
    }

    /// Adds a message to a ticket's thread (its customer, agent).
    async fn post_ticket_message(
        &self,
        ctx: &Context<'_>,
        input: PostTicketMessageInput,
    ) -> Answer {
        let c = Command::of(ctx).await?;
        let (ticket, body) = checked(input.into_command())?;
        answer(
            c.commands
                .post_ticket_message(&c.caller.actor, ticket, body, &c.metadata)
                .await,
        )
    }

    /// Hands a ticket to an agent (agent).
    async fn assign_ticket(&self, ctx: &Context<'_>, input: AssignTicketInput) -> Answer {
        let c = Command::of(ctx).await?;
        let (ticket, agent) = checked(input.into_command())?;
        answer(
            c.commands
                .assign_ticket(&c.caller.actor, ticket, &agent, &c.metadata)
                .await,
        )
    }

    /// Closes a ticket with a resolution (its customer, agent).
    async fn close_ticket(&self, ctx: &Context<'_>, input: CloseTicketInput) -> Answer {
        let c = Command::of(ctx).await?;
        let (ticket, resolution) = checked(input.into_command())?;
        answer(
            c.commands
                .close_ticket(&c.caller.actor, ticket, resolution, &c.metadata)
                .await,
        )
    }

    /// Reopens a closed ticket (its customer, agent).
    async fn reopen_ticket(&self, ctx: &Context<'_>, input: ReopenTicketInput) -> Answer {
        let c = Command::of(ctx).await?;
        let ticket = checked(input.into_command())?;
        answer(
            c.commands
                .reopen_ticket(&c.caller.actor, ticket, &c.metadata)
                .await,
        )
    }

    /// Erases a customer (operator): destroys their data keys, so the personal fields of
    /// their events (ticket subjects, messages, resolutions) read as `[erased]` everywhere
    /// from now on, and records the erasure in the log (`CustomerErased`). Needs the
    /// server's `--data-key` (`NOT_CONFIGURED` without one).
    async fn erase_customer(&self, ctx: &Context<'_>, input: EraseCustomerInput) -> Answer {
        let c = Command::of(ctx).await?;
        answer(
            c.commands
                .erase_customer(&c.caller.actor, &input.customer_id, &c.metadata)
                .await,
        )
    }

    /// Rebuilds a projection from the start of the log into shadow tables while the live
    /// tables keep serving, then swaps them in (operator). Runs in the background; the
    /// answer is the projection's status, `REBUILDING` until the swap.
    async fn rebuild_projection(
        &self,
        ctx: &Context<'_>,
        input: super::rebuild::RebuildProjectionInput,
    ) -> async_graphql::Result<super::query::Projection> {
        super::rebuild::rebuild_projection(ctx, input).await
    }
}
