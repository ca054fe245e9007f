//! Customers act on their own orders and tickets only, and never for someone else. Another
//! customer's order or ticket answers as one that does not exist (404), as reads do.

use application::Role;
use serde_json::json;
use tests::{graphql_error, problem, spawn_app, spawn_app_without_saga};

#[tokio::test]
async fn another_customers_order_is_not_found_for_a_customers_command() {
    let app = spawn_app_without_saga().await;
    let order = app.place_order("alice", "MUG-1", 1).await;
    let bob = app.token("bob", Role::Customer);

    let response = app
        .post(
            &format!("/api/orders/{order}/cancel"),
            Some(&bob),
            json!({}),
        )
        .await;
    let refused = problem(response, 404, "NOT_FOUND").await;
    // Word for word what an order that never existed answers.
    let never = uuid::Uuid::new_v4().to_string();
    let unknown = problem(
        app.post(
            &format!("/api/orders/{never}/cancel"),
            Some(&bob),
            json!({}),
        )
        .await,
        404,
        "NOT_FOUND",
    )
    .await;
    assert_eq!(
        refused["detail"].as_str().unwrap().replace(&order, "ID"),
        unknown["detail"].as_str().unwrap().replace(&never, "ID"),
    );
    let mutation =
        "mutation { cancelOrder(input: { orderId: \"ID\" }) { id } }".replace("ID", &order);
    graphql_error(
        app.graphql(&mutation, json!({}), Some(&bob)).await,
        "NOT_FOUND",
    )
    .await;

    assert_eq!(app.event_types("order", &order).await, ["OrderPlaced"]);
}

#[tokio::test]
async fn another_customers_ticket_is_not_found_for_a_customers_command() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;
    let bob = app.token("bob", Role::Customer);

    for (action, body) in [
        ("messages", json!({ "body": "Hi" })),
        ("close", json!({ "resolution": "Mine now" })),
        ("reopen", json!({})),
    ] {
        let response = app
            .post(&format!("/api/tickets/{ticket}/{action}"), Some(&bob), body)
            .await;
        problem(response, 404, "NOT_FOUND").await;
    }

    assert_eq!(app.event_types("ticket", &ticket).await, ["TicketOpened"]);
}

#[tokio::test]
async fn a_customer_may_not_order_or_open_tickets_for_someone_else() {
    let app = spawn_app().await;
    let alice = app.token("alice", Role::Customer);
    let order = json!({
        "customerId": "bob",
        "currency": "BRL",
        "lines": [{ "sku": "MUG-1", "quantity": 1, "unitPrice": "9.90" }],
        "paymentToken": "tok_visa",
    });
    let ticket = json!({ "customerId": "bob", "subject": "Hi", "message": "Hello" });

    problem(
        app.post("/api/orders", Some(&alice), order).await,
        403,
        "FORBIDDEN",
    )
    .await;
    problem(
        app.post("/api/tickets", Some(&alice), ticket).await,
        403,
        "FORBIDDEN",
    )
    .await;

    assert_eq!(app.event_total().await, 0);
}
