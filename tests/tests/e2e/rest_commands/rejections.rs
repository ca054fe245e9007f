//! Commands the domain rejects: repeats, duplicate SKUs, orders in the wrong status and
//! closed or open tickets.

use serde_json::json;
use tests::{command_result, rejected, spawn_app, spawn_app_without_saga};

use super::{agent, customer, operator, order_body, product};

// --- business rules that say no ---

#[tokio::test]
async fn registering_a_registered_sku_is_rejected_as_already_registered() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 5).await;
    let body = product("MUG-1", "Another mug");

    rejected(
        app.post("/api/products", Some(&operator(&app)), body).await,
        "AlreadyRegistered",
    )
    .await;

    assert_eq!(app.events("stock", "MUG-1").await.len(), 2);
}

#[tokio::test]
async fn an_order_with_a_sku_on_two_lines_is_rejected_as_duplicate_sku() {
    let app = spawn_app().await;
    let mug = json!({ "sku": "MUG-1", "quantity": 1, "unitPrice": "1.00" });

    rejected(
        app.post(
            "/api/orders",
            Some(&customer(&app)),
            order_body(json!([mug, mug])),
        )
        .await,
        "DuplicateSku",
    )
    .await;

    let orders = app.orders_placed().await;
    assert_eq!(orders, 0);
}

#[tokio::test]
async fn shipping_a_pending_order_is_rejected_as_not_confirmed() {
    let app = spawn_app_without_saga().await;
    let order = app.place_order("alice", "MUG-1", 1).await;

    let response = app
        .post(
            &format!("/api/orders/{order}/ship"),
            Some(&operator(&app)),
            json!({}),
        )
        .await;

    let body = rejected(response, "NotConfirmed").await;
    assert!(
        body["detail"].as_str().unwrap().contains("confirmed"),
        "{body}"
    );
    assert_eq!(app.event_types("order", &order).await, ["OrderPlaced"]);
}

#[tokio::test]
async fn cancelling_a_cancelled_order_is_rejected_as_already_cancelled() {
    let app = spawn_app_without_saga().await;
    let order = app.place_order("alice", "MUG-1", 1).await;
    let path = format!("/api/orders/{order}/cancel");
    command_result(app.post(&path, Some(&customer(&app)), json!({})).await, 202).await;

    rejected(
        app.post(&path, Some(&customer(&app)), json!({})).await,
        "AlreadyCancelled",
    )
    .await;

    assert_eq!(
        app.event_types("order", &order).await,
        ["OrderPlaced", "OrderCancelled"]
    );
}

#[tokio::test]
async fn a_shipped_order_can_be_neither_cancelled_nor_shipped_again() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 10).await;
    let order = app.place_order("alice", "MUG-1", 1).await;
    app.confirm_order(&order).await;
    let ship = format!("/api/orders/{order}/ship");
    command_result(app.post(&ship, Some(&operator(&app)), json!({})).await, 200).await;
    let recorded = app.event_types("order", &order).await.len();

    rejected(
        app.post(&ship, Some(&operator(&app)), json!({})).await,
        "AlreadyShipped",
    )
    .await;
    let cancel = format!("/api/orders/{order}/cancel");
    rejected(
        app.post(&cancel, Some(&customer(&app)), json!({})).await,
        "AlreadyShipped",
    )
    .await;

    assert_eq!(app.event_types("order", &order).await.len(), recorded);
}

#[tokio::test]
async fn closing_a_closed_ticket_is_rejected_as_already_closed() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;
    app.close_ticket("alice", &ticket).await;

    let response = app
        .post(
            &format!("/api/tickets/{ticket}/close"),
            Some(&agent(&app)),
            json!({ "resolution": "Again." }),
        )
        .await;

    rejected(response, "AlreadyClosed").await;
}

#[tokio::test]
async fn reopening_an_open_ticket_is_rejected_as_not_closed() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;

    let response = app
        .post(
            &format!("/api/tickets/{ticket}/reopen"),
            Some(&customer(&app)),
            json!({}),
        )
        .await;

    rejected(response, "NotClosed").await;
    assert_eq!(app.event_types("ticket", &ticket).await, ["TicketOpened"]);
}

#[tokio::test]
async fn a_closed_ticket_takes_no_messages_and_no_assignee() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;
    app.close_ticket("alice", &ticket).await;

    let message = app
        .post(
            &format!("/api/tickets/{ticket}/messages"),
            Some(&customer(&app)),
            json!({ "body": "Hello?" }),
        )
        .await;
    rejected(message, "Closed").await;
    let assign = app
        .post(
            &format!("/api/tickets/{ticket}/assign"),
            Some(&agent(&app)),
            json!({ "agentId": "arthur" }),
        )
        .await;
    rejected(assign, "Closed").await;

    assert_eq!(
        app.event_types("ticket", &ticket).await,
        ["TicketOpened", "TicketClosed"]
    );
}
