//! Support tickets: opening, messages, assignment, closing and reopening.

use domain::ticket::{self, Author};
use domain::{AgentId, CustomerId, OrderId, TicketId};
use uuid::Uuid;

use super::orders::customer_for;
use super::products::exists;
use super::{Commands, now};
use crate::event_log::CommandMetadata;
use crate::{Actor, CommandResult, Error, Role, TicketAggregate};

/// A new ticket, as the client sent it. Its `Debug` leaves what the customer wrote out.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenTicket {
    /// Whose ticket: taken from the token for customers; required from agents.
    pub customer_id: Option<String>,
    /// What it is about.
    pub subject: String,
    /// The first message.
    pub message: String,
    /// The order it concerns, if any.
    pub order_id: Option<Uuid>,
}

impl std::fmt::Debug for OpenTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenTicket")
            .field("customer_id", &self.customer_id)
            .field("subject", &"(hidden)")
            .field("message", &"(hidden)")
            .field("order_id", &self.order_id)
            .finish()
    }
}

impl Commands {
    /// Opens a ticket (customers for themselves, agents for a customer). The ticket's id is
    /// the command's id.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for other roles; [`Error::Validation`]; [`Error::Rejected`]
    /// (`InvalidSubject`, `InvalidMessage`).
    #[tracing::instrument(skip(self, input, metadata), fields(actor = %actor.subject))]
    pub async fn open_ticket(
        &self,
        actor: &Actor,
        input: OpenTicket,
        metadata: &CommandMetadata,
    ) -> Result<CommandResult, Error> {
        actor.require(&[Role::Customer, Role::Agent], "open tickets")?;
        let customer = customer_for(actor, input.customer_id.as_deref())?;
        // A fresh random id; a resent command is recognised by its command id's record.
        let ticket = TicketId::from_u128(Uuid::now_v7().as_u128());
        let command = ticket::Command::Open {
            ticket,
            customer,
            subject: input.subject,
            message: input.message,
            order: input.order_id.map(|id| OrderId::from_u128(id.as_u128())),
            at: now(),
        };
        self.tickets
            .execute(&ticket.to_string(), command, metadata)
            .await
    }

    /// Adds a message to a ticket (its customer, or an agent).
    ///
    /// # Errors
    /// [`Error::NotFound`] (also for another customer's ticket); [`Error::Forbidden`] for
    /// other roles; [`Error::Rejected`] (`Closed`,
    /// `InvalidMessage`).
    #[tracing::instrument(skip(self, body, metadata), fields(actor = %actor.subject))]
    pub async fn post_ticket_message(
        &self,
        actor: &Actor,
        ticket: Uuid,
        body: String,
        metadata: &CommandMetadata,
    ) -> Result<CommandResult, Error> {
        actor.require(&[Role::Customer, Role::Agent], "post ticket messages")?;
        let role = if actor.role == Role::Agent {
            ticket::Role::Agent
        } else {
            ticket::Role::Customer
        };
        let command = ticket::Command::PostMessage {
            author: Author {
                id: actor.subject.clone(),
                role,
            },
            body,
            at: now(),
        };
        self.on_ticket(actor, ticket, command, metadata).await
    }

    /// Hands a ticket to an agent (agents only).
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Forbidden`]; [`Error::Validation`] for a bad agent id;
    /// [`Error::Rejected`] (`Closed`).
    #[tracing::instrument(skip(self, metadata), fields(actor = %actor.subject))]
    pub async fn assign_ticket(
        &self,
        actor: &Actor,
        ticket: Uuid,
        agent: &str,
        metadata: &CommandMetadata,
    ) -> Result<CommandResult, Error> {
        actor.require(&[Role::Agent], "assign tickets")?;
        let command = ticket::Command::Assign {
            agent: AgentId::parse(agent)?,
            at: now(),
        };
        self.on_ticket(actor, ticket, command, metadata).await
    }

    /// Closes a ticket (its customer, or an agent).
    ///
    /// # Errors
    /// [`Error::NotFound`] (also for another customer's ticket); [`Error::Forbidden`] for
    /// other roles; [`Error::Rejected`] (`AlreadyClosed`,
    /// `InvalidResolution`).
    #[tracing::instrument(skip(self, resolution, metadata), fields(actor = %actor.subject))]
    pub async fn close_ticket(
        &self,
        actor: &Actor,
        ticket: Uuid,
        resolution: String,
        metadata: &CommandMetadata,
    ) -> Result<CommandResult, Error> {
        actor.require(&[Role::Customer, Role::Agent], "close tickets")?;
        let command = ticket::Command::Close {
            resolution,
            at: now(),
        };
        self.on_ticket(actor, ticket, command, metadata).await
    }

    /// Reopens a closed ticket (its customer, or an agent).
    ///
    /// # Errors
    /// [`Error::NotFound`] (also for another customer's ticket); [`Error::Forbidden`] for
    /// other roles; [`Error::Rejected`] (`NotClosed`).
    #[tracing::instrument(skip(self, metadata), fields(actor = %actor.subject))]
    pub async fn reopen_ticket(
        &self,
        actor: &Actor,
        ticket: Uuid,
        metadata: &CommandMetadata,
    ) -> Result<CommandResult, Error> {
        actor.require(&[Role::Customer, Role::Agent], "reopen tickets")?;
        let command = ticket::Command::Reopen { at: now() };
        self.on_ticket(actor, ticket, command, metadata).await
    }

    async fn on_ticket(
        &self,
        actor: &Actor,
        ticket: Uuid,
        command: ticket::Command,
        metadata: &CommandMetadata,
    ) -> Result<CommandResult, Error> {
        self.tickets
            .execute_if(&ticket.to_string(), command, metadata, |state, version| {
                owned_ticket(actor, state, version, ticket)
            })
            .await
    }
}

fn owned_ticket(
    actor: &Actor,
    state: &TicketAggregate,
    version: i64,
    id: Uuid,
) -> Result<(), Error> {
    exists(version, || format!("ticket {id}"))?;
    let owner = state.0.customer().map_or("", CustomerId::as_str);
    // Another customer's ticket answers as one that does not exist: a customer learns
    // nothing of ids that are not theirs.
    if !actor.sees(owner) {
        return Err(Error::NotFound {
            what: format!("ticket {id}"),
        });
    }
    Ok(())
}
