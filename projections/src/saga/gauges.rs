//! The saga's gauges, kept by its runner: sagas by phase, dead letters waiting, payment
//! deadlines running. A tenure counts the sagas by phase once, when it starts, and then
//! moves each saga between the gauges as it stores its new phase; the two small tables of
//! work waiting (dead letters, deadlines) are counted again every second. When the tenure
//! ends they turn 0 in its process, so that only the runner that holds the lock speaks.

use application::instruments::{SAGA_DEAD_LETTERS, SAGA_DEADLINES, SAGAS};
use application::queries::Tally;
use domain::fulfilment::Phase;
use domain::order::CancellationReason;
use sqlx::PgPool;

use super::state::phase_name;
use crate::Error;

/// Every phase's name, so that each has a series (0 when no saga stands in it).
fn phases() -> [&'static str; 6] {
    [
        Phase::NotStarted,
        Phase::Reserving,
        Phase::Paying,
        Phase::Confirming,
        Phase::Confirmed,
        Phase::Cancelled(CancellationReason::OutOfStock),
    ]
    .map(phase_name)
}

/// Sets the gauge of every phase to the sagas stored in it: one pass over the sagas, when
/// a runner's tenure starts. A failure is logged: the gauges wait for the next tenure.
pub async fn count_phases(pool: &PgPool) {
    let counts: Vec<(String, i64)> =
        match sqlx::query_as("SELECT phase, count(*) FROM saga_fulfilments GROUP BY phase")
            .fetch_all(pool)
            .await
        {
            Ok(counts) => counts,
            Err(error) => {
                tracing::warn!(%error, "counting the sagas by phase");
                return;
            }
        };
    for phase in phases() {
        let count = counts
            .iter()
            .find(|(name, _)| name == phase)
            .map_or(0, |(_, count)| *count);
        #[allow(clippy::cast_precision_loss)] // beyond 2^53 sagas the gauge rounds
        metrics::gauge!(SAGAS, "phase" => phase).set(count as f64);
    }
}

/// The runner's tenure ended: this process no longer speaks for the sagas (their gauges
/// turn 0 here; the next runner's count sets them where it runs).
pub fn leave() {
    for phase in phases() {
        metrics::gauge!(SAGAS, "phase" => phase).set(0.0);
    }
    metrics::gauge!(SAGA_DEAD_LETTERS).set(0.0);
    metrics::gauge!(SAGA_DEADLINES).set(0.0);
}

/// A saga was stored in phase `to`, having stood in `from` (`None`: it is new).
pub fn moved(from: Option<Phase>, to: Phase) {
    let to = phase_name(to);
    let from = from.map(phase_name);
    if from == Some(to) {
        return;
    }
    if let Some(from) = from {
        metrics::gauge!(SAGAS, "phase" => from).decrement(1.0);
    }
    metrics::gauge!(SAGAS, "phase" => to).increment(1.0);
}

/// Sets the gauges of the dead letters waiting and the deadlines running. A failure is
/// logged: the gauges keep their last values until the next count.
pub async fn count_waiting(pool: &PgPool) {
    let counted: Result<(i64, i64), _> = sqlx::query_as(
        "SELECT (SELECT count(*) FROM saga_dead_letters), (SELECT count(*) FROM saga_deadlines)",
    )
    .fetch_one(pool)
    .await;
    match counted {
        #[allow(clippy::cast_precision_loss)] // both tables hold work waiting: few rows
        Ok((dead_letters, deadlines)) => {
            metrics::gauge!(SAGA_DEAD_LETTERS).set(dead_letters as f64);
            metrics::gauge!(SAGA_DEADLINES).set(deadlines as f64);
        }
        Err(error) => tracing::warn!(%error, "counting the saga's dead letters and deadlines"),
    }
}

/// How many sagas stand in each phase not yet final (through the index on the phase,
/// which skips the final ones).
///
/// # Errors
/// [`Error::Database`].
pub async fn in_flight(pool: &PgPool) -> Result<Vec<Tally>, Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT phase, count(*) FROM saga_fulfilments
         WHERE phase NOT IN ('CONFIRMED', 'CANCELLED')
         GROUP BY phase ORDER BY phase",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Tally::from).collect())
}
