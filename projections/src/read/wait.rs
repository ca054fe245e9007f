//! Read-your-writes: waiting until projections have applied a position.

use std::time::Duration;

use application::event_log::Position;
use sqlx::PgPool;
use tokio::time::Instant;

/// How often the checkpoints are looked at while waiting.
const POLL: Duration = Duration::from_millis(15);

/// Why [`wait_until`] gave up.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// The projections did not reach the position in time.
    #[error("the read model has not caught up with the requested position")]
    Stale,
    /// The position names no event of this log: it was never issued here.
    #[error("consistentWith names no event of this log")]
    Unknown,
    /// The checkpoints could not be read.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// Waits until every projection in `names` has applied `position` (its checkpoint is at
/// or past it in `(transaction_id, position)` order), polling every 15 ms for at most
/// `timeout`. A position that names no event in the log can never be reached: it is
/// answered [`WaitError::Unknown`] at once.
///
/// # Errors
/// [`WaitError::Stale`] on time-out; [`WaitError::Unknown`]; [`WaitError::Database`].
pub async fn wait_until(
    pool: &PgPool,
    names: &[&str],
    position: Position,
    timeout: Duration,
) -> Result<(), WaitError> {
    let deadline = Instant::now() + timeout;
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let wanted = i64::try_from(names.len()).unwrap_or(i64::MAX);
    let mut checked_exists = false;
    loop {
        let reached: i64 = sqlx::query_scalar(
            "SELECT count(DISTINCT name) FROM projection_checkpoints
             WHERE name = ANY($1)
               AND (transaction_id, position) >= ($2::text::xid8, $3)",
        )
        .bind(&names)
        .bind(position.transaction_id.to_string())
        .bind(position.position)
        .fetch_one(pool)
        .await?;
        if reached >= wanted {
            return Ok(());
        }
        if !checked_exists {
            checked_exists = true;
            let exists: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM events
                                WHERE transaction_id = $1::text::xid8 AND position = $2)",
            )
            .bind(position.transaction_id.to_string())
            .bind(position.position)
            .fetch_one(pool)
            .await?;
            if !exists {
                return Err(WaitError::Unknown);
            }
        }
        if Instant::now() + POLL > deadline {
            return Err(WaitError::Stale);
        }
        tokio::time::sleep(POLL).await;
    }
}
