//! Commands that succeed: each answers its documented status and records its events.

use serde_json::json;
use tests::{command_result, spawn_app, spawn_app_without_saga};
use uuid::Uuid;

use super::{agent, customer, operator, order_body};

// --- what each command answers when it works ---

#[tokio::test]
async fn registering_a_product_answers_201_and_records_its_price_and_opening_stock() {
    let app = spawn_app().await;
    let body = json!({ "sku": "MUG-1", "name": "Mug", "initialQuantity": 5,
                       "lowStockThreshold": 0, "price": "12.50", "currency": "BRL" });

    let result = command_result(
        app.post("/api/products", Some(&operator(&app)), body).await,
        201,
    )
    .await;

    assert_eq!(result["id"], "MUG-1");
    assert_eq!(result["streamType"], "stock");
    assert_eq!(result["version"], 2);
    assert!(result.get("orderId").is_none() && result.get("ticketId").is_none());
    let events = app.events("stock", "MUG-1").await;
    assert_eq!(events[0].0, "ProductRegistered");
    assert_eq!(
        (&events[0].1["priceMinor"], &events[0].1["currency"]),
        (&json!(1250), &json!("BRL"))
    );
    assert_eq!(
        events[1],
        ("StockRestocked".to_owned(), json!({ "quantity": 5 }))
    );
    assert_eq!(events.len(), 2);
}

#[tokio::test]
async fn restocking_answers_200_and_records_the_units() {
    let app = spawn_app().await;
    let registered = app.register_product("MUG-1", 5).await;

    let response = app
        .post(
            "/api/products/MUG-1/restock",
            Some(&operator(&app)),
            json!({ "quantity": 7 }),
        )
        .await;

    let result = command_result(response, 200).await;
    assert_eq!(result["id"], "MUG-1");
    assert_eq!(result["version"], 3);
    assert_ne!(result["position"], registered["position"]);
    let events = app.events("stock", "MUG-1").await;
    assert_eq!(
        events.last().unwrap(),
        &("StockRestocked".to_owned(), json!({ "quantity": 7 }))
    );
}

#[tokio::test]
async fn placing_an_order_answers_202_with_the_new_order_id() {
    // Without the saga, which would cancel the order (its SKUs are not in the catalogue)
    // before the log is read.
    let app = spawn_app_without_saga().await;
    let body = order_body(json!([
        { "sku": "MUG-1", "quantity": 2, "unitPrice": "12.50" },
        { "sku": "TEA-9", "quantity": 1, "unitPrice": "3" },
    ]));

    let keyed = [("Idempotency-Key", "order-1")];
    let result = command_result(
        app.post_with("/api/orders", Some(&customer(&app)), body, &keyed)
            .await,
        202,
    )
    .await;

    let order = result["orderId"].as_str().unwrap();
    // A random UUID v7, not one derived from the customer and the Idempotency-Key.
    assert_eq!(Uuid::parse_str(order).unwrap().get_version_num(), 7);
    assert_eq!(result["id"], order);
    assert_eq!(result["streamType"], "order");
    assert_eq!(result["version"], 1);
    assert_eq!(app.event_types("order", order).await, ["OrderPlaced"]);
}

#[tokio::test]
async fn cancelling_an_order_answers_202_and_records_the_cancellation() {
    let app = spawn_app_without_saga().await;
    let order = app.place_order("alice", "MUG-1", 1).await;

    let response = app
        .post(
            &format!("/api/orders/{order}/cancel"),
            Some(&customer(&app)),
            json!({ "reason": "CUSTOMER_REQUEST" }),
        )
        .await;

    let result = command_result(response, 202).await;
    assert_eq!(
        (result["orderId"].as_str(), result["version"].as_i64()),
        (Some(order.as_str()), Some(2))
    );
    assert_eq!(
        app.event_types("order", &order).await,
        ["OrderPlaced", "OrderCancelled"]
    );
}

#[tokio::test]
async fn shipping_a_confirmed_order_answers_200_and_records_the_shipment() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 10).await;
    let order = app.place_order("alice", "MUG-1", 1).await;
    app.confirm_order(&order).await;

    let response = app
        .post(
            &format!("/api/orders/{order}/ship"),
            Some(&operator(&app)),
            json!({}),
        )
        .await;

    let result = command_result(response, 200).await;
    assert_eq!(result["orderId"], order.as_str());
    let events = app.event_types("order", &order).await;
    assert_eq!(events.last().map(String::as_str), Some("OrderShipped"));
    assert_eq!(result["version"], events.len());
}

#[tokio::test]
async fn opening_a_ticket_answers_201_with_the_new_ticket_id() {
    let app = spawn_app().await;
    let order = app.place_order("alice", "MUG-1", 1).await;
    let body =
        json!({ "subject": "Broken mug", "message": "It arrived in pieces.", "orderId": order });

    let result = command_result(
        app.post("/api/tickets", Some(&customer(&app)), body).await,
        201,
    )
    .await;

    let ticket = result["ticketId"].as_str().unwrap();
    Uuid::parse_str(ticket).unwrap();
    assert_eq!(
        (result["id"].as_str(), result["streamType"].as_str()),
        (Some(ticket), Some("ticket"))
    );
    assert_eq!(result["version"], 1);
    assert_eq!(app.event_types("ticket", ticket).await, ["TicketOpened"]);
}

#[tokio::test]
async fn an_agent_opens_a_ticket_for_a_named_customer() {
    let app = spawn_app().await;
    let body =
        json!({ "customerId": "alice", "subject": "Call back", "message": "Asked by phone." });

    let result = command_result(
        app.post("/api/tickets", Some(&agent(&app)), body).await,
        201,
    )
    .await;

    let ticket = result["ticketId"].as_str().unwrap();
    let (_, opened) = &app.events("ticket", ticket).await[0];
    assert_eq!(opened["customerId"], "alice", "{opened}");
}

#[tokio::test]
async fn posting_a_message_answers_200_and_records_it() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;

    let response = app
        .post(
            &format!("/api/tickets/{ticket}/messages"),
            Some(&agent(&app)),
            json!({ "body": "We are on it." }),
        )
        .await;

    let result = command_result(response, 200).await;
    assert_eq!(
        (result["ticketId"].as_str(), result["version"].as_i64()),
        (Some(ticket.as_str()), Some(2))
    );
    assert_eq!(
        app.event_types("ticket", &ticket).await,
        ["TicketOpened", "TicketMessagePosted"]
    );
}

#[tokio::test]
async fn assigning_a_ticket_answers_200_and_records_the_assignee() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;

    let response = app
        .post(
            &format!("/api/tickets/{ticket}/assign"),
            Some(&agent(&app)),
            json!({ "agentId": "arthur" }),
        )
        .await;

    let result = command_result(response, 200).await;
    assert_eq!(result["ticketId"], ticket.as_str());
    assert_eq!(
        app.event_types("ticket", &ticket).await,
        ["TicketOpened", "TicketAssigned"]
    );
}

#[tokio::test]
async fn closing_a_ticket_answers_200_and_records_the_resolution() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;

    let response = app
        .post(
            &format!("/api/tickets/{ticket}/close"),
            Some(&customer(&app)),
            json!({ "resolution": "Found it." }),
        )
        .await;

    let result = command_result(response, 200).await;
    assert_eq!(result["ticketId"], ticket.as_str());
    assert_eq!(
        app.event_types("ticket", &ticket).await,
        ["TicketOpened", "TicketClosed"]
    );
}

#[tokio::test]
async fn reopening_a_closed_ticket_answers_200_and_records_it() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;
    app.close_ticket("alice", &ticket).await;

    let response = app
        .post(
            &format!("/api/tickets/{ticket}/reopen"),
            Some(&customer(&app)),
            json!({}),
        )
        .await;

    let result = command_result(response, 200).await;
    assert_eq!(result["version"], 3);
    assert_eq!(
        app.event_types("ticket", &ticket).await,
        ["TicketOpened", "TicketClosed", "TicketReopened"]
    );
}
