//! The ticket read model: status, assignee and message thread of every ticket.

use application::event_log::RecordedEvent;
use async_trait::async_trait;
use domain::ticket::{self, Status};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::decode::{DomainEvent, decode, instant, stream_uuid};
use crate::{Error, Projection};

/// Builds `rm_tickets` from ticket events.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tickets;

#[async_trait]
impl Projection for Tickets {
    fn name(&self) -> &'static str {
        "tickets"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["rm_tickets"]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), Error> {
        let Some(DomainEvent::Ticket(ticket_event)) = decode(event)? else {
            return Ok(());
        };
        let id = stream_uuid(event)?;
        let version = event.version;
        let query = match &ticket_event {
            ticket::Event::Opened {
                customer,
                subject,
                message,
                order,
                at,
                ..
            } => {
                let at = instant(*at)?;
                let first = json!([{
                    "author": customer.as_str(),
                    "role": ticket::Role::Customer.as_str(),
                    "body": message,
                    "at": at,
                }]);
                sqlx::query(
                    "INSERT INTO rm_tickets (id, customer_id, order_id, subject, status,
                         messages, opened_at, version)
                     VALUES ($1, $2, $3, $4, $8, $5, $6, $7)
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(id)
                .bind(customer.as_str())
                .bind(order.map(|o| Uuid::from_u128(o.as_u128())))
                .bind(subject)
                .bind(first)
                .bind(at)
                .bind(version)
                .bind(Status::Open.as_str())
            }
            ticket::Event::MessagePosted { author, body, at } => {
                let message = json!([{
                    "author": author.id,
                    "role": author.role.as_str(),
                    "body": body,
                    "at": instant(*at)?,
                }]);
                sqlx::query(
                    "UPDATE rm_tickets SET messages = messages || $3, version = $2
                     WHERE id = $1 AND version < $2",
                )
                .bind(id)
                .bind(version)
                .bind(message)
            }
            ticket::Event::Assigned { agent, .. } => sqlx::query(
                "UPDATE rm_tickets SET assignee = $3, version = $2
                 WHERE id = $1 AND version < $2",
            )
            .bind(id)
            .bind(version)
            .bind(agent.as_str()),
            ticket::Event::Closed { resolution, at } => sqlx::query(
                "UPDATE rm_tickets SET status = $5, resolution = $3, closed_at = $4,
                     version = $2
                 WHERE id = $1 AND version < $2",
            )
            .bind(id)
            .bind(version)
            .bind(resolution)
            .bind(instant(*at)?)
            .bind(Status::Closed.as_str()),
            ticket::Event::Reopened { .. } => sqlx::query(
                "UPDATE rm_tickets SET status = $3, resolution = NULL, closed_at = NULL,
                     version = $2
                 WHERE id = $1 AND version < $2",
            )
            .bind(id)
            .bind(version)
            .bind(Status::Open.as_str()),
        };
        query.execute(&mut *tx).await?;
        Ok(())
    }
}
