//! Where every projection stands: its checkpoint, its state, and how far behind the log
//! it is (in events, and in the age of the oldest event it has not applied yet).

use application::event_log::Position;
use sqlx::{PgPool, Row};

pub use application::operations::{ProjectionState, ProjectionStatus, RebuildProgress};

use crate::{Error, Projections};

/// The name of everything that follows the log from a checkpoint: every projection of
/// [`Projections::all`], then the fulfilment saga, then the outbox relay.
#[must_use]
pub fn followers() -> Vec<String> {
    Projections::all()
        .iter()
        .map(|p| p.name().to_owned())
        .chain(OPTIONAL.map(str::to_owned))
        .collect()
}

/// The followers listed only once they have run on the database (their checkpoint exists):
/// a database whose server never ran the saga or never relayed shows no row for them.
const OPTIONAL: [&str; 2] = [crate::saga::runner::NAME, crate::relay::NAME];

/// The status of every follower of the log ([`followers`]), in that order; the saga and
/// the relay only once they have run on this database. A projection
/// without a checkpoint row yet stands at the start of the log.
///
/// # Errors
/// [`Error::Database`]; [`Error::Unexpected`] for a transaction id that is not a number.
pub async fn status(pool: &PgPool) -> Result<Vec<ProjectionStatus>, Error> {
    let names = followers();
    let rows = sqlx::query(
        "SELECT n.name,
                COALESCE(c.transaction_id, '0'::xid8)::text AS transaction_id,
                COALESCE(c.position, 0) AS position,
                COALESCE(c.state, 'running') AS state,
                c.error,
                lag.events AS lag_events,
                lag.seconds AS lag_seconds,
                r.applied AS rebuild_applied,
                r.total AS rebuild_total,
                r.started_at AS rebuild_started_at
         FROM unnest($1::text[]) WITH ORDINALITY AS n (name, ord)
         LEFT JOIN projection_checkpoints c ON c.name = n.name
         -- A rebuild counts while the session that holds its lock lives.
         LEFT JOIN projection_rebuilds r ON r.name = n.name
             AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = r.backend_pid)
         CROSS JOIN LATERAL (
             SELECT count(*) AS events,
                    COALESCE(GREATEST(EXTRACT(EPOCH FROM now() - min(e.recorded_at)), 0), 0)
                        ::float8 AS seconds
             FROM events e
             WHERE (e.transaction_id, e.position)
                 > (COALESCE(c.transaction_id, '0'::xid8), COALESCE(c.position, 0))
         ) lag
         -- The saga and the relay are listed once they have run on this database.
         WHERE n.name <> ALL($2) OR c.name IS NOT NULL
         ORDER BY n.ord",
    )
    .bind(&names)
    .bind(&OPTIONAL[..])
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            let transaction_id: String = row.try_get("transaction_id")?;
            let state: String = row.try_get("state")?;
            let position = Position {
                transaction_id: transaction_id
                    .parse()
                    .map_err(|_| Error::Unexpected(format!("transaction id {transaction_id:?}")))?,
                position: row.try_get("position")?,
            };
            let applied: Option<i64> = row.try_get("rebuild_applied")?;
            let rebuild = match applied {
                Some(applied) => Some(RebuildProgress {
                    applied,
                    total: row.try_get("rebuild_total")?,
                    started_at: row.try_get("rebuild_started_at")?,
                }),
                None => None,
            };
            Ok(ProjectionStatus {
                name: row.try_get("name")?,
                position: position.token(),
                state: if rebuild.is_some() {
                    ProjectionState::Rebuilding
                } else if state == "parked" {
                    ProjectionState::Parked
                } else {
                    ProjectionState::Running
                },
                rebuild,
                error: row.try_get("error")?,
                lag_events: row.try_get("lag_events")?,
                lag_seconds: row.try_get("lag_seconds")?,
            })
        })
        .collect()
}
