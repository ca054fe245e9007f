//! Orders the saga compensates: out of stock, declined, timed out or cancelled after
//! confirmation, with stock released or returned and payments refunded.

use std::time::Duration;

use application::Role;
use serde_json::{Value, json};
use tests::{TestApp, spawn_app};
use tests::{expect, graphql_data};

use super::{SETTLE, levels, quick_app};

/// The tickets of `customer` that name `order`, as an agent sees them.
async fn tickets_about(app: &TestApp, customer: &str, order: &str) -> Vec<Value> {
    let agent = app.token("agent-1", Role::Agent);
    let data = graphql_data(
        app.graphql(
            "query($c: String!) { tickets(first: 50, customerId: $c) { edges { node { id orderId subject status } } } }",
            json!({ "c": customer }),
            Some(&agent),
        )
        .await,
    )
    .await;
    data["tickets"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"].clone())
        .filter(|ticket| ticket["orderId"] == order)
        .collect()
}

/// Waits until the ticket read model shows a ticket about `order`.
async fn ticket_about(app: &TestApp, customer: &str, order: &str) -> Value {
    for _ in 0..200 {
        if let Some(ticket) = tickets_about(app, customer, order).await.pop() {
            return ticket;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no ticket about order {order} was opened");
}

#[tokio::test]
async fn a_line_out_of_stock_cancels_the_order_and_releases_every_other_line_uncharged() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 10).await;
    app.register_product("RARE-1", 1).await;
    let order = app
        .place_order_paid_with("alice", &[("MUG-1", 3), ("RARE-1", 2)], "tok_visa")
        .await;

    let settled = app.settled_order(&order, SETTLE).await;
    assert_eq!(settled["status"], "CANCELLED");
    assert_eq!(settled["cancellationReason"], "OUT_OF_STOCK");
    assert_eq!(levels(&app.product("MUG-1").await), (10, 0, 10));
    assert_eq!(levels(&app.product("RARE-1").await), (1, 0, 1));
    assert!(
        app.event_types("payment", &order).await.is_empty(),
        "nothing may be charged for an order that could not be reserved"
    );
}

#[tokio::test]
async fn a_declined_payment_cancels_releases_and_opens_a_ticket_naming_the_order() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 5).await;
    let order = app
        .place_order_paid_with("bob", &[("MUG-1", 2)], "tok_chargeDeclined")
        .await;

    let settled = app.settled_order(&order, SETTLE).await;
    assert_eq!(settled["status"], "CANCELLED");
    assert_eq!(settled["cancellationReason"], "PAYMENT_DECLINED");
    assert_eq!(settled["payment"]["status"], "DECLINED");
    assert_eq!(levels(&app.product("MUG-1").await), (5, 0, 5));
    let ticket = ticket_about(&app, "bob", &order).await;
    assert_eq!(ticket["status"], "OPEN");
    assert!(ticket["subject"].as_str().unwrap().contains(&order));
}

#[tokio::test]
async fn a_payment_not_settled_before_its_deadline_is_compensated_as_a_timeout() {
    let app = quick_app(Duration::from_millis(800)).await;
    app.register_product("MUG-1", 5).await;
    let order = app
        .place_order_paid_with("carol", &[("MUG-1", 1)], "tok_timeout")
        .await;

    let settled = app.settled_order(&order, SETTLE).await;
    assert_eq!(settled["status"], "CANCELLED");
    assert_eq!(settled["cancellationReason"], "PAYMENT_TIMEOUT");
    assert_eq!(settled["payment"]["status"], "FAILED");
    assert_eq!(levels(&app.product("MUG-1").await), (5, 0, 5));
    ticket_about(&app, "carol", &order).await;
    let deadlines: i64 = sqlx::query_scalar("SELECT count(*) FROM saga_deadlines")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(deadlines, 0, "a deadline that fired is gone");
}

#[tokio::test]
async fn cancelling_a_confirmed_order_refunds_the_payment_and_returns_the_stock() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 4).await;
    let order = app
        .place_order_paid_with("dave", &[("MUG-1", 3)], "tok_visa")
        .await;
    assert_eq!(
        app.settled_order(&order, SETTLE).await["status"],
        "CONFIRMED"
    );
    assert_eq!(levels(&app.product("MUG-1").await), (1, 0, 1));

    let dave = app.token("dave", Role::Customer);
    let path = format!("/api/orders/{order}/cancel");
    expect(
        app.post(&path, Some(&dave), json!({ "reason": "CUSTOMER_REQUEST" }))
            .await,
        202,
    )
    .await;

    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let order = app.order(&order).await;
        let product = app.product("MUG-1").await;
        if order["payment"]["status"] == "REFUNDED" && levels(&product) == (4, 0, 4) {
            assert_eq!(order["status"], "CANCELLED");
            assert_eq!(order["cancellationReason"], "CUSTOMER_REQUEST");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not compensated: {order} {product}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refunded = app
        .provider
        .refunded(uuid::Uuid::parse_str(&order).unwrap());
    assert_eq!(refunded.map(|m| m.minor()), Some(3750));
}

#[tokio::test]
async fn an_order_for_a_product_nobody_registered_is_cancelled_as_out_of_stock() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 10).await;
    let order = app
        .place_order_paid_with("gus", &[("MUG-1", 1), ("GHOST-1", 1)], "tok_visa")
        .await;

    let settled = app.settled_order(&order, SETTLE).await;
    assert_eq!(settled["status"], "CANCELLED");
    assert_eq!(settled["cancellationReason"], "OUT_OF_STOCK");
    assert_eq!(levels(&app.product("MUG-1").await), (10, 0, 10));
    assert!(app.event_types("stock", "GHOST-1").await.is_empty());
}
