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
            Ok(mut conn) => {
                let taken =
                    sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock(hashtext($1))")
                        .bind(key)
                        .fetch_one(&mut conn)
                        .await;
                match taken {
                    Ok(true) => {
                        tracing::info!(key, "lock taken");
                        return Some(conn);
                    }
                    Ok(false) => waiting = Some(conn),
                    Err(error) => tracing::warn!(%error, key, "trying the lock"),
                }
            }
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
