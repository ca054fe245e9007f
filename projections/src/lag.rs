//! How far behind the log a follower (a projection's worker, the saga's runner) stands,
//! kept in its gauges by the follower itself after each look at the log, so that a scrape
//! of `/metrics` reads numbers and counts nothing.
//!
//! A look that brought less than a full batch found the end of the log: the lag is what
//! the follower has read but not finished (nothing, for a worker, once its batch commits).
//! A full batch means more may wait (and so does a follower's start): the events after it
//! are counted, at most [`MOST_COUNTED`] of them and at most once per [`COUNT_EVERY`], so a
//! follower far behind (a long outage) pays one bounded index scan a second, not one per
//! batch.

use std::time::{Duration, Instant};

use application::event_log::Position;
use application::instruments::{PROJECTION_LAG_EVENTS, PROJECTION_LAG_SECONDS, PROJECTION_PARKED};
use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// The most events counted after a full batch: a lag beyond it shows as this.
pub const MOST_COUNTED: i64 = 1_000_000;

/// The shortest interval between two counts.
pub const COUNT_EVERY: Duration = Duration::from_secs(1);

/// The lag gauges of one follower. See the module documentation.
#[derive(Debug)]
pub struct Lag {
    name: &'static str,
    pool: PgPool,
    /// The last count: when, how many events, and when the first of them was recorded.
    counted: Option<(Instant, i64, Option<DateTime<Utc>>)>,
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

    /// The follower has read the whole log; `pending` events it read are not done yet, the
    /// oldest of them recorded at `oldest`.
    pub fn caught_up(&mut self, pending: usize, oldest: Option<DateTime<Utc>>) {
        self.counted = None;
        self.set(to_i64(pending), oldest.map_or(0.0, age));
    }

    /// More events may wait after `after` (the follower read a full batch, or has not read
    /// yet): counts them (unless it did less than [`COUNT_EVERY`] ago). `pending` events
    /// read are not done yet, the oldest of them recorded at `oldest`.
    pub async fn measure(
        &mut self,
        after: Position,
        pending: usize,
        oldest: Option<DateTime<Utc>>,
    ) {
        let (waiting, first) = match self.counted {
            Some((at, waiting, first)) if at.elapsed() < COUNT_EVERY => (waiting, first),
            _ => match count_after(&self.pool, after).await {
                Ok((waiting, first)) => {
                    self.counted = Some((Instant::now(), waiting, first));
                    (waiting, first)
                }
                Err(error) => {
                    tracing::debug!(%error, "counting the events not applied yet");
                    return;
                }
            },
        };
        self.set(
            to_i64(pending).saturating_add(waiting),
            oldest.or(first).map_or(0.0, age),
        );
    }

    /// The follower is parked (`true`) or runs.
    pub fn parked(&self, parked: bool) {
        metrics::gauge!(PROJECTION_PARKED, "projection" => self.name)
            .set(f64::from(u8::from(parked)));
    }

    #[allow(clippy::cast_precision_loss)] // a lag beyond 2^53 events shows rounded
    fn set(&self, events: i64, seconds: f64) {
        metrics::gauge!(PROJECTION_LAG_EVENTS, "projection" => self.name).set(events as f64);
        metrics::gauge!(PROJECTION_LAG_SECONDS, "projection" => self.name).set(seconds);
    }
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
