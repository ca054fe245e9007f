//! The payment read model: where each order's payment stands.

use application::event_log::RecordedEvent;
use async_trait::async_trait;
use domain::payment;
use sqlx::PgConnection;

use crate::decode::{DomainEvent, decode, stream_uuid};
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

    async fn apply(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), Error> {
        let Some(DomainEvent::Payment(payment_event)) = decode(event)? else {
            return Ok(());
        };
        let order = stream_uuid(event)?;
        let status = wire_status(&payment_event);
        if let payment::Event::Requested { amount, .. } = &payment_event {
            sqlx::query(
                "INSERT INTO rm_payments (order_id, status, amount_minor, currency, attempts, version)
                 VALUES ($1, $2, $3, $4, 0, $5)
                 ON CONFLICT (order_id) DO NOTHING",
            )
            .bind(order)
            .bind(status)
            .bind(amount.minor())
            .bind(amount.currency().as_str())
            .bind(event.version)
            .execute(&mut *tx)
            .await?;
            return Ok(());
        }
        let attempt = match &payment_event {
            payment::Event::Authorized { attempt, .. }
            | payment::Event::Declined { attempt, .. }
            | payment::Event::FailedTransiently { attempt, .. } => Some(
                i32::try_from(*attempt)
                    .map_err(|_| Error::Unexpected(format!("attempt {attempt} overflows")))?,
            ),
            _ => None,
        };
        sqlx::query(
            "UPDATE rm_payments SET
                 status = coalesce($3, status),
                 attempts = greatest(attempts, coalesce($4, attempts)),
                 version = $2
             WHERE order_id = $1 AND version < $2",
        )
        .bind(order)
        .bind(event.version)
        .bind(status)
        .bind(attempt)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}
