//! The runner's fence (`runner_fences`): an epoch raised by every runner that takes the
//! lock, checked by every state write, so that a runner that lost its lock changes nothing.

use sqlx::PgConnection;

use crate::Error;

/// Raises the epoch of `name` and answers the new one: from now on, writes fenced with an
/// older epoch fail. Waits for writes under the old epoch that are in flight.
///
/// # Errors
/// [`Error::Database`].
pub async fn take(conn: &mut PgConnection, name: &str) -> Result<i64, Error> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    bounded_lock_waits(&mut tx).await?;
    let epoch = sqlx::query_scalar(
        "INSERT INTO runner_fences (name, epoch) VALUES ($1, 1)
         ON CONFLICT (name) DO UPDATE SET epoch = runner_fences.epoch + 1
         RETURNING epoch",
    )
    .bind(name)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(epoch)
}

/// A write stuck behind a lock (a transaction of a runner that died mid-way and is not yet
/// gone) fails after a while instead of waiting forever; the runner then starts again.
async fn bounded_lock_waits(conn: &mut PgConnection) -> Result<(), Error> {
    sqlx::query("SET LOCAL lock_timeout = '5s'")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Checks, inside the caller's transaction, that `epoch` is still the epoch of `name`, and
/// holds it there until the transaction ends (a share lock: a new runner's [`take`] waits).
///
/// # Errors
/// [`Error::Fenced`] when another runner has taken over; [`Error::Database`].
pub async fn hold(conn: &mut PgConnection, name: &'static str, epoch: i64) -> Result<(), Error> {
    bounded_lock_waits(conn).await?;
    let current: Option<i64> =
        sqlx::query_scalar("SELECT epoch FROM runner_fences WHERE name = $1 FOR SHARE")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
    check(name, epoch, current)
}

/// Checks without a lock that `epoch` is still the epoch of `name`.
///
/// # Errors
/// As [`hold`].
pub async fn still_holds(
    conn: &mut PgConnection,
    name: &'static str,
    epoch: i64,
) -> Result<(), Error> {
    let current: Option<i64> =
        sqlx::query_scalar("SELECT epoch FROM runner_fences WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
    check(name, epoch, current)
}

fn check(name: &'static str, epoch: i64, current: Option<i64>) -> Result<(), Error> {
    if current == Some(epoch) {
        Ok(())
    } else {
        Err(Error::Fenced(name))
    }
}
