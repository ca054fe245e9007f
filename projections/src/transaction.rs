//! Beginning a transaction on a pooled connection so that giving it up cannot leave the
//! connection inside it.
//!
//! sqlx 0.8 counts a transaction only once its `BEGIN` is answered: a future dropped while
//! the `BEGIN` is on its way (an aborted task, a timeout) hands the connection back to the
//! pool inside a transaction nobody ends (sqlx issue 4393), and the next borrower's
//! statements would run in it, hold its locks and never commit. So the `BEGIN` runs in a
//! task of its own, which always sees it answered: a transaction nobody waits for any more
//! is dropped there, which rolls it back before the connection is used again. Checking
//! every connection as it is handed out would cost a round trip per borrow instead.
//!
//! Connections detached from the pool (the advisory-lock sessions) need none of this:
//! dropping one closes it.

use sqlx::{PgPool, Postgres, Transaction};

/// A transaction on a connection from `pool`.
///
/// # Errors
/// When no connection can be had or the `BEGIN` fails.
pub async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    begin_with(pool, "BEGIN").await
}

/// A transaction on a connection from `pool`, begun by `statement` (`BEGIN` and anything
/// to run with it, in one round trip).
///
/// # Errors
/// When no connection can be had or the statement fails.
pub async fn begin_with(
    pool: &PgPool,
    statement: &'static str,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let pool = pool.clone();
    #[allow(
        clippy::disallowed_methods,
        reason = "the one place a pooled transaction begins, in a task that always finishes it"
    )]
    let begun = tokio::spawn(async move { pool.begin_with(statement).await });
    begun.await.unwrap_or(Err(sqlx::Error::WorkerCrashed))
}
