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

impl Command {
    /// The command's name, e.g. `Open`: for metrics and logs.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Open { .. } => "Open",
            Self::PostMessage { .. } => "PostMessage",
            Self::Assign { .. } => "Assign",
            Self::Close { .. } => "Close",
            Self::Reopen { .. } => "Reopen",
        }
    }
}
