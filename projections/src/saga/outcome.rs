//! What taking one step leaves behind, stored in one fenced statement: the saga's new state
//! (with the step's position), its payment deadline started or cleared, and the dead letters
//! of actions that failed for good. Steps of several orders taken at the same time are
//! stored together ([`store_all`], through the runner's writer).
//!
//! One statement is one round trip and its own transaction: the fence's epoch is checked
//! and share-locked in the same snapshot that writes, so a runner that lost its lock stores
//! nothing, and no transaction is ever left open between statements for a lost connection
//! to strand with its locks.

use application::saga::{Failure, Saga, StepRecord};
use chrono::{DateTime, Utc};
use domain::fulfilment::Phase;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::dead_letters::{Place, index};
use super::state::phase_name;
use crate::Error;

/// What becomes of the order's payment deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// It stays as it is.
    Keep,
    /// It starts, due then (one already running stays as it is).
    Start(DateTime<Utc>),
    /// It is removed: the saga has reached an outcome.
    Clear,
}

/// One step's outcome for [`store`].
#[derive(Debug)]
pub struct Outcome<'a> {
    /// The saga with the step taken.
    pub saga: &'a Saga,
    /// Its phase now.
    pub phase: Phase,
    /// Its deadline.
    pub deadline: Deadline,
    /// The actions that failed for good: where, which, and why.
    pub dead_letters: &'a [(Place, String, Failure)],
    /// The event the step came from, as the dead letters show it.
    pub cause: &'a Value,
}

/// Stores `outcome` if `epoch` is still the epoch of fence `name`.
///
/// # Errors
/// [`Error::Fenced`] when another runner has taken over (nothing is stored);
/// [`Error::Database`].
pub async fn store(
    pool: &PgPool,
    name: &'static str,
    epoch: i64,
    outcome: &Outcome<'_>,
) -> Result<(), Error> {
    store_all(pool, name, epoch, &[Row::of(outcome)?]).await
}

/// One step's outcome as [`store_all`] writes it: owned, so that it can wait for others
/// to be written with it.
#[derive(Debug)]
pub struct Row {
    order: Uuid,
    correlation_id: Uuid,
    phase: &'static str,
    steps: Value,
    transaction_id: String,
    position: i64,
    deadline: Deadline,
    /// Step index, action index, action, error, attempts of each dead letter.
    letters: Vec<(i32, i32, String, String, i32)>,
    cause: Value,
}

impl Row {
    /// `outcome`, owned.
    ///
    /// # Errors
    /// [`Error::Unexpected`] for a step or action index beyond what the table holds.
    pub fn of(outcome: &Outcome<'_>) -> Result<Self, Error> {
        let saga = outcome.saga;
        let records: Vec<StepRecord> = saga.steps.iter().map(StepRecord::from).collect();
        let letters = outcome
            .dead_letters
            .iter()
            .map(|(place, action, failure)| {
                Ok((
                    index(place.step)?,
                    index(place.action)?,
                    action.clone(),
                    failure.error.clone(),
                    i32::try_from(failure.attempts).unwrap_or(i32::MAX),
                ))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Self {
            order: saga.order,
            correlation_id: saga.correlation_id,
            phase: phase_name(outcome.phase),
            steps: serde_json::to_value(records).map_err(|e| Error::Unexpected(e.to_string()))?,
            transaction_id: saga.position.transaction_id.to_string(),
            position: saga.position.position,
            deadline: outcome.deadline,
            letters,
            cause: outcome.cause.clone(),
        })
    }
}

/// Stores the outcomes `rows` (of distinct orders) in one statement if `epoch` is still the
/// epoch of fence `name`: all of them, or none.
///
/// # Errors
/// [`Error::Fenced`] when another runner has taken over (nothing is stored);
/// [`Error::Database`].
pub async fn store_all(
    pool: &PgPool,
    name: &'static str,
    epoch: i64,
    rows: &[Row],
) -> Result<(), Error> {
    let orders: Vec<Uuid> = rows.iter().map(|r| r.order).collect();
    let correlations: Vec<Uuid> = rows.iter().map(|r| r.correlation_id).collect();
    let phases: Vec<&str> = rows.iter().map(|r| r.phase).collect();
    let steps: Vec<&Value> = rows.iter().map(|r| &r.steps).collect();
    let transactions: Vec<&str> = rows.iter().map(|r| r.transaction_id.as_str()).collect();
    let positions: Vec<i64> = rows.iter().map(|r| r.position).collect();
    let starts: Vec<Option<DateTime<Utc>>> = rows
        .iter()
        .map(|r| match r.deadline {
            Deadline::Start(due) => Some(due),
            Deadline::Keep | Deadline::Clear => None,
        })
        .collect();
    let clears: Vec<bool> = rows.iter().map(|r| r.deadline == Deadline::Clear).collect();
    let letters = rows
        .iter()
        .flat_map(|r| r.letters.iter().map(move |letter| (r, letter)));
    let (mut letter_orders, mut letter_steps, mut letter_actions, mut letter_names) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut letter_errors, mut letter_attempts, mut letter_causes) =
        (Vec::new(), Vec::new(), Vec::new());
    for (row, (step, action, action_name, error, attempts)) in letters {
        letter_orders.push(row.order);
        letter_steps.push(*step);
        letter_actions.push(*action);
        letter_names.push(action_name.as_str());
        letter_errors.push(error.as_str());
        letter_attempts.push(*attempts);
        letter_causes.push(&row.cause);
    }
    let held: i64 = sqlx::query_scalar(
        "WITH fence AS (
             SELECT epoch FROM runner_fences WHERE name = $1 AND epoch = $2 FOR SHARE
         ), step AS (
             SELECT * FROM unnest($3::uuid[], $4::uuid[], $5::text[], $6::jsonb[], $7::text[],
                                  $8::bigint[], $9::timestamptz[], $10::bool[])
                 AS s (order_id, correlation_id, phase, steps, transaction_id, position,
                       due_at, clear)
         ), saved AS (
             INSERT INTO saga_fulfilments
                 (order_id, correlation_id, phase, steps, last_transaction_id, last_position)
             SELECT s.order_id, s.correlation_id, s.phase, s.steps, s.transaction_id::xid8,
                    s.position
             FROM step s, fence
             ON CONFLICT (order_id) DO UPDATE
             SET phase = EXCLUDED.phase, steps = EXCLUDED.steps,
                 last_transaction_id = EXCLUDED.last_transaction_id,
                 last_position = EXCLUDED.last_position, updated_at = now()
         ), started AS (
             INSERT INTO saga_deadlines (order_id, due_at)
             SELECT s.order_id, s.due_at FROM step s, fence WHERE s.due_at IS NOT NULL
             ON CONFLICT (order_id) DO NOTHING
         ), cleared AS (
             DELETE FROM saga_deadlines d USING step s
             WHERE d.order_id = s.order_id AND s.clear AND EXISTS (SELECT 1 FROM fence)
         ), letters AS (
             INSERT INTO saga_dead_letters
                 (order_id, step_index, action_index, action, cause, error, attempts)
             SELECT l.order_id, l.step, l.action_index, l.action, l.cause, l.error, l.attempts
             FROM fence,
                  unnest($11::uuid[], $12::int[], $13::int[], $14::text[], $15::text[],
                         $16::int[], $17::jsonb[])
                      AS l (order_id, step, action_index, action, error, attempts, cause)
             ON CONFLICT (order_id, step_index, action_index) DO UPDATE
             SET error = EXCLUDED.error, action = EXCLUDED.action,
                 attempts = saga_dead_letters.attempts + EXCLUDED.attempts,
                 last_failed_at = now()
         )
         SELECT count(*) FROM fence",
    )
    .bind(name)
    .bind(epoch)
    .bind(orders)
    .bind(correlations)
    .bind(phases)
    .bind(steps)
    .bind(transactions)
    .bind(positions)
    .bind(starts)
    .bind(clears)
    .bind(letter_orders)
    .bind(letter_steps)
    .bind(letter_actions)
    .bind(letter_names)
    .bind(letter_errors)
    .bind(letter_attempts)
    .bind(letter_causes)
    .fetch_one(pool)
    .await?;
    if held == 1 {
        Ok(())
    } else {
        Err(Error::Fenced(name))
    }
}
