#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The connection pool hands out only connections outside any transaction, even after a
//! future was dropped while its `BEGIN` was in flight (a task aborted, a client that hung
//! up, a timeout): transactions begin through `projections::transaction`. It hands a clean
//! connection out again rather than opening a new one.

use std::time::Duration;

use infrastructure::DatabaseOptions;
use sqlx::{Connection, PgConnection};

#[tokio::test]
async fn a_write_after_a_cancelled_begin_is_committed() {
    let db = tests::test_database().await;
    let options = DatabaseOptions {
        max_connections: 1,
        assume_app_role: false,
        ..DatabaseOptions::default()
    };
    // The owner's: the test makes a table of its own.
    let pool = infrastructure::connect(&db.owner_url, &options)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE probe (n int)")
        .execute(&pool)
        .await
        .unwrap();

    // A BEGIN whose answer takes a while, given up while it is on its way.
    let given_up = tokio::time::timeout(
        Duration::from_millis(100),
        projections::transaction::begin_with(&pool, "BEGIN; SELECT pg_sleep(0.5)"),
    )
    .await;
    assert!(
        given_up.is_err(),
        "the BEGIN answered before it was given up"
    );

    // The pool's only connection is the one that carried it.
    sqlx::query("INSERT INTO probe VALUES (1)")
        .execute(&pool)
        .await
        .unwrap();

    let mut other = PgConnection::connect(&db.owner_url).await.unwrap();
    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM probe")
        .fetch_one(&mut other)
        .await
        .unwrap();
    assert_eq!(seen, 1, "the write stayed inside a transaction nobody ends");
    let idle_in_transaction: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity
         WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
    )
    .fetch_one(&mut other)
    .await
    .unwrap();
    assert_eq!(idle_in_transaction, 0);
}

#[tokio::test]
async fn a_clean_connection_is_handed_out_again() {
    let db = tests::test_database().await;
    let options = DatabaseOptions {
        max_connections: 1,
        ..DatabaseOptions::default()
    };
    let pool = infrastructure::connect(&db.url, &options).await.unwrap();
    let mut backends = Vec::new();
    for _ in 0..5 {
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&pool)
            .await
            .unwrap();
        backends.push(pid);
    }
    backends.dedup();
    assert_eq!(
        backends.len(),
        1,
        "a clean connection was closed and reopened"
    );
}
