//! What taking one step leaves behind, stored in one fenced statement: the saga's new state
//! (with the step's position), its payment deadline started or cleared, and the dead letters
//! of actions that failed for good.
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
use sqlx::types::Json;

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
    let saga = outcome.saga;
    let records: Vec<StepRecord> = saga.steps.iter().map(StepRecord::from).collect();
    let (start, due, clear) = match outcome.deadline {
        Deadline::Keep => (false, None, false),
        Deadline::Start(due) => (true, Some(due), false),
        Deadline::Clear => (false, None, true),
    };
    let letters = outcome.dead_letters;
    let steps = letters
        .iter()
        .map(|(p, ..)| index(p.step))
        .collect::<Result<Vec<_>, _>>()?;
    let actions = letters
        .iter()
        .map(|(p, ..)| index(p.action))
        .collect::<Result<Vec<_>, _>>()?;
    let names: Vec<&str> = letters
        .iter()
        .map(|(_, action, _)| action.as_str())
        .collect();
    let errors: Vec<&str> = letters.iter().map(|(.., f)| f.error.as_str()).collect();
    let attempts: Vec<i32> = letters
        .iter()
        .map(|(.., f)| i32::try_from(f.attempts).unwrap_or(i32::MAX))
        .collect();
    let held: i64 = sqlx::query_scalar(
        "WITH fence AS (
             SELECT epoch FROM runner_fences WHERE name = $1 AND epoch = $2 FOR SHARE
         ), saved AS (
             INSERT INTO saga_fulfilments
                 (order_id, correlation_id, phase, steps, last_transaction_id, last_position)
             SELECT $3, $4, $5, $6, $7::text::xid8, $8 FROM fence
             ON CONFLICT (order_id) DO UPDATE
             SET phase = EXCLUDED.phase, steps = EXCLUDED.steps,
                 last_transaction_id = EXCLUDED.last_transaction_id,
                 last_position = EXCLUDED.last_position, updated_at = now()
         ), started AS (
             INSERT INTO saga_deadlines (order_id, due_at)
             SELECT $3, $10 FROM fence WHERE $9
             ON CONFLICT (order_id) DO NOTHING
         ), cleared AS (
             DELETE FROM saga_deadlines
             WHERE order_id = $3 AND $11 AND EXISTS (SELECT 1 FROM fence)
         ), letters AS (
             INSERT INTO saga_dead_letters
                 (order_id, step_index, action_index, action, cause, error, attempts)
             SELECT $3, l.step, l.action_index, l.action, $12, l.error, l.attempts
             FROM fence,
                  unnest($13::int[], $14::int[], $15::text[], $16::text[], $17::int[])
                      AS l (step, action_index, action, error, attempts)
             ON CONFLICT (order_id, step_index, action_index) DO UPDATE
             SET error = EXCLUDED.error, action = EXCLUDED.action,
                 attempts = saga_dead_letters.attempts + EXCLUDED.attempts,
                 last_failed_at = now()
         )
         SELECT count(*) FROM fence",
    )
    .bind(name)
    .bind(epoch)
    .bind(saga.order)
    .bind(saga.correlation_id)
    .bind(phase_name(outcome.phase))
    .bind(Json(records))
    .bind(saga.position.transaction_id.to_string())
    .bind(saga.position.position)
    .bind(start)
    .bind(due)
    .bind(clear)
    .bind(outcome.cause)
    .bind(steps)
    .bind(actions)
    .bind(names)
    .bind(errors)
    .bind(attempts)
    .fetch_one(pool)
    .await?;
    if held == 1 {
        Ok(())
    } else {
        Err(Error::Fenced(name))
    }
}
