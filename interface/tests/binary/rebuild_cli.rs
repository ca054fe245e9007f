//! `domainflow projections rebuild --all`, run as the real binary on a log no worker has
//! read: every projection is rebuilt at once, each read model then holds a row per stream of
//! the log, and each live checkpoint stands at the log's head.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tests::text;
use tests::workload::{CATALOGUE, commands, register_catalogue, rounds};

#[tokio::test]
async fn rebuild_all_builds_every_read_model_from_the_whole_log() {
    let db = tests::test_database().await;
    let commands = commands(&db.pool);
    register_catalogue(&commands).await.unwrap();
    rounds(&commands, 0, 40, 2).await.unwrap();
    let streams = async |stream_type: &str| -> i64 {
        sqlx::query_scalar("SELECT count(DISTINCT stream_id) FROM events WHERE stream_type = $1")
            .bind(stream_type)
            .fetch_one(&db.pool)
            .await
            .unwrap()
    };
    let rows = async |table: &str| -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&db.pool)
            .await
            .unwrap()
    };
    for table in ["rm_orders", "rm_products", "rm_tickets", "rm_payments"] {
        assert_eq!(rows(table).await, 0, "{table} before the rebuild");
    }

    let rebuilt = tests::run(
        env!("CARGO_BIN_EXE_domainflow"),
        &["projections", "rebuild", "--all", "--database-url", &db.url],
    );
    assert!(rebuilt.status.success(), "{}", text(&rebuilt.stderr));
    let summary = text(&rebuilt.stdout);
    for name in ["orders", "products", "tickets", "payments"] {
        assert!(
            summary.contains(&format!("{name}: rebuilt from ")),
            "{summary}"
        );
    }

    assert_eq!(rows("rm_orders").await, streams("order").await);
    assert_eq!(rows("rm_products").await, i64::try_from(CATALOGUE).unwrap());
    assert_eq!(rows("rm_tickets").await, streams("ticket").await);
    assert_eq!(rows("rm_payments").await, streams("payment").await);
    let at_head: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM projection_checkpoints
         WHERE name IN ('orders', 'products', 'tickets', 'payments')
           AND state = 'running' AND position = (SELECT max(position) FROM events)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(at_head, 4, "every checkpoint stands at the head of the log");
}

#[tokio::test]
async fn a_failed_rebuild_is_named_and_the_others_still_swap_in() {
    let db = tests::test_database().await;
    let commands = commands(&db.pool);
    register_catalogue(&commands).await.unwrap();
    rounds(&commands, 0, 10, 1).await.unwrap();
    let poison = tests::workload::sku(3);
    sqlx::query(&format!(
        "ALTER TABLE read_model_shadow.rm_products
         ADD CONSTRAINT no_poison CHECK (sku <> '{poison}')"
    ))
    .execute(&db.owner_pool().await)
    .await
    .unwrap();

    let rebuilt = tests::run(
        env!("CARGO_BIN_EXE_domainflow"),
        &["projections", "rebuild", "--all", "--database-url", &db.url],
    );
    assert!(!rebuilt.status.success());
    let (stdout, stderr) = (text(&rebuilt.stdout), text(&rebuilt.stderr));
    assert!(stderr.contains("products: not rebuilt"), "{stderr}");
    assert!(stderr.contains(&format!("stock/{poison}")), "{stderr}");
    for name in ["orders", "tickets", "payments"] {
        assert!(
            stdout.contains(&format!("{name}: rebuilt from ")),
            "{stdout}"
        );
    }
    let count = async |table: &str| -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&db.pool)
            .await
            .unwrap()
    };
    assert!(count("rm_orders").await > 0, "orders swapped in");
    assert_eq!(
        count("rm_products").await,
        0,
        "products' live table as it was"
    );
}
