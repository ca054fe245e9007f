//! How far behind the log a follower (a projection's worker, the saga's runner) stands,
//! kept in its gauges by the follower itself as it goes, so that a scrape of `/metrics`
//! reads numbers and counts nothing.
//!
//! A look that brought less than a full batch found the end of what it may read: the lag is
//! what the follower has read but not finished (nothing, for a worker, once its batch
//! commits). A full batch, an empty look, or a follower's start count what waits after its
//! position: at most [`MOST_COUNTED`] events and at most once per [`COUNT_EVERY`] (between
//! counts, the events applied are taken off the last count). An empty look counts because
//! reads stop below the oldest transaction still running: a transaction held open anywhere
//! in the cluster stalls every follower, and the count shows the events piling up behind it.
//!
//! Only the follower that holds the lock keeps these gauges: `domainflow_projection_active`
//! is 1 in that process, and the process that lets the lock go sets its lag to 0 and
//! `active` to 0, so that another instance's old numbers never linger.

use std::time::{Duration, Instant};

use application::event_log::Position;
use application::instruments::{
    PROJECTION_ACTIVE, PROJECTION_EVENTS, PROJECTION_LAG_EVENTS, PROJECTION_LAG_SECONDS,
    PROJECTION_PARKED,
};
use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// The most events counted: a lag beyond it shows as this.
pub const MOST_COUNTED: i64 = 100_000;

/// The shortest interval between two counts.
pub const COUNT_EVERY: Duration = Duration::from_secs(1);

/// The last count of what waits.
#[derive(Debug, Clone, Copy)]
struct Count {
    at: Instant,
    /// Events after the position counted from, less those applied since.
    waiting: i64,
    /// When the first of them was recorded.
    first: Option<DateTime<Utc>>,
}

/// The lag gauges of the follower that holds the lock. See the module documentation.
#[derive(Debug)]
pub struct Lag {
    name: &'static str,
    pool: PgPool,
    counted: Option<Count>,
}

impl Lag {
    /// The gauges of follower `name`, counting through `pool`.
    #[must_use]
    pub fn new(name: &'static str, pool: PgPool) -> Self {
        Self {
            name,
            pool,
            counted: None,
        }
    }

    /// The follower holds its lock in this process: its `active` gauge turns 1 (and back to
    /// 0 when this is dropped).
    #[must_use]
    pub fn holding(self) -> Self {
        metrics::gauge!(PROJECTION_ACTIVE, "projection" => self.name).set(1.0);
        self
    }

    /// The follower took `events` more events.
    pub fn applied(&mut self, events: usize) {
        metrics::counter!(PROJECTION_EVENTS, "projection" => self.name)
            .increment(u64::try_from(events).unwrap_or(u64::MAX));
        if let Some(count) = &mut self.counted {
            count.waiting = count.waiting.saturating_sub(to_i64(events)).max(0);
        }
    }

    /// The follower has read all it may; `pending` events it read are not done yet, the
    /// oldest of them recorded at `oldest`.
    pub fn caught_up(&mut self, pending: usize, oldest: Option<DateTime<Utc>>) {
        self.counted = None;
        self.set(to_i64(pending), oldest.map_or(0.0, age));
    }

    /// More events may wait after `after` (a full batch, an empty look, a start): counts
    /// them, unless it did less than [`COUNT_EVERY`] ago. `pending` events read are not
    /// done yet, the oldest of them recorded at `oldest` (or, when none is pending, the
    /// oldest event not taken yet is no older than `oldest`).
    pub async fn measure(
        &mut self,
        after: Position,
        pending: usize,
        oldest: Option<DateTime<Utc>>,
    ) {
        let count = match self.counted {
            Some(count) if count.at.elapsed() < COUNT_EVERY => count,
            _ => match count_after(&self.pool, after).await {
                Ok((waiting, first)) => {
                    let count = Count {
                        at: Instant::now(),
                        waiting,
                        first,
                    };
                    self.counted = Some(count);
                    count
                }
                Err(error) => {
                    tracing::debug!(%error, "counting the events not applied yet");
                    return;
                }
            },
        };
        let seconds = if pending == 0 && count.waiting == 0 {
            0.0
        } else {
            oldest.or(count.first).map_or(0.0, age)
        };
        self.set(to_i64(pending).saturating_add(count.waiting), seconds);
    }

    #[allow(clippy::cast_precision_loss)] // a lag beyond 2^53 events shows rounded
    fn set(&self, events: i64, seconds: f64) {
        metrics::gauge!(PROJECTION_LAG_EVENTS, "projection" => self.name).set(events as f64);
        metrics::gauge!(PROJECTION_LAG_SECONDS, "projection" => self.name).set(seconds);
    }
}

impl Drop for Lag {
    /// The follower stops here (the lock let go, a parked wait over): this process no
    /// longer speaks for it.
    fn drop(&mut self) {
        self.set(0, 0.0);
        metrics::gauge!(PROJECTION_ACTIVE, "projection" => self.name).set(0.0);
    }
}

/// Follower `name` is parked (`true`) or runs, as the database says.
pub fn parked(name: &'static str, parked: bool) {
    metrics::gauge!(PROJECTION_PARKED, "projection" => name).set(f64::from(u8::from(parked)));
}

fn to_i64(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// Seconds since `at`, 0 for a time ahead of this clock.
fn age(at: DateTime<Utc>) -> f64 {
    (Utc::now() - at)
        .to_std()
        .map_or(0.0, |elapsed| elapsed.as_secs_f64())
}

/// How many events the log holds after `after` (at most [`MOST_COUNTED`]), and when the
/// first of them was recorded.
async fn count_after(
    pool: &PgPool,
    after: Position,
) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM (
                     SELECT 1 FROM events
                     WHERE (transaction_id, position) > ($1::text::xid8, $2)
                     LIMIT $3
                 ) AS waiting),
                (SELECT recorded_at FROM events
                 WHERE (transaction_id, position) > ($1::text::xid8, $2)
                 ORDER BY transaction_id, position
                 LIMIT 1)",
    )
    .bind(after.transaction_id.to_string())
    .bind(after.position)
    .bind(MOST_COUNTED)
    .fetch_one(pool)
    .await
}
