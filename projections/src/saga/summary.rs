//! How many sagas stand in each phase and how many dead letters wait: the saga's metrics.

use sqlx::{PgPool, Row};

use crate::Error;

/// The sagas at a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SagaSummary {
    /// `(phase, count)` for every phase with at least one saga.
    pub by_phase: Vec<(String, i64)>,
    /// Dead letters waiting for an operator.
    pub dead_letters: i64,
    /// Payment deadlines running.
    pub deadlines: i64,
}

/// The sagas at a glance.
///
/// # Errors
/// [`Error::Database`].
pub async fn summary(pool: &PgPool) -> Result<SagaSummary, Error> {
    let rows = sqlx::query(
        "SELECT phase, count(*) AS sagas FROM saga_fulfilments GROUP BY phase ORDER BY phase",
    )
    .fetch_all(pool)
    .await?;
    let by_phase = rows
        .iter()
        .map(|row| Ok((row.try_get("phase")?, row.try_get("sagas")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let (dead_letters, deadlines): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM saga_dead_letters), (SELECT count(*) FROM saga_deadlines)",
    )
    .fetch_one(pool)
    .await?;
    Ok(SagaSummary {
        by_phase,
        dead_letters,
        deadlines,
    })
}
