//! A support ticket: a conversation between a customer and the support agents.

mod author;
mod command;
mod error;
mod event;
mod parts;
mod status;
#[cfg(test)]
mod tests;

pub use author::{Author, Role};
pub use command::Command;
pub use error::Error;
pub use event::Event;
pub use parts::{OpenedParts, Parts};
pub use status::Status;

use crate::values::bounded_text;
use crate::{AgentId, Aggregate, CustomerId, OrderId, TicketId};

/// The longest subject accepted, in characters.
pub const MAX_SUBJECT_LEN: usize = 200;
/// The longest message accepted, in characters.
pub const MAX_MESSAGE_LEN: usize = 4000;
/// The longest resolution accepted, in characters.
pub const MAX_RESOLUTION_LEN: usize = 1000;

/// The state of one ticket, folded from its events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ticket {
    opened: Option<Opened>,
    closed: bool,
    assignee: Option<AgentId>,
    messages: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Opened {
    id: TicketId,
    customer: CustomerId,
    order: Option<OrderId>,
}

impl Ticket {
    /// Whether the ticket is closed.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Open or closed.
    #[must_use]
    pub fn status(&self) -> Status {
        if self.closed {
            Status::Closed
        } else {
            Status::Open
        }
    }

    /// The ticket's id, `None` before it is opened.
    #[must_use]
    pub fn id(&self) -> Option<TicketId> {
        self.opened.as_ref().map(|o| o.id)
    }

    /// The customer the ticket belongs to.
    #[must_use]
    pub fn customer(&self) -> Option<&CustomerId> {
        self.opened.as_ref().map(|o| &o.customer)
    }

    /// The order the ticket is about, if any.
    #[must_use]
    pub fn order(&self) -> Option<OrderId> {
        self.opened.as_ref().and_then(|o| o.order)
    }

    /// The agent handling the ticket.
    #[must_use]
    pub fn assignee(&self) -> Option<&AgentId> {
        self.assignee.as_ref()
    }

    /// How many messages the thread holds, the first one included.
    #[must_use]
    pub fn message_count(&self) -> u32 {
        self.messages
    }

    fn opened(&self) -> Result<&Opened, Error> {
        self.opened.as_ref().ok_or(Error::NotOpened)
    }

    fn open_ticket(&self) -> Result<&Opened, Error> {
        let opened = self.opened()?;
        if self.closed {
            return Err(Error::Closed);
        }
        Ok(opened)
    }
}

impl Aggregate for Ticket {
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(&self, command: Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Open {
                ticket,
                customer,
                subject,
                message,
                order,
                at,
            } => {
                if self.opened.is_some() {
                    return Err(Error::AlreadyOpened);
                }
                let subject = bounded_text("subject", &subject, MAX_SUBJECT_LEN)
                    .map_err(Error::InvalidSubject)?;
                let message = bounded_text("message", &message, MAX_MESSAGE_LEN)
                    .map_err(Error::InvalidMessage)?;
                Ok(vec![Event::Opened {
                    ticket,
                    customer,
                    subject,
                    message,
                    order,
                    at,
                }])
            }
            Command::PostMessage { author, body, at } => {
                self.open_ticket()?;
                let body = bounded_text("message", &body, MAX_MESSAGE_LEN)
                    .map_err(Error::InvalidMessage)?;
                Ok(vec![Event::MessagePosted { author, body, at }])
            }
            Command::Assign { agent, at } => {
                self.open_ticket()?;
                if self.assignee.as_ref() == Some(&agent) {
                    return Ok(vec![]);
                }
                Ok(vec![Event::Assigned { agent, at }])
            }
            Command::Close { resolution, at } => {
                self.opened()?;
                if self.closed {
                    return Err(Error::AlreadyClosed);
                }
                let resolution = bounded_text("resolution", &resolution, MAX_RESOLUTION_LEN)
                    .map_err(Error::InvalidResolution)?;
                Ok(vec![Event::Closed { resolution, at }])
            }
            Command::Reopen { at } => {
                self.opened()?;
                if !self.closed {
                    return Err(Error::NotClosed);
                }
                Ok(vec![Event::Reopened { at }])
            }
        }
    }

    fn apply(&mut self, event: &Event) {
        match event {
            Event::Opened {
                ticket,
                customer,
                order,
                ..
            } => {
                self.opened = Some(Opened {
                    id: *ticket,
                    customer: customer.clone(),
                    order: *order,
                });
                self.messages = 1;
            }
            Event::MessagePosted { .. } => self.messages = self.messages.saturating_add(1),
            Event::Assigned { agent, .. } => self.assignee = Some(agent.clone()),
            Event::Closed { .. } => self.closed = true,
            Event::Reopened { .. } => self.closed = false,
        }
    }
}
