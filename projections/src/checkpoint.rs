//! Where each projection stands in the global order: the `projection_checkpoints` table.

use application::event_log::Position;
use sqlx::{PgConnection, Row};

use crate::Error;

/// A projection's checkpoint row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The last event applied (`Position::START` before the first).
    pub position: Position,
    /// Why it is parked, when it is.
    pub parked: Option<String>,
}

/// The checkpoint of `name`, created at the start of the log when there is none.
///
/// # Errors
/// [`Error::Database`]; [`Error::Unexpected`] for a transaction id that is not a number.
pub async fn load(conn: &mut PgConnection, name: &str) -> Result<Checkpoint, Error> {
    sqlx::query("INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    let row = sqlx::query(
        "SELECT transaction_id::text AS transaction_id, position, state, error
         FROM projection_checkpoints WHERE name = $1",
    )
    .bind(name)
    .fetch_one(&mut *conn)
    .await?;
    let transaction_id: String = row.try_get("transaction_id")?;
    let state: String = row.try_get("state")?;
    let error: Option<String> = row.try_get("error")?;
    Ok(Checkpoint {
        position: Position {
            transaction_id: transaction_id
                .parse()
                .map_err(|_| Error::Unexpected(format!("transaction id {transaction_id:?}")))?,
            position: row.try_get("position")?,
        },
        parked: (state == "parked").then(|| error.unwrap_or_default()),
    })
}

/// Moves the checkpoint of `name` from `from` to `to`, only if it is still at `from`.
///
/// # Errors
/// [`Error::CheckpointMoved`] when another worker moved it first; [`Error::Database`].
pub async fn advance(
    conn: &mut PgConnection,
    name: &'static str,
    from: Position,
    to: Position,
) -> Result<(), Error> {
    let moved = sqlx::query(
        "UPDATE projection_checkpoints
         SET transaction_id = $4::text::xid8, position = $5, error = NULL, updated_at = now()
         WHERE name = $1 AND transaction_id = $2::text::xid8 AND position = $3
           AND state = 'running'",
    )
    .bind(name)
    .bind(from.transaction_id.to_string())
    .bind(from.position)
    .bind(to.transaction_id.to_string())
    .bind(to.position)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if moved == 1 {
        Ok(())
    } else {
        Err(Error::CheckpointMoved(name))
    }
}

/// Parks `name` with `error`, leaving its position where it is.
///
/// # Errors
/// [`Error::Database`].
pub async fn park(conn: &mut PgConnection, name: &str, error: &str) -> Result<(), Error> {
    sqlx::query(
        "UPDATE projection_checkpoints SET state = 'parked', error = $2, updated_at = now()
         WHERE name = $1",
    )
    .bind(name)
    .bind(error)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Lets parked projection `name` run again from its checkpoint; whether it was parked.
///
/// # Errors
/// [`Error::Database`].
pub async fn resume(conn: &mut PgConnection, name: &str) -> Result<bool, Error> {
    let resumed = sqlx::query(
        "UPDATE projection_checkpoints SET state = 'running', error = NULL, updated_at = now()
         WHERE name = $1 AND state = 'parked'",
    )
    .bind(name)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(resumed == 1)
}

/// Whether `name` is parked.
///
/// # Errors
/// [`Error::Database`].
pub async fn is_parked(conn: &mut PgConnection, name: &str) -> Result<bool, Error> {
    let parked: Option<bool> =
        sqlx::query_scalar("SELECT state = 'parked' FROM projection_checkpoints WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(parked.unwrap_or(false))
}
