//! The saga's gauges, kept by its runner: sagas by phase, dead letters waiting, payment
//! deadlines running. A tenure counts the sagas by phase once, when it starts, and then
//! moves each saga between the gauges as it stores its new phase; the two small tables of
//! work waiting (dead letters, deadlines) are counted again now and then.

use application::instruments::{SAGA_DEAD_LETTERS, SAGA_DEADLINES, SAGAS};
use domain::fulfilment::Phase;
use sqlx::PgPool;

use super::state::phase_name;
use crate::Error;

/// Every phase's name, so that each has a series (0 when no saga stands in it).
const PHASES: [&str; 6] = [
    "NOT_STARTED",
    "RESERVING",
    "PAYING",
    "CONFIRMING",
    "CONFIRMED",
    "CANCELLED",
];

/// Sets the gauge of every phase to the sagas stored in it: one pass over the sagas.
///
/// # Errors
/// [`Error::Database`].
pub async fn count_phases(pool: &PgPool) -> Result<(), Error> {
    let counts: Vec<(String, i64)> =
        sqlx::query_as("SELECT phase, count(*) FROM saga_fulfilments GROUP BY phase")
            .fetch_all(pool)
            .await?;
    for phase in PHASES {
        let count = counts
            .iter()
            .find(|(name, _)| name == phase)
            .map_or(0, |(_, count)| *count);
        #[allow(clippy::cast_precision_loss)] // beyond 2^53 sagas the gauge rounds
        metrics::gauge!(SAGAS, "phase" => phase).set(count as f64);
    }
    Ok(())
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

/// Sets the gauges of the dead letters waiting and the deadlines running.
///
/// # Errors
/// [`Error::Database`].
pub async fn count_waiting(pool: &PgPool) -> Result<(), Error> {
    let (dead_letters, deadlines): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM saga_dead_letters), (SELECT count(*) FROM saga_deadlines)",
    )
    .fetch_one(pool)
    .await?;
    #[allow(clippy::cast_precision_loss)] // both tables hold work waiting: a few thousand rows
    {
        metrics::gauge!(SAGA_DEAD_LETTERS).set(dead_letters as f64);
        metrics::gauge!(SAGA_DEADLINES).set(deadlines as f64);
    }
    Ok(())
}
