//! Actions the saga gave up on (`saga_dead_letters`): recorded, listed, and redriven by an
//! operator.

use application::saga::{self, Carried, Failure, Fulfil, Reconciled};
use domain::fulfilment::{Action, Phase};
use serde_json::Value;
use sqlx::{Connection, PgConnection, PgPool, Row};
use uuid::Uuid;

pub use application::operations::{DeadLetter, Redrive};

use super::state;
use crate::Error;

/// Where a dead letter sits in its saga: the step and the action within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// The order.
    pub order: Uuid,
    /// The step's index in the saga.
    pub step: usize,
    /// The action's index among the step's actions.
    pub action: usize,
}

/// A saga index as stored.
pub(super) fn index(value: usize) -> Result<i32, Error> {
    i32::try_from(value).map_err(|_| Error::Unexpected(format!("saga index {value}")))
}

/// Dead letters after id `after`, oldest first, at most `limit`.
///
/// # Errors
/// [`Error::Database`].
pub async fn list(pool: &PgPool, after: Option<i64>, limit: i64) -> Result<Vec<DeadLetter>, Error> {
    let rows = sqlx::query(
        "SELECT id, order_id, action, cause, error, attempts, first_failed_at, last_failed_at
         FROM saga_dead_letters WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after.unwrap_or(0))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(DeadLetter {
                id: row.try_get("id")?,
                order: row.try_get("order_id")?,
                action: row.try_get("action")?,
                cause: row.try_get("cause")?,
                error: row.try_get("error")?,
                attempts: row.try_get("attempts")?,
                first_failed_at: row.try_get("first_failed_at")?,
                last_failed_at: row.try_get("last_failed_at")?,
            })
        })
        .collect()
}

/// The advisory lock a redrive of dead letter `id` holds: one redrive of a letter at a
/// time, across processes.
#[must_use]
pub fn redrive_lock(id: i64) -> String {
    format!("dead-letter:{id}")
}

/// Carries out the dead letter `id` again, and the actions of its step after it; removes it
/// when they all go through. One redrive of a letter runs at a time (two operators, or the
/// command line and the dashboard, cannot carry out its actions twice at once).
///
/// # Errors
/// [`Error::Application`] (`NotFound`) for an unknown id, (`Busy`) while another redrive of
/// it runs; [`Error::Database`].
pub async fn redrive(pool: &PgPool, fulfil: &Fulfil, id: i64) -> Result<Redrive, Error> {
    let Some(held) = crate::lock::try_take(pool, &redrive_lock(id)).await? else {
        return Err(Error::Application(application::Error::Busy(format!(
            "dead letter {id} is being redriven; look again once that is done"
        ))));
    };
    let outcome = redrive_held(pool, fulfil, id).await;
    let _ = held.close().await;
    outcome
}

/// [`redrive`], its lock held.
async fn redrive_held(pool: &PgPool, fulfil: &Fulfil, id: i64) -> Result<Redrive, Error> {
    let mut conn = pool.acquire().await?;
    let row = sqlx::query(
        "SELECT order_id, step_index, action_index, cause, attempts
         FROM saga_dead_letters WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| not_found(id))?;
    let order: Uuid = row.try_get("order_id")?;
    let step_index = usize::try_from(row.try_get::<i32, _>("step_index")?).unwrap_or(0);
    let action_index = usize::try_from(row.try_get::<i32, _>("action_index")?).unwrap_or(0);
    let cause: Value = row.try_get("cause")?;
    let saga = state::load(&mut conn, order)
        .await?
        .ok_or_else(|| Error::Unexpected(format!("dead letter {id} names no saga")))?;
    let step = saga
        .steps
        .get(step_index)
        .cloned()
        .ok_or_else(|| Error::Unexpected(format!("dead letter {id} names no step")))?;
    let actions = saga.fold(step_index).on(step.clone());
    let causation = cause
        .get("eventId")
        .and_then(Value::as_str)
        .and_then(|id| Uuid::parse_str(id).ok());
    let act_cause = saga::cause_of(&saga, &step, causation);
    if matches!(
        actions.get(action_index),
        Some(Action::ChargePayment { .. })
    ) {
        // Before a charge is made again or discarded, the provider says what became of
        // the one that failed: money it captured is recorded (and refunded if the order
        // was given up meanwhile), never dropped with the letter.
        drop(conn);
        let still_paying = saga.current().phase() == Phase::Paying;
        match fulfil.reconcile_charge(&act_cause).await {
            Ok(Reconciled::Recorded) => return remove(pool, id).await,
            Ok(Reconciled::NotCharged) if !still_paying => return remove(pool, id).await,
            Ok(Reconciled::NotCharged) => {}
            Ok(Reconciled::Pending) => {
                let failure = Failure {
                    error: "the payment provider is still processing the charge".into(),
                    attempts: 1,
                };
                return failed_again(pool, id, action_index, &actions, failure).await;
            }
            Err(failure) => {
                return failed_again(pool, id, action_index, &actions, failure).await;
            }
        }
    } else {
        drop(conn);
    }
    // No connection is held while actions run: they need connections of their own.
    let carried: Carried = saga::carry_out(fulfil, &actions, action_index, &act_cause, true).await;
    let mut tx = crate::transaction::begin(pool).await?;
    if carried.deadline {
        let due = state::due_in(fulfil.options().payment_timeout);
        state::schedule_deadline(&mut tx, order, due).await?;
    }
    // A step found out during a redrive (a line whose product is not registered) is the
    // runner's to take; the redrive cannot feed it to the saga, so it says so and the letter
    // stays for the operator.
    let failed = carried.failed.or_else(|| {
        let step = carried.follow_ups.first()?;
        let action = actions.get(action_index)?.clone();
        let error = format!("the redrive found {step:?}; register the product and retry");
        Some((action_index, action, Failure { error, attempts: 1 }))
    });
    let outcome = match failed {
        None => {
            sqlx::query("DELETE FROM saga_dead_letters WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            Redrive::Completed
        }
        Some((at, action, failure)) => record_failure(&mut tx, id, at, &action, failure).await?,
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Removes letter `id`: what it asked for is done, or no longer needed.
async fn remove(pool: &PgPool, id: i64) -> Result<Redrive, Error> {
    sqlx::query("DELETE FROM saga_dead_letters WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(Redrive::Completed)
}

/// Records that letter `id` failed again at its action `at`.
async fn failed_again(
    pool: &PgPool,
    id: i64,
    at: usize,
    actions: &[Action],
    failure: Failure,
) -> Result<Redrive, Error> {
    let action = actions
        .get(at)
        .cloned()
        .ok_or_else(|| Error::Unexpected(format!("dead letter {id} names no action")))?;
    let mut tx = crate::transaction::begin(pool).await?;
    let outcome = record_failure(&mut tx, id, at, &action, failure).await?;
    tx.commit().await?;
    Ok(outcome)
}

async fn record_failure(
    tx: &mut PgConnection,
    id: i64,
    at: usize,
    action: &Action,
    failure: Failure,
) -> Result<Redrive, Error> {
    let attempts: Option<i32> = sqlx::query_scalar(
        "UPDATE saga_dead_letters
         SET action_index = $2, action = $3, error = $4,
             attempts = attempts + $5, last_failed_at = now()
         WHERE id = $1 RETURNING attempts",
    )
    .bind(id)
    .bind(index(at)?)
    .bind(saga::describe(action))
    .bind(&failure.error)
    .bind(i32::try_from(failure.attempts).unwrap_or(i32::MAX))
    .fetch_optional(&mut *tx)
    .await?;
    // Another redrive of the same letter completed (and removed it) meanwhile.
    let attempts = attempts.ok_or_else(|| not_found(id))?;
    Ok(Redrive::Failed {
        error: failure.error,
        attempts,
    })
}

fn not_found(id: i64) -> Error {
    Error::Application(application::Error::NotFound {
        what: format!("dead letter {id}"),
    })
}
