#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `domainflow dead-letters list|retry`, run as the real binary beside a running server. The
//! redrive asks the provider the server charged through (the simulation keeps its ledger in
//! the database), so money captured after the saga gave up on a payment is recorded and
//! paid back, not dropped with the letter.

use std::process::Output;
use std::time::Duration;

use tests::{ServerProcess, TestApp, test_database, text};

const BINARY: &str = env!("CARGO_BIN_EXE_domainflow");

fn cli(args: &[&str]) -> Output {
    tests::run(BINARY, args)
}

/// Polls `condition` (a boolean query about the payment `$1`) for up to 30 s.
async fn until(app: &TestApp, payment: uuid::Uuid, condition: &str) {
    for _ in 0..300 {
        let met: Option<bool> = sqlx::query_scalar(condition)
            .bind(payment)
            .fetch_optional(&app.db.pool)
            .await
            .unwrap();
        if met == Some(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not within 30 s: {condition}");
}

#[tokio::test]
async fn a_cli_redrive_finds_the_capture_the_server_gave_up_on_and_the_money_goes_back() {
    let db = test_database().await;
    let (secret, secret_bytes) = tests::jwt_secret();
    let url = db.url.clone();
    // The deadline comes long before the provider decides (tok_lateApproval captures twice
    // the provider's answer time after the charge).
    let args = [
        "--database-url",
        url.as_str(),
        "--jwt-secret",
        secret.as_str(),
        "--payment-timeout",
        "1s",
        "--payment-provider-timeout",
        "3s",
    ];
    let server = ServerProcess::start(BINARY, &args).await;
    let app = TestApp::attach(server.address.clone(), db, &secret_bytes);
    app.register_product("LATE-1", 3).await;
    let order = app
        .place_order_paid_with("ana", &[("LATE-1", 1)], "tok_lateApproval")
        .await;
    let payment = uuid::Uuid::parse_str(&order).unwrap();

    // The deadline cancels the order; giving up the payment waits as a dead letter while
    // the provider is still processing the charge.
    let settled = app.settled_order(&order, Duration::from_secs(30)).await;
    assert_eq!(settled["status"], "CANCELLED", "{settled}");
    assert_eq!(settled["cancellationReason"], "PAYMENT_TIMEOUT");
    until(
        &app,
        payment,
        "SELECT EXISTS (SELECT 1 FROM saga_dead_letters WHERE order_id = $1)",
    )
    .await;
    let listed = cli(&["dead-letters", "list", "--database-url", &url]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let listing = text(&listed.stdout);
    let row = listing
        .lines()
        .find(|line| line.contains(&order))
        .unwrap_or_else(|| panic!("the letter is not listed:\n{listing}"));
    assert!(row.contains("ExpirePayment"), "{row}");
    let id = row.split_whitespace().next().unwrap();

    // Later the provider captures the money.
    until(
        &app,
        payment,
        "SELECT pending_until <= now() FROM simulated_payments WHERE payment_id = $1",
    )
    .await;

    // The operator redrives from another process: it sees the server's charge.
    let redriven = cli(&["dead-letters", "retry", id, "--database-url", &url]);
    assert!(redriven.status.success(), "{}", text(&redriven.stderr));
    assert_eq!(
        text(&redriven.stdout),
        format!("dead letter {id} redriven and removed")
    );

    // The capture is recorded, and the server's saga pays it back.
    until(
        &app,
        payment,
        "SELECT refunded_minor IS NOT NULL FROM simulated_payments WHERE payment_id = $1",
    )
    .await;
    let mut recorded = Vec::new();
    for _ in 0..100 {
        recorded = app.event_types("payment", &order).await;
        if recorded.last().map(String::as_str) == Some("PaymentRefunded") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        recorded
            .iter()
            .filter(|t| *t == "PaymentAuthorized")
            .count(),
        1,
        "{recorded:?}"
    );
    assert_eq!(recorded.last().map(String::as_str), Some("PaymentRefunded"));
    assert_eq!(app.order(&order).await["status"], "CANCELLED");
    let refunded: i64 =
        sqlx::query_scalar("SELECT refunded_minor FROM simulated_payments WHERE payment_id = $1")
            .bind(payment)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(refunded, 1250, "one unit at 12.50 paid back");

    let left = cli(&["dead-letters", "list", "--database-url", &url]);
    assert_eq!(text(&left.stdout), "no dead letters");
    server.kill().await;
}
