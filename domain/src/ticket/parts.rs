//! The ticket state laid out as plain data: the door for snapshots.

use super::{Opened, Ticket};
use crate::{AgentId, CustomerId, OrderId, TicketId};

/// Every field of a [`Ticket`] state, public, so a snapshot can store it and restore it.
///
/// This is not a way to make a state: `from_parts` trusts what it is given, and parts that
/// did not come from [`Ticket::to_parts`] may break the invariants `decide` keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parts {
    /// The opened ticket, `None` before it is opened.
    pub opened: Option<OpenedParts>,
    /// Whether the ticket is closed.
    pub closed: bool,
    /// The agent handling the ticket.
    pub assignee: Option<AgentId>,
    /// How many messages the thread holds, the first one included.
    pub messages: u32,
}

/// The opened ticket of a [`Parts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedParts {
    /// The ticket's id.
    pub id: TicketId,
    /// Whose ticket it is.
    pub customer: CustomerId,
    /// The order it is about, if any.
    pub order: Option<OrderId>,
}

impl Ticket {
    /// The state as plain data, for a snapshot.
    #[must_use]
    pub fn to_parts(&self) -> Parts {
        Parts {
            opened: self.opened.as_ref().map(|o| OpenedParts {
                id: o.id,
                customer: o.customer.clone(),
                order: o.order,
            }),
            closed: self.closed,
            assignee: self.assignee.clone(),
            messages: self.messages,
        }
    }

    /// The state a snapshot made with [`Ticket::to_parts`] describes.
    #[must_use]
    pub fn from_parts(parts: Parts) -> Self {
        Self {
            opened: parts.opened.map(|o| Opened {
                id: o.id,
                customer: o.customer,
                order: o.order,
            }),
            closed: parts.closed,
            assignee: parts.assignee,
            messages: parts.messages,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::{Author, Event, Role};
    use crate::{Aggregate, Timestamp};

    #[test]
    fn a_state_survives_the_trip_through_its_parts() {
        let at = Timestamp::from_millis;
        let ticket = Ticket::from_events(&[
            Event::Opened {
                ticket: TicketId::from_u128(3),
                customer: CustomerId::parse("alice").unwrap(),
                subject: "Where is my mug?".into(),
                message: "It has not arrived.".into(),
                order: Some(OrderId::from_u128(7)),
                at: at(1),
            },
            Event::Assigned {
                agent: AgentId::parse("bob").unwrap(),
                at: at(2),
            },
            Event::MessagePosted {
                author: Author {
                    id: "bob".into(),
                    role: Role::Agent,
                },
                body: "On its way.".into(),
                at: at(3),
            },
            Event::Closed {
                resolution: "Delivered".into(),
                at: at(4),
            },
        ]);
        assert!(ticket.is_closed() && ticket.message_count() == 2);

        assert_eq!(Ticket::from_parts(ticket.to_parts()), ticket);
        assert_eq!(Ticket::from_parts(Parts::default()), Ticket::default());
    }
}
