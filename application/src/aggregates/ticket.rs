//! The ticket adapter and the snapshot shape of a support ticket.

use domain::ticket::{self, OpenedParts, Parts, Ticket};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{adapter, read_snapshot};
use crate::Error;
use crate::schema::wire;

/// The version of [`TicketSnapshotV1`].
pub const SNAPSHOT_SCHEMA: i32 = 1;

/// A ticket state as stored in a snapshot, version 1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TicketSnapshotV1 {
    opened: Option<OpenedV1>,
    closed: bool,
    assignee_id: Option<String>,
    /// How many messages the thread holds, the first one included.
    messages: u32,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OpenedV1 {
    ticket_id: Uuid,
    customer_id: String,
    order_id: Option<Uuid>,
}

fn snapshot(state: &Ticket) -> Value {
    let parts = state.to_parts();
    wire::to_json(&TicketSnapshotV1 {
        opened: parts.opened.map(|o| OpenedV1 {
            ticket_id: wire::ticket_uuid(o.id),
            customer_id: o.customer.to_string(),
            order_id: o.order.map(wire::order_uuid),
        }),
        closed: parts.closed,
        assignee_id: parts.assignee.map(|agent| agent.to_string()),
        messages: parts.messages,
    })
}

fn restore(snapshot: Value) -> Result<Ticket, Error> {
    let s: TicketSnapshotV1 = read_snapshot("ticket", snapshot)?;
    let opened = match s.opened {
        Some(o) => Some(OpenedParts {
            id: wire::ticket_id(o.ticket_id),
            customer: wire::customer(&o.customer_id)?,
            order: o.order_id.map(wire::order_id),
        }),
        None => None,
    };
    let assignee = s.assignee_id.as_deref().map(wire::agent).transpose()?;
    Ok(Ticket::from_parts(Parts {
        opened,
        closed: s.closed,
        assignee,
        messages: s.messages,
    }))
}

adapter! {
    /// A support ticket as a cqrs-es aggregate (stream type `ticket`).
    aggregate TicketAggregate(Ticket);
    /// A ticket event as a cqrs-es domain event.
    event TicketEvent(ticket::Event);
    command ticket::Command;
    error ticket::Error;
    snapshot SNAPSHOT_SCHEMA, snapshot, restore;
    starts ticket::Command::Open;
    subject customer_of;
}

/// The ticket's customer, whose data its messages are.
fn customer_of(ticket: &Ticket) -> Option<String> {
    ticket
        .customer()
        .map(|customer| customer.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use domain::ticket::{Author, Role};
    use domain::{AgentId, Aggregate as _, CustomerId, OrderId, TicketId, Timestamp};
    use serde_json::json;

    use super::*;
    use crate::aggregates::EventSourced;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    fn opened() -> ticket::Event {
        ticket::Event::Opened {
            ticket: TicketId::from_u128(3),
            customer: CustomerId::parse("alice").unwrap(),
            subject: "Where is my mug?".into(),
            message: "It has not arrived.".into(),
            order: Some(OrderId::from_u128(7)),
            at: at(1),
        }
    }

    fn closed() -> ticket::Event {
        ticket::Event::Closed {
            resolution: "Refunded".into(),
            at: at(5),
        }
    }

    fn given(events: Vec<ticket::Event>) -> cqrs_es::test::AggregateTestExecutor<TicketAggregate> {
        TestFramework::<TicketAggregate>::with(())
            .given(events.into_iter().map(TicketEvent).collect())
    }

    fn post(body: &str) -> ticket::Command {
        ticket::Command::PostMessage {
            author: Author {
                id: "alice".into(),
                role: Role::Customer,
            },
            body: body.into(),
            at: at(2),
        }
    }

    #[tokio::test]
    async fn a_customer_posts_on_an_open_ticket() {
        given(vec![opened()])
            .when_async(post(" Any news? "))
            .await
            .then_expect_events(vec![TicketEvent(ticket::Event::MessagePosted {
                author: Author {
                    id: "alice".into(),
                    role: Role::Customer,
                },
                body: "Any news?".into(),
                at: at(2),
            })]);
    }

    #[tokio::test]
    async fn nobody_posts_on_a_closed_ticket() {
        given(vec![opened(), closed()])
            .when_async(post("Hello?"))
            .await
            .then_expect_error(ticket::Error::Closed);
    }

    #[test]
    fn a_snapshot_restores_the_same_state() {
        let state = TicketAggregate(Ticket::from_events(&[
            opened(),
            ticket::Event::Assigned {
                agent: AgentId::parse("bob").unwrap(),
                at: at(2),
            },
            closed(),
        ]));
        assert_eq!(state.snapshot()["assigneeId"], "bob");
        assert_eq!(TicketAggregate::restore(state.snapshot()), Ok(state));
        assert_eq!(
            TicketAggregate::restore(TicketAggregate::default().snapshot()),
            Ok(TicketAggregate::default())
        );
    }

    #[test]
    fn a_snapshot_that_does_not_decode_is_a_schema_error() {
        let state = TicketAggregate(Ticket::from_events(&[opened()]));
        let mut bad_customer = state.snapshot();
        bad_customer["opened"]["customerId"] = json!("");
        let mut bad_agent = state.snapshot();
        bad_agent["assigneeId"] = json!("b o b");
        for snapshot in [bad_customer, bad_agent, json!([])] {
            let result = TicketAggregate::restore(snapshot.clone());
            assert!(
                matches!(result, Err(Error::Schema(_))),
                "{snapshot}: {result:?}"
            );
        }
    }
}
