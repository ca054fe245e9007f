//! What happens to a ticket.

use super::Author;
use crate::{AgentId, CustomerId, OrderId, TicketId, Timestamp};

/// Something that happened to one ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The ticket was opened with its first message.
    Opened {
        /// Its id.
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
    /// A message was added to the thread.
    MessagePosted {
        /// Who wrote it.
        author: Author,
        /// What it says.
        body: String,
        /// When.
        at: Timestamp,
    },
    /// An agent took the ticket.
    Assigned {
        /// The agent.
        agent: AgentId,
        /// When.
        at: Timestamp,
    },
    /// The ticket was closed.
    Closed {
        /// How it was resolved.
        resolution: String,
        /// When.
        at: Timestamp,
    },
    /// The ticket was reopened.
    Reopened {
        /// When.
        at: Timestamp,
    },
}
