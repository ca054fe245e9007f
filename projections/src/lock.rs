//! One active runner across processes: a session advisory lock held on a connection of its
//! own for as long as the runner is active.

use std::time::Duration;

use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::watch;

/// A connection holding the advisory lock named `key`, waiting (and retrying every `retry`)
/// while another process holds it; `None` on shutdown. Closing the connection releases it.
pub async fn acquire(
    pool: &PgPool,
    key: &str,
    shutdown: &mut watch::Receiver<bool>,
    retry: Duration,
) -> Option<PgConnection> {
    let mut waiting: Option<PgConnection> = None;
    loop {
        if *shutdown.borrow() {
            return None;
        }
        let conn = match waiting.take() {
            Some(conn) => Ok(conn),
            None => pool.acquire().await.map(sqlx::pool::PoolConnection::detach),
        };
        match conn {
            Ok(mut conn) => match try_lock(&mut conn, key).await {
                Ok(true) => {
                    tracing::info!(key, "lock taken");
                    return Some(conn);
                }
                Ok(false) => waiting = Some(conn),
                Err(error) => tracing::warn!(%error, key, "trying the lock"),
            },
            Err(error) => tracing::warn!(%error, key, "connecting for the lock"),
        }
        if pause(shutdown, retry).await {
            if let Some(conn) = waiting {
                let _ = conn.close().await;
            }
            return None;
        }
    }
}

/// A connection holding the advisory lock named `key` if nobody holds it now; `None` when
/// someone does. Closing the connection releases it.
///
/// # Errors
/// When no connection can be had or the lock cannot be asked for.
pub async fn try_take(pool: &PgPool, key: &str) -> Result<Option<PgConnection>, sqlx::Error> {
    let mut conn = pool.acquire().await?.detach();
    if try_lock(&mut conn, key).await? {
        Ok(Some(conn))
    } else {
        let _ = conn.close().await;
        Ok(None)
    }
}

/// Asks for the advisory lock named `key` on `conn`, without waiting.
async fn try_lock(conn: &mut PgConnection, key: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext($1))")
        .bind(key)
        .fetch_one(conn)
        .await
}

/// Sleeps `duration` unless shut down first; true when shutting down.
pub async fn pause(shutdown: &mut watch::Receiver<bool>, duration: Duration) -> bool {
    if *shutdown.borrow() {
        return true;
    }
    tokio::select! {
        () = tokio::time::sleep(duration) => false,
        changed = shutdown.changed() => changed.is_err() || *shutdown.borrow(),
    }
}
