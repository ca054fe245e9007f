//! What can be asked of a ticket.

use super::Author;
use crate::{AgentId, CustomerId, OrderId, TicketId, Timestamp};

/// A request to one ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Open a ticket with its first message.
    Open {
        /// The new ticket's id.
        ticket: TicketId,
        /// Whose ticket it is.
        customer: CustomerId,
        /// What it is about.
        subject: String,
        /// The first message.
        message: String,
        /// The order it is about, if any.
        order: Option<OrderId>,
        /// When.
        at: Timestamp,
    },
    /// Add a message to the thread.
    PostMessage {
        /// Who writes.
        author: Author,
        /// What.
        body: String,
        /// When.
        at: Timestamp,
    },
    /// Hand the ticket to an agent.
    Assign {
        /// The agent.
        agent: AgentId,
        /// When.
        at: Timestamp,
    },
    /// Close the ticket.
    Close {
        /// How it was resolved.
        resolution: String,
        /// When.
        at: Timestamp,
    },
    /// Reopen a closed ticket.
    Reopen {
        /// When.
        at: Timestamp,
    },
}
