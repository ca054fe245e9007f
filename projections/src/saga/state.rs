//! Each order's saga state (`saga_fulfilments`) and payment deadline (`saga_deadlines`).

use application::event_log::Position;
use application::saga::{Saga, StepRecord};
use chrono::{DateTime, Utc};
use domain::fulfilment::{Phase, Step};
use sqlx::types::Json;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::Error;

/// The name of a phase, as stored and shown to operators.
#[must_use]
pub const fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::NotStarted => "NOT_STARTED",
        Phase::Reserving => "RESERVING",
        Phase::Paying => "PAYING",
        Phase::Confirming => "CONFIRMING",
        Phase::Confirmed => "CONFIRMED",
        Phase::Cancelled(_) => "CANCELLED",
    }
}

/// The saga of `order`, if it has been started.
///
/// # Errors
/// [`Error::Database`]; [`Error::Application`] for a stored step that does not decode.
pub async fn load(conn: &mut PgConnection, order: Uuid) -> Result<Option<Saga>, Error> {
    let row = sqlx::query(
        "SELECT correlation_id, steps, last_transaction_id::text AS last_transaction_id,
                last_position
         FROM saga_fulfilments WHERE order_id = $1",
    )
    .bind(order)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let Json(records): Json<Vec<StepRecord>> = row.try_get("steps")?;
    let transaction_id: String = row.try_get("last_transaction_id")?;
    Ok(Some(Saga {
        position: Position {
            transaction_id: transaction_id
                .parse()
                .map_err(|_| Error::Unexpected(format!("transaction id {transaction_id:?}")))?,
            position: row.try_get("last_position")?,
        },
        order,
        correlation_id: row.try_get("correlation_id")?,
        steps: records
            .into_iter()
            .map(Step::try_from)
            .collect::<Result<_, _>>()?,
    }))
}

/// When a deadline of `timeout` from now falls due (the far future for a timeout too long
/// to represent).
#[must_use]
pub fn due_in(timeout: std::time::Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(timeout)
        .ok()
        .and_then(|timeout| Utc::now().checked_add_signed(timeout))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Starts the payment deadline of `order` (a deadline already running stays as it is).
///
/// # Errors
/// [`Error::Database`].
pub async fn schedule_deadline(
    conn: &mut PgConnection,
    order: Uuid,
    due_at: DateTime<Utc>,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO saga_deadlines (order_id, due_at) VALUES ($1, $2)
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(order)
    .bind(due_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes the payment deadline of `order`.
///
/// # Errors
/// [`Error::Database`].
pub async fn clear_deadline(conn: &mut PgConnection, order: Uuid) -> Result<(), Error> {
    sqlx::query("DELETE FROM saga_deadlines WHERE order_id = $1")
        .bind(order)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Orders whose payment deadline has passed, earliest first, at most `limit`.
///
/// # Errors
/// [`Error::Database`].
pub async fn due_deadlines(conn: &mut PgConnection, limit: i64) -> Result<Vec<Uuid>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT order_id FROM saga_deadlines WHERE due_at <= now() ORDER BY due_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}
