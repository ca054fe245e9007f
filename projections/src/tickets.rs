//! The ticket read model: status, assignee and message thread of every ticket.

use std::collections::HashMap;

use application::event_log::RecordedEvent;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::ticket::{self, Status};
use serde_json::{Value, json};
use sqlx::{PgConnection, Row as _};
use uuid::Uuid;

use crate::decode::{DomainEvent, instant, stream_uuid};
use crate::rows::{self, Rows};
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

    fn follows(&self) -> &'static [&'static str] {
        Self::FOLLOWS
    }

    async fn apply(&self, tx: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), Error> {
        rows::apply::<Self>(self.name(), tx, events).await
    }
}

impl Rows for Tickets {
    type Key = Uuid;
    type Row = Row;
    type Event = ticket::Event;

    const FOLLOWS: &'static [&'static str] = &["ticket"];

    fn pick(event: DomainEvent) -> Option<ticket::Event> {
        match event {
            DomainEvent::Ticket(event) => Some(event),
            _ => None,
        }
    }

    fn key(event: &RecordedEvent) -> Result<Uuid, Error> {
        stream_uuid(event)
    }

    async fn load(tx: &mut PgConnection, ids: &[Uuid]) -> Result<HashMap<Uuid, Row>, Error> {
        let rows = sqlx::query(
            "SELECT id, customer_id, order_id, subject, status, assignee, messages, opened_at,
                 closed_at, resolution, version
             FROM rm_tickets WHERE id = ANY($1) FOR UPDATE",
        )
        .bind(ids)
        .fetch_all(&mut *tx)
        .await?;
        rows.into_iter()
            .map(|row| {
                let status: String = row.try_get("status")?;
                let status = [Status::Open, Status::Closed]
                    .into_iter()
                    .map(Status::as_str)
                    .find(|known| *known == status)
                    .ok_or_else(|| Error::Unexpected(format!("ticket status {status}")))?;
                let ticket = Row {
                    customer_id: row.try_get("customer_id")?,
                    order_id: row.try_get("order_id")?,
                    subject: row.try_get("subject")?,
                    status,
                    assignee: row.try_get("assignee")?,
                    messages: row.try_get("messages")?,
                    opened_at: row.try_get("opened_at")?,
                    closed_at: row.try_get("closed_at")?,
                    resolution: row.try_get("resolution")?,
                    version: row.try_get("version")?,
                };
                Ok((row.try_get("id")?, ticket))
            })
            .collect()
    }

    fn fold(
        rows: &mut HashMap<Uuid, Row>,
        id: &Uuid,
        event: &RecordedEvent,
        ticket_event: &ticket::Event,
    ) -> Result<bool, Error> {
        if let ticket::Event::Opened {
            customer,
            subject,
            message,
            order,
            at,
            ..
        } = ticket_event
        {
            if rows.contains_key(id) {
                return Ok(false);
            }
            let at = instant(*at)?;
            let first = json!({
                "author": customer.as_str(),
                "role": ticket::Role::Customer.as_str(),
                "body": message,
                "at": at,
            });
            let row = Row {
                customer_id: customer.as_str().to_owned(),
                order_id: order.map(|o| Uuid::from_u128(o.as_u128())),
                subject: subject.clone(),
                status: Status::Open.as_str(),
                assignee: None,
                messages: Value::Array(vec![first]),
                opened_at: at,
                closed_at: None,
                resolution: None,
                version: event.version,
            };
            rows.insert(*id, row);
            return Ok(true);
        }
        let Some(row) = rows.get_mut(id) else {
            return Ok(false);
        };
        if event.version <= row.version {
            return Ok(false);
        }
        match ticket_event {
            ticket::Event::Opened { .. } => {}
            ticket::Event::MessagePosted { author, body, at } => {
                let message = json!({
                    "author": author.id,
                    "role": author.role.as_str(),
                    "body": body,
                    "at": instant(*at)?,
                });
                match &mut row.messages {
                    Value::Array(messages) => messages.push(message),
                    other => *other = Value::Array(vec![message]),
                }
            }
            ticket::Event::Assigned { agent, .. } => row.assignee = Some(agent.as_str().to_owned()),
            ticket::Event::Closed { resolution, at } => {
                row.status = Status::Closed.as_str();
                row.resolution = Some(resolution.clone());
                row.closed_at = Some(instant(*at)?);
            }
            ticket::Event::Reopened { .. } => {
                row.status = Status::Open.as_str();
                row.resolution = None;
                row.closed_at = None;
            }
        }
        row.version = event.version;
        Ok(true)
    }

    async fn store(tx: &mut PgConnection, rows: Vec<(Uuid, Row)>) -> Result<(), Error> {
        let mut c = Columns::default();
        for (id, row) in rows {
            c.id.push(id);
            c.customer_id.push(row.customer_id);
            c.order_id.push(row.order_id);
            c.subject.push(row.subject);
            c.status.push(row.status);
            c.assignee.push(row.assignee);
            c.messages.push(row.messages);
            c.opened_at.push(row.opened_at);
            c.closed_at.push(row.closed_at);
            c.resolution.push(row.resolution);
            c.version.push(row.version);
        }
        sqlx::query(
            "INSERT INTO rm_tickets (id, customer_id, order_id, subject, status, assignee,
                 messages, opened_at, closed_at, resolution, version)
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[],
                 $6::text[], $7::jsonb[], $8::timestamptz[], $9::timestamptz[], $10::text[],
                 $11::int8[])
             ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status,
                 assignee = EXCLUDED.assignee, messages = EXCLUDED.messages,
                 closed_at = EXCLUDED.closed_at, resolution = EXCLUDED.resolution,
                 version = EXCLUDED.version",
        )
        .bind(c.id)
        .bind(c.customer_id)
        .bind(c.order_id)
        .bind(c.subject)
        .bind(c.status)
        .bind(c.assignee)
        .bind(c.messages)
        .bind(c.opened_at)
        .bind(c.closed_at)
        .bind(c.resolution)
        .bind(c.version)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

/// A ticket's row as the batch leaves it.
#[derive(Debug)]
pub(crate) struct Row {
    customer_id: String,
    order_id: Option<Uuid>,
    subject: String,
    status: &'static str,
    assignee: Option<String>,
    messages: Value,
    opened_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    resolution: Option<String>,
    version: i64,
}

/// The changed rows, column by column, as `UNNEST` takes them.
#[derive(Default)]
struct Columns {
    id: Vec<Uuid>,
    customer_id: Vec<String>,
    order_id: Vec<Option<Uuid>>,
    subject: Vec<String>,
    status: Vec<&'static str>,
    assignee: Vec<Option<String>>,
    messages: Vec<Value>,
    opened_at: Vec<DateTime<Utc>>,
    closed_at: Vec<Option<DateTime<Utc>>>,
    resolution: Vec<Option<String>>,
    version: Vec<i64>,
}
