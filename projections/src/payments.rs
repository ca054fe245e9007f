//! The payment read model: where each order's payment stands.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use application::event_log::RecordedEvent;
use async_trait::async_trait;
use domain::payment;
use sqlx::{PgConnection, Row as _};
use uuid::Uuid;

use crate::decode::{DomainEvent, stream_uuid};
use crate::rows::{self, Rows};
use crate::{Error, Projection};

/// Builds `rm_payments` from payment events.
#[derive(Debug, Clone, Copy, Default)]
pub struct Payments;

/// The status a client sees after `event` (a transient failure and an expiry both read
/// `FAILED`); `None` when the event leaves it as it was (a deadline passing).
#[must_use]
pub fn wire_status(event: &payment::Event) -> Option<&'static str> {
    payment::Status::after(event).map(payment::Status::as_str)
}

#[async_trait]
impl Projection for Payments {
    fn name(&self) -> &'static str {
        "payments"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["rm_payments"]
    }

    fn follows(&self) -> &'static [&'static str] {
        Self::FOLLOWS
    }

    async fn apply(&self, tx: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), Error> {
        rows::apply::<Self>(self.name(), tx, events).await
    }
}

impl Rows for Payments {
    type Key = Uuid;
    type Row = Row;
    type Event = payment::Event;

    const FOLLOWS: &'static [&'static str] = &["payment"];

    fn pick(event: DomainEvent) -> Option<payment::Event> {
        match event {
            DomainEvent::Payment(event) => Some(event),
            _ => None,
        }
    }

    fn key(event: &RecordedEvent) -> Result<Uuid, Error> {
        stream_uuid(event)
    }

    async fn load(tx: &mut PgConnection, ids: &[Uuid]) -> Result<HashMap<Uuid, Row>, Error> {
        let rows = sqlx::query(
            "SELECT order_id, status, amount_minor, currency, attempts, version
             FROM rm_payments WHERE order_id = ANY($1) FOR UPDATE",
        )
        .bind(ids)
        .fetch_all(&mut *tx)
        .await?;
        rows.into_iter()
            .map(|row| {
                let payment = Row {
                    status: row.try_get("status")?,
                    amount_minor: row.try_get("amount_minor")?,
                    currency: row.try_get("currency")?,
                    attempts: row.try_get("attempts")?,
                    version: row.try_get("version")?,
                };
                Ok((row.try_get("order_id")?, payment))
            })
            .collect()
    }

    fn fold(
        rows: &mut HashMap<Uuid, Row>,
        id: &Uuid,
        event: &RecordedEvent,
        payment_event: &payment::Event,
    ) -> Result<bool, Error> {
        let status = wire_status(payment_event);
        if let payment::Event::Requested { amount, .. } = payment_event {
            if let Entry::Vacant(slot) = rows.entry(*id) {
                let status =
                    status.ok_or_else(|| Error::Unexpected("a request without a status".into()))?;
                slot.insert(Row {
                    status: status.to_owned(),
                    amount_minor: amount.minor(),
                    currency: amount.currency().as_str().to_owned(),
                    attempts: 0,
                    version: event.version,
                });
                return Ok(true);
            }
            return Ok(false);
        }
        let Some(row) = rows.get_mut(id) else {
            return Ok(false);
        };
        if event.version <= row.version {
            return Ok(false);
        }
        if let payment::Event::Authorized { attempt, .. }
        | payment::Event::Declined { attempt, .. }
        | payment::Event::FailedTransiently { attempt, .. } = payment_event
        {
            let attempt = i32::try_from(*attempt)
                .map_err(|_| Error::Unexpected(format!("attempt {attempt} overflows")))?;
            row.attempts = row.attempts.max(attempt);
        }
        if let Some(status) = status {
            status.clone_into(&mut row.status);
        }
        row.version = event.version;
        Ok(true)
    }

    async fn store(tx: &mut PgConnection, rows: Vec<(Uuid, Row)>) -> Result<(), Error> {
        let (mut ids, mut statuses, mut amounts, mut currencies, mut attempts, mut versions) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        for (id, row) in rows {
            ids.push(id);
            statuses.push(row.status);
            amounts.push(row.amount_minor);
            currencies.push(row.currency);
            attempts.push(row.attempts);
            versions.push(row.version);
        }
        sqlx::query(
            "INSERT INTO rm_payments (order_id, status, amount_minor, currency, attempts, version)
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::int8[], $4::text[], $5::int4[],
                 $6::int8[])
             ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status,
                 amount_minor = EXCLUDED.amount_minor, currency = EXCLUDED.currency,
                 attempts = EXCLUDED.attempts, version = EXCLUDED.version",
        )
        .bind(ids)
        .bind(statuses)
        .bind(amounts)
        .bind(currencies)
        .bind(attempts)
        .bind(versions)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

/// An order's payment row as the batch leaves it.
#[derive(Debug)]
pub(crate) struct Row {
    status: String,
    amount_minor: i64,
    currency: String,
    attempts: i32,
    version: i64,
}
