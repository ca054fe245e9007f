//! The stored events of a support ticket (stream type `ticket`, stream id the ticket's UUID).

use domain::ticket::{Author, Event, Role};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::wire::{self, Time};
use super::{EncodedEvent, EventSchema, Payload, kind, unknown_type};
use crate::Error;

/// `TicketOpened` v1; `orderId` is `null` for a ticket about no order.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TicketOpenedV1 {
    ticket_id: Uuid,
    customer_id: String,
    subject: String,
    message: String,
    #[serde(default)]
    order_id: Option<Uuid>,
    at: Time,
}

impl Payload for TicketOpenedV1 {
    const TYPE: &'static str = "TicketOpened";
    const VERSION: i32 = 1;
}

/// `TicketMessagePosted` v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TicketMessagePostedV1 {
    author: AuthorV1,
    body: String,
    at: Time,
}

/// The writer of a message: `{"id": "alice", "role": "customer"}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthorV1 {
    id: String,
    role: RoleV1,
}

/// A role by its wire name.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RoleV1 {
    Customer,
    Agent,
    System,
}

impl From<Role> for RoleV1 {
    fn from(role: Role) -> Self {
        match role {
            Role::Customer => Self::Customer,
            Role::Agent => Self::Agent,
            Role::System => Self::System,
        }
    }
}

impl From<RoleV1> for Role {
    fn from(role: RoleV1) -> Self {
        match role {
            RoleV1::Customer => Self::Customer,
            RoleV1::Agent => Self::Agent,
            RoleV1::System => Self::System,
        }
    }
}

impl Payload for TicketMessagePostedV1 {
    const TYPE: &'static str = "TicketMessagePosted";
    const VERSION: i32 = 1;
}

/// `TicketAssigned` v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TicketAssignedV1 {
    agent_id: String,
    at: Time,
}

impl Payload for TicketAssignedV1 {
    const TYPE: &'static str = "TicketAssigned";
    const VERSION: i32 = 1;
}

/// `TicketClosed` v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TicketClosedV1 {
    resolution: String,
    at: Time,
}

impl Payload for TicketClosedV1 {
    const TYPE: &'static str = "TicketClosed";
    const VERSION: i32 = 1;
}

/// `TicketReopened` v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TicketReopenedV1 {
    at: Time,
}

impl Payload for TicketReopenedV1 {
    const TYPE: &'static str = "TicketReopened";
    const VERSION: i32 = 1;
}

/// The fields of each ticket event that hold what someone wrote (a customer's personal
/// data): stored encrypted under the ticket's customer's data key when one is configured
/// (see [`crate::personal_data`]).
pub(super) const PERSONAL: [(&str, &[&str]); 3] = [
    (TicketOpenedV1::TYPE, &["subject", "message"]),
    (TicketMessagePostedV1::TYPE, &["body"]),
    (TicketClosedV1::TYPE, &["resolution"]),
];

fn kind_of(event: &Event) -> (&'static str, i32) {
    match event {
        Event::Opened { .. } => kind::<TicketOpenedV1>(),
        Event::MessagePosted { .. } => kind::<TicketMessagePostedV1>(),
        Event::Assigned { .. } => kind::<TicketAssignedV1>(),
        Event::Closed { .. } => kind::<TicketClosedV1>(),
        Event::Reopened { .. } => kind::<TicketReopenedV1>(),
    }
}

impl EventSchema for Event {
    const STREAM_TYPE: &'static str = "ticket";

    fn event_type(&self) -> &'static str {
        kind_of(self).0
    }

    fn event_version(&self) -> i32 {
        kind_of(self).1
    }

    fn encode(&self) -> EncodedEvent {
        match self {
            Self::Opened {
                ticket,
                customer,
                subject,
                message,
                order,
                at,
            } => TicketOpenedV1 {
                ticket_id: wire::ticket_uuid(*ticket),
                customer_id: customer.to_string(),
                subject: subject.clone(),
                message: message.clone(),
                order_id: order.map(wire::order_uuid),
                at: Time(*at),
            }
            .encoded(),
            Self::MessagePosted { author, body, at } => TicketMessagePostedV1 {
                author: AuthorV1 {
                    id: author.id.clone(),
                    role: author.role.into(),
                },
                body: body.clone(),
                at: Time(*at),
            }
            .encoded(),
            Self::Assigned { agent, at } => TicketAssignedV1 {
                agent_id: agent.to_string(),
                at: Time(*at),
            }
            .encoded(),
            Self::Closed { resolution, at } => TicketClosedV1 {
                resolution: resolution.clone(),
                at: Time(*at),
            }
            .encoded(),
            Self::Reopened { at } => TicketReopenedV1 { at: Time(*at) }.encoded(),
        }
    }

    fn decode(event: EncodedEvent) -> Result<Self, Error> {
        Ok(match event.event_type.as_str() {
            TicketOpenedV1::TYPE => {
                let p = TicketOpenedV1::read(event)?;
                Self::Opened {
                    ticket: wire::ticket_id(p.ticket_id),
                    customer: wire::customer(&p.customer_id)?,
                    subject: p.subject,
                    message: p.message,
                    order: p.order_id.map(wire::order_id),
                    at: p.at.0,
                }
            }
            TicketMessagePostedV1::TYPE => {
                let p = TicketMessagePostedV1::read(event)?;
                Self::MessagePosted {
                    author: Author {
                        id: p.author.id,
                        role: p.author.role.into(),
                    },
                    body: p.body,
                    at: p.at.0,
                }
            }
            TicketAssignedV1::TYPE => {
                let p = TicketAssignedV1::read(event)?;
                Self::Assigned {
                    agent: wire::agent(&p.agent_id)?,
                    at: p.at.0,
                }
            }
            TicketClosedV1::TYPE => {
                let p = TicketClosedV1::read(event)?;
                Self::Closed {
                    resolution: p.resolution,
                    at: p.at.0,
                }
            }
            TicketReopenedV1::TYPE => Self::Reopened {
                at: TicketReopenedV1::read(event)?.at.0,
            },
            _ => return Err(unknown_type::<Self>(&event)),
        })
    }
}

#[cfg(test)]
mod tests {
    use domain::{AgentId, CustomerId, OrderId, TicketId, Timestamp};
    use serde_json::json;

    use super::*;
    use crate::schema::testing::{round_trip, stored};

    const TICKET: TicketId = TicketId::from_u128(0x0192_3b4c_5d6e_7f80_9a1b_2c3d_4e5f_0003);
    /// 2026-01-01T00:00:00.000Z
    const NEW_YEAR: i64 = 1_767_225_600_000;

    fn at(offset_ms: i64) -> Timestamp {
        Timestamp::from_millis(NEW_YEAR + offset_ms)
    }

    fn opened(order: Option<OrderId>) -> Event {
        Event::Opened {
            ticket: TICKET,
            customer: CustomerId::parse("alice").unwrap(),
            subject: "Where is my mug?".into(),
            message: "It has not arrived.".into(),
            order,
            at: at(0),
        }
    }

    fn posted(role: Role) -> Event {
        Event::MessagePosted {
            author: Author {
                id: "someone".into(),
                role,
            },
            body: "Hello".into(),
            at: at(1),
        }
    }

    #[test]
    fn every_ticket_event_round_trips_under_its_public_name() {
        let events = [
            opened(Some(OrderId::from_u128(7))),
            posted(Role::Customer),
            Event::Assigned {
                agent: AgentId::parse("bob").unwrap(),
                at: at(2),
            },
            Event::Closed {
                resolution: "Refunded".into(),
                at: at(3),
            },
            Event::Reopened { at: at(4) },
            opened(None),
            posted(Role::Agent),
            posted(Role::System),
        ];
        assert_eq!(
            round_trip(&events)[..5],
            [
                "TicketOpened",
                "TicketMessagePosted",
                "TicketAssigned",
                "TicketClosed",
                "TicketReopened",
            ]
        );
    }

    #[test]
    fn a_message_names_its_author_and_role() {
        assert_eq!(
            posted(Role::Agent).encode(),
            stored(
                "TicketMessagePosted",
                1,
                json!({
                    "author": { "id": "someone", "role": "agent" },
                    "body": "Hello",
                    "at": "2026-01-01T00:00:00.001Z",
                })
            )
        );
    }

    #[test]
    fn a_ticket_about_no_order_may_omit_the_order() {
        let mut event = opened(None).encode();
        assert_eq!(event.payload["orderId"], json!(null));
        if let Some(payload) = event.payload.as_object_mut() {
            payload.remove("orderId");
        }
        assert_eq!(Event::decode(event), Ok(opened(None)));
    }

    #[test]
    fn stored_values_the_domain_refuses_are_schema_errors() {
        let mut bad_role = posted(Role::Agent).encode();
        bad_role.payload["author"]["role"] = json!("admin");
        let mut bad_customer = opened(None).encode();
        bad_customer.payload["customerId"] = json!("al ice");
        for event in [
            bad_role,
            bad_customer,
            stored(
                "TicketAssigned",
                1,
                json!({ "agentId": "", "at": NEW_YEAR }),
            ),
            stored("TicketReopened", 2, json!({ "at": NEW_YEAR })),
            stored("TicketDeleted", 1, json!({})),
        ] {
            let result = Event::decode(event.clone());
            assert!(
                matches!(result, Err(Error::Schema(_))),
                "{event:?}: {result:?}"
            );
        }
    }
}
