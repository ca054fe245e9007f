//! The order read model: status, lines, payment and timeline of every order, and through
//! its customer index, each customer's order history.

use std::collections::HashMap;

use application::event_log::RecordedEvent;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{order, payment};
use serde_json::{Value, json};
use sqlx::{PgConnection, Row as _};
use uuid::Uuid;

use crate::decode::{DomainEvent, instant, stream_uuid};
use crate::payments::wire_status;
use crate::rows::{self, Rows};
use crate::{Error, Projection};

/// Builds `rm_orders` from order events, and the order's payment fields from the events
/// of the payment stream with the same id.
#[derive(Debug, Clone, Copy, Default)]
pub struct Orders;

/// An event the order read model follows.
pub(crate) enum Followed {
    Order(order::Event),
    Payment(payment::Event),
}

#[async_trait]
impl Projection for Orders {
    fn name(&self) -> &'static str {
        "orders"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["rm_orders"]
    }

    fn follows(&self) -> &'static [&'static str] {
        Self::FOLLOWS
    }

    async fn apply(&self, tx: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), Error> {
        rows::apply::<Self>(self.name(), tx, events).await
    }
}

impl Rows for Orders {
    type Key = Uuid;
    type Row = Row;
    type Event = Followed;

    const FOLLOWS: &'static [&'static str] = &["order", "payment"];

    fn pick(event: DomainEvent) -> Option<Followed> {
        match event {
            DomainEvent::Order(event) => Some(Followed::Order(event)),
            DomainEvent::Payment(event) => Some(Followed::Payment(event)),
            _ => None,
        }
    }

    fn key(event: &RecordedEvent) -> Result<Uuid, Error> {
        stream_uuid(event)
    }

    async fn load(tx: &mut PgConnection, ids: &[Uuid]) -> Result<HashMap<Uuid, Row>, Error> {
        let rows = sqlx::query(
            "SELECT id, customer_id, status, cancellation_reason, currency, total_minor, lines,
                 payment_status, payment_amount_minor, timeline, version, payment_version,
                 placed_at, updated_at
             FROM rm_orders WHERE id = ANY($1) FOR UPDATE",
        )
        .bind(ids)
        .fetch_all(&mut *tx)
        .await?;
        rows.into_iter()
            .map(|row| {
                let order = Row {
                    customer_id: row.try_get("customer_id")?,
                    status: row.try_get("status")?,
                    cancellation_reason: row.try_get("cancellation_reason")?,
                    currency: row.try_get("currency")?,
                    total_minor: row.try_get("total_minor")?,
                    lines: row.try_get("lines")?,
                    payment_status: row.try_get("payment_status")?,
                    payment_amount_minor: row.try_get("payment_amount_minor")?,
                    timeline: row.try_get("timeline")?,
                    version: row.try_get("version")?,
                    payment_version: row.try_get("payment_version")?,
                    placed_at: row.try_get("placed_at")?,
                    updated_at: row.try_get("updated_at")?,
                };
                Ok((row.try_get("id")?, order))
            })
            .collect()
    }

    fn fold(
        rows: &mut HashMap<Uuid, Row>,
        key: &Uuid,
        record: &RecordedEvent,
        event: &Followed,
    ) -> Result<bool, Error> {
        match event {
            Followed::Order(event) => fold_order(rows, key, record, event),
            Followed::Payment(event) => Ok(fold_payment(rows, key, record, event)),
        }
    }

    async fn store(tx: &mut PgConnection, rows: Vec<(Uuid, Row)>) -> Result<(), Error> {
        let mut c = Columns::default();
        for (id, row) in rows {
            c.id.push(id);
            c.customer_id.push(row.customer_id);
            c.status.push(row.status);
            c.cancellation_reason.push(row.cancellation_reason);
            c.currency.push(row.currency);
            c.total_minor.push(row.total_minor);
            c.lines.push(row.lines);
            c.payment_status.push(row.payment_status);
            c.payment_amount_minor.push(row.payment_amount_minor);
            c.timeline.push(row.timeline);
            c.version.push(row.version);
            c.payment_version.push(row.payment_version);
            c.placed_at.push(row.placed_at);
            c.updated_at.push(row.updated_at);
        }
        sqlx::query(
            "INSERT INTO rm_orders (id, customer_id, status, cancellation_reason, currency,
                 total_minor, lines, payment_status, payment_amount_minor, timeline, version,
                 payment_version, placed_at, updated_at)
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                 $6::int8[], $7::jsonb[], $8::text[], $9::int8[], $10::jsonb[], $11::int8[],
                 $12::int8[], $13::timestamptz[], $14::timestamptz[])
             ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status,
                 cancellation_reason = EXCLUDED.cancellation_reason,
                 payment_status = EXCLUDED.payment_status,
                 payment_amount_minor = EXCLUDED.payment_amount_minor,
                 timeline = EXCLUDED.timeline, version = EXCLUDED.version,
                 payment_version = EXCLUDED.payment_version, updated_at = EXCLUDED.updated_at",
        )
        .bind(c.id)
        .bind(c.customer_id)
        .bind(c.status)
        .bind(c.cancellation_reason)
        .bind(c.currency)
        .bind(c.total_minor)
        .bind(c.lines)
        .bind(c.payment_status)
        .bind(c.payment_amount_minor)
        .bind(c.timeline)
        .bind(c.version)
        .bind(c.payment_version)
        .bind(c.placed_at)
        .bind(c.updated_at)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

/// An order's row as the batch leaves it.
#[derive(Debug)]
pub(crate) struct Row {
    customer_id: String,
    status: String,
    cancellation_reason: Option<String>,
    currency: String,
    total_minor: i64,
    lines: Value,
    payment_status: Option<String>,
    payment_amount_minor: Option<i64>,
    timeline: Value,
    version: i64,
    payment_version: i64,
    placed_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// `rows` after an order event: placing adds the row; any later event appends to its
/// timeline and may set its status, unless the row already reflects its version.
fn fold_order(
    rows: &mut HashMap<Uuid, Row>,
    id: &Uuid,
    event: &RecordedEvent,
    order_event: &order::Event,
) -> Result<bool, Error> {
    let at = match order_event {
        order::Event::Placed { at, .. }
        | order::Event::Confirmed { at }
        | order::Event::Cancelled { at, .. }
        | order::Event::Shipped { at } => instant(*at)?,
        order::Event::LineReserved { .. } | order::Event::Paid => event.recorded_at,
    };
    let entry = json!({ "at": at, "event": event.event_type });
    if let order::Event::Placed {
        customer,
        currency,
        lines,
        total,
        ..
    } = order_event
    {
        if rows.contains_key(id) {
            return Ok(false);
        }
        let lines = lines
            .iter()
            .map(|line| {
                let total = line.total().ok_or_else(|| {
                    Error::Unexpected(format!("line total of {} overflows", line.sku))
                })?;
                Ok(json!({
                    "sku": line.sku.as_str(),
                    "quantity": line.quantity.get(),
                    "unitPriceMinor": line.unit_price.minor(),
                    "lineTotalMinor": total.minor(),
                }))
            })
            .collect::<Result<Vec<Value>, Error>>()?;
        let row = Row {
            customer_id: customer.as_str().to_owned(),
            status: order::Status::Pending.as_str().to_owned(),
            cancellation_reason: None,
            currency: currency.as_str().to_owned(),
            total_minor: total.minor(),
            lines: Value::Array(lines),
            payment_status: None,
            payment_amount_minor: None,
            timeline: Value::Array(vec![entry]),
            version: event.version,
            payment_version: 0,
            placed_at: at,
            updated_at: at,
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
    let status = match order_event {
        order::Event::Confirmed { .. } => Some(order::Status::Confirmed),
        order::Event::Cancelled { reason, .. } => {
            row.cancellation_reason = Some(reason.as_str().to_owned());
            Some(order::Status::Cancelled(*reason))
        }
        order::Event::Shipped { .. } => Some(order::Status::Shipped),
        _ => None,
    };
    if let Some(status) = status {
        status.as_str().clone_into(&mut row.status);
    }
    match &mut row.timeline {
        Value::Array(entries) => entries.push(entry),
        other => *other = Value::Array(vec![entry]),
    }
    row.version = event.version;
    row.updated_at = row.updated_at.max(at);
    Ok(true)
}

/// `rows` after a payment event: the order's payment fields. A payment stream shares its
/// order's id and starts after the order is placed, so the row exists; its own version is
/// kept in `payment_version`.
fn fold_payment(
    rows: &mut HashMap<Uuid, Row>,
    id: &Uuid,
    event: &RecordedEvent,
    payment_event: &payment::Event,
) -> bool {
    let Some(row) = rows.get_mut(id) else {
        return false;
    };
    if event.version <= row.payment_version {
        return false;
    }
    if let Some(status) = wire_status(payment_event) {
        row.payment_status = Some(status.to_owned());
    }
    if let payment::Event::Requested { amount, .. }
    | payment::Event::Authorized { amount, .. }
    | payment::Event::Refunded { amount } = payment_event
    {
        row.payment_amount_minor = Some(amount.minor());
    }
    row.payment_version = event.version;
    row.updated_at = row.updated_at.max(event.recorded_at);
    true
}

/// The changed rows, column by column, as `UNNEST` takes them.
#[derive(Default)]
struct Columns {
    id: Vec<Uuid>,
    customer_id: Vec<String>,
    status: Vec<String>,
    cancellation_reason: Vec<Option<String>>,
    currency: Vec<String>,
    total_minor: Vec<i64>,
    lines: Vec<Value>,
    payment_status: Vec<Option<String>>,
    payment_amount_minor: Vec<Option<i64>>,
    timeline: Vec<Value>,
    version: Vec<i64>,
    payment_version: Vec<i64>,
    placed_at: Vec<DateTime<Utc>>,
    updated_at: Vec<DateTime<Utc>>,
}
