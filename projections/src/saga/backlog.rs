//! How far behind the saga is, for [`Admission`]: the age of the oldest event after the
//! saga's checkpoint (zero when it has taken everything, has never run on this database, or
//! is parked on an event it cannot read: an operator's matter, not a reason to stop taking
//! orders). One indexed lookup, every `every`.
//!
//! The checkpoint stays behind the oldest step still being taken, and a payment step may
//! take as long as the payment deadline plus one provider call: the limit must be longer
//! than that (the server checks it at start).

use std::sync::Arc;
use std::time::Duration;

use application::Admission;
use sqlx::PgPool;
use tokio::sync::watch;

use super::runner::NAME;
use crate::Error;

/// The age of the oldest event the saga has not taken yet.
///
/// # Errors
/// [`Error::Database`].
pub async fn behind(pool: &PgPool) -> Result<Duration, Error> {
    let seconds: Option<f64> = sqlx::query_scalar(
        "SELECT GREATEST(EXTRACT(EPOCH FROM now() - e.recorded_at), 0)::float8
         FROM projection_checkpoints c
         CROSS JOIN LATERAL (
             SELECT recorded_at FROM events
             WHERE (transaction_id, position) > (c.transaction_id, c.position)
             ORDER BY transaction_id, position
             LIMIT 1
         ) e
         WHERE c.name = $1 AND c.state IS DISTINCT FROM 'parked'",
    )
    .bind(NAME)
    .fetch_optional(pool)
    .await?;
    Ok(Duration::from_secs_f64(seconds.unwrap_or(0.0).max(0.0)))
}

/// Hands [`behind`] to `admission` every `every` until `shutdown` turns true. A failed
/// look keeps the last one (a database that cannot be read fails the orders anyway).
pub async fn watch(
    pool: PgPool,
    admission: Arc<Admission>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        match behind(&pool).await {
            Ok(behind) => admission.observe(behind),
            Err(error) => tracing::debug!(%error, "cannot tell how far behind fulfilment is"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}
