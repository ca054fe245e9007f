#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The server process killed with SIGKILL while sagas are mid-flight, then restarted: every
//! saga reaches its outcome, no command is applied twice and no stock is leaked.

use std::collections::HashMap;
use std::time::Duration;

use application::Role;
use tests::{ServerProcess, TestApp, test_database};

const BINARY: &str = env!("CARGO_BIN_EXE_domainflow");

#[tokio::test]
async fn a_killed_server_resumes_every_saga_without_repeating_or_leaking_anything() {
    let db = test_database().await;
    let secret = format!("crash-test-secret-{}", uuid::Uuid::new_v4().simple());
    let url = db.url.clone();
    let args = [
        "--database-url",
        url.as_str(),
        "--jwt-secret",
        secret.as_str(),
        "--payment-timeout",
        "6s",
    ];
    let server = ServerProcess::start(BINARY, &args).await;
    let mut app = TestApp::attach(server.address.clone(), db, secret.as_bytes());
    app.register_product("CRASH-1", 40).await;

    // Forty orders: half approving, a quarter each declining and timing out.
    let tokens = ["tok_visa", "tok_chargeDeclined", "tok_timeout", "tok_visa"];
    let placed: Vec<(String, &str)> = futures::future::join_all((0..40).map(|i| {
        let app = &app;
        let token = tokens[i % 4];
        async move {
            let order = app
                .place_order_paid_with(&format!("c-{i}"), &[("CRASH-1", 1)], token)
                .await;
            (order, token)
        }
    }))
    .await;

    // Mid-flight: some sagas have started, few (if any) have finished.
    server.kill().await;
    let finished: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM saga_fulfilments WHERE phase IN ('CONFIRMED', 'CANCELLED')",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(finished < 40, "every saga had finished before the kill");
    let server = ServerProcess::start(BINARY, &args).await;
    app.address.clone_from(&server.address);

    let mut confirmed = 0;
    for (order, token) in &placed {
        let settled = app.settled_order(order, Duration::from_secs(90)).await;
        let outcome = (
            settled["status"].as_str().unwrap(),
            settled["cancellationReason"].as_str(),
        );
        let expected = match *token {
            "tok_visa" => ("CONFIRMED", None),
            "tok_chargeDeclined" => ("CANCELLED", Some("PAYMENT_DECLINED")),
            _ => ("CANCELLED", Some("PAYMENT_TIMEOUT")),
        };
        assert_eq!(outcome, expected, "order {order} paid with {token}");
        confirmed += usize::from(outcome.0 == "CONFIRMED");
    }
    assert_eq!(confirmed, 20);

    // No stock leaked: 20 sold, nothing left reserved.
    let product = app.product("CRASH-1").await;
    assert_eq!(
        (product["onHand"].as_i64(), product["reserved"].as_i64()),
        (Some(20), Some(0)),
        "{product}"
    );

    // No command applied twice: per order, each kind of fact happened at most once.
    let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT stream_type, stream_id, event_type, payload ->> 'orderId' FROM events",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let mut facts: HashMap<(String, String, String), usize> = HashMap::new();
    for (stream_type, stream_id, event_type, order) in rows {
        if event_type == "PaymentFailedTransiently" || stream_type == "ticket" {
            continue;
        }
        let about = order.unwrap_or_else(|| stream_id.clone());
        *facts.entry((stream_type, about, event_type)).or_default() += 1;
    }
    let repeated: Vec<_> = facts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "facts recorded twice: {repeated:?}");
    let tickets: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'TicketOpened'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(tickets, 20, "one ticket per declined or timed-out order");

    let operator = app.token("operator-1", Role::Operator);
    let letters = tests::expect(
        app.get("/api/admin/dead-letters", Some(&operator), &[])
            .await,
        200,
    )
    .await;
    assert_eq!(letters["items"], serde_json::json!([]));
    server.kill().await;
}
