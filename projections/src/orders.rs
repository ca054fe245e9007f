//! The order read model: status, lines, payment and timeline of every order, and through
//! its customer index, each customer's order history.

use application::event_log::RecordedEvent;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{order, payment};
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::decode::{DomainEvent, decode, instant, stream_uuid};
use crate::payments::wire_status;
use crate::{Error, Projection};

/// Builds `rm_orders` from order events, and the order's payment fields from the events
/// of the payment stream with the same id.
#[derive(Debug, Clone, Copy, Default)]
pub struct Orders;

#[async_trait]
impl Projection for Orders {
    fn name(&self) -> &'static str {
        "orders"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["rm_orders"]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), Error> {
        match decode(event)? {
            Some(DomainEvent::Order(e)) => apply_order(tx, event, &e).await,
            Some(DomainEvent::Payment(e)) => apply_payment(tx, event, &e).await,
            _ => Ok(()),
        }
    }
}

async fn apply_order(
    tx: &mut PgConnection,
    event: &RecordedEvent,
    order_event: &order::Event,
) -> Result<(), Error> {
    let id = stream_uuid(event)?;
    let at = match order_event {
        order::Event::Placed { at, .. }
        | order::Event::Confirmed { at }
        | order::Event::Cancelled { at, .. }
        | order::Event::Shipped { at } => instant(*at)?,
        order::Event::LineReserved { .. } | order::Event::Paid => event.recorded_at,
    };
    let entry = json!([{ "at": at, "event": event.event_type }]);
    match order_event {
        order::Event::Placed {
            customer,
            currency,
            lines,
            total,
            ..
        } => {
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
            sqlx::query(
                "INSERT INTO rm_orders (id, customer_id, status, currency, total_minor, lines,
                     timeline, version, placed_at, updated_at)
                 VALUES ($1, $2, 'PENDING', $3, $4, $5, $6, $7, $8, $8)
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(id)
            .bind(customer.as_str())
            .bind(currency.as_str())
            .bind(total.minor())
            .bind(Value::Array(lines))
            .bind(entry)
            .bind(event.version)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            Ok(())
        }
        order::Event::LineReserved { .. } | order::Event::Paid => {
            advance(tx, id, event.version, at, entry, None, None).await
        }
        order::Event::Confirmed { .. } => {
            let status = order::Status::Confirmed.as_str();
            advance(tx, id, event.version, at, entry, Some(status), None).await
        }
        order::Event::Cancelled { reason, .. } => {
            let status = order::Status::Cancelled(*reason).as_str();
            advance(
                tx,
                id,
                event.version,
                at,
                entry,
                Some(status),
                Some(reason.as_str()),
            )
            .await
        }
        order::Event::Shipped { .. } => {
            let status = order::Status::Shipped.as_str();
            advance(tx, id, event.version, at, entry, Some(status), None).await
        }
    }
}

/// Appends `entry` to the timeline and sets the status (and reason) when given, unless the
/// row already reflects `version`.
async fn advance(
    tx: &mut PgConnection,
    id: Uuid,
    version: i64,
    at: DateTime<Utc>,
    entry: Value,
    status: Option<&str>,
    reason: Option<&str>,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE rm_orders SET
             timeline = timeline || $3,
             status = coalesce($4, status),
             cancellation_reason = coalesce($5, cancellation_reason),
             version = $2,
             updated_at = greatest(updated_at, $6)
         WHERE id = $1 AND version < $2",
    )
    .bind(id)
    .bind(version)
    .bind(entry)
    .bind(status)
    .bind(reason)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The order's payment fields. A payment stream shares its order's id and starts after
/// the order is placed, so the row exists; its own version is kept in `payment_version`.
async fn apply_payment(
    tx: &mut PgConnection,
    event: &RecordedEvent,
    payment_event: &payment::Event,
) -> Result<(), Error> {
    let amount = match payment_event {
        payment::Event::Requested { amount, .. }
        | payment::Event::Authorized { amount, .. }
        | payment::Event::Refunded { amount } => Some(amount.minor()),
        _ => None,
    };
    sqlx::query(
        "UPDATE rm_orders SET
             payment_status = coalesce($3, payment_status),
             payment_amount_minor = coalesce($4, payment_amount_minor),
             payment_version = $2,
             updated_at = greatest(updated_at, $5)
         WHERE id = $1 AND payment_version < $2",
    )
    .bind(stream_uuid(event)?)
    .bind(event.version)
    .bind(wire_status(payment_event))
    .bind(amount)
    .bind(event.recorded_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
