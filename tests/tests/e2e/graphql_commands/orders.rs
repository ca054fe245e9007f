//! The order mutations: placing, cancelling and shipping, with their validation and
//! rejections.

use application::Role;
use serde_json::json;
use tests::{graphql_error, spawn_app, spawn_app_without_saga};
use uuid::Uuid;

use super::{ALICE, OPERATOR, fails, mutate, order_input, rejected, succeeds};

#[tokio::test]
async fn place_order_places_refuses_a_lower_case_currency_and_rejects_a_duplicate_sku() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 10).await;
    let line = json!({ "sku": "MUG-1", "quantity": 2, "unitPrice": "12.50" });

    let result = succeeds(
        &app,
        "placeOrder",
        order_input(json!([line])),
        "alice",
        Role::Customer,
    )
    .await;
    let order = result["orderId"].as_str().unwrap();
    assert_eq!(
        (result["id"].as_str(), result["version"].as_i64()),
        (Some(order), Some(1))
    );
    let placed = app.events("order", order).await;
    assert_eq!(placed[0].0, "OrderPlaced");
    assert_eq!(placed[0].1["customerId"], "alice", "{}", placed[0].1);

    let lower_case = json!({ "currency": "brl", "lines": [line], "paymentToken": "tok_visa" });
    fails(&app, "placeOrder", lower_case, ALICE, "VALIDATION").await;
    let three_decimals =
        order_input(json!([{ "sku": "MUG-1", "quantity": 1, "unitPrice": "12.505" }]));
    fails(&app, "placeOrder", three_decimals, ALICE, "VALIDATION").await;
    rejected(
        &app,
        "placeOrder",
        order_input(json!([line, line])),
        ALICE,
        "DuplicateSku",
    )
    .await;
    let orders = app.orders_placed().await;
    assert_eq!(orders, 1);
}

#[tokio::test]
async fn an_input_of_the_wrong_type_is_a_validation_error_without_data() {
    let app = spawn_app().await;
    let input = order_input(json!([{ "sku": "MUG-1", "quantity": "two", "unitPrice": "1.00" }]));

    let error = graphql_error(
        mutate(&app, "placeOrder", input, "alice", Role::Customer).await,
        "VALIDATION",
    )
    .await;

    assert!(error.get("path").is_none(), "{error}");
}

#[tokio::test]
async fn cancel_order_cancels_refuses_a_bad_id_and_rejects_a_second_cancellation() {
    let app = spawn_app_without_saga().await;
    let order = app.place_order("alice", "MUG-1", 1).await;
    let input = json!({ "orderId": order, "reason": "CUSTOMER_REQUEST" });

    let result = succeeds(&app, "cancelOrder", input.clone(), "alice", Role::Customer).await;
    assert_eq!(result["orderId"], order.as_str());
    assert_eq!(
        app.event_types("order", &order).await,
        ["OrderPlaced", "OrderCancelled"]
    );

    fails(
        &app,
        "cancelOrder",
        json!({ "orderId": "not-a-uuid" }),
        ALICE,
        "VALIDATION",
    )
    .await;
    let fulfilment_reason = json!({ "orderId": order, "reason": "PAYMENT_DECLINED" });
    fails(&app, "cancelOrder", fulfilment_reason, ALICE, "VALIDATION").await;
    rejected(&app, "cancelOrder", input, ALICE, "AlreadyCancelled").await;
    assert_eq!(app.event_types("order", &order).await.len(), 2);
}

#[tokio::test]
async fn ship_order_ships_refuses_a_bad_id_and_rejects_a_pending_order() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 10).await;
    let confirmed = app.place_order("alice", "MUG-1", 1).await;
    app.confirm_order(&confirmed).await;
    // A payment that never answers keeps this one pending (until its 30 s deadline).
    let pending = app
        .place_order_paid_with("alice", &[("MUG-1", 1)], "tok_timeout")
        .await;

    let result = succeeds(
        &app,
        "shipOrder",
        json!({ "orderId": confirmed }),
        "olga",
        Role::Operator,
    )
    .await;
    assert_eq!(result["orderId"], confirmed.as_str());
    let events = app.event_types("order", &confirmed).await;
    assert_eq!(events.last().map(String::as_str), Some("OrderShipped"));

    fails(
        &app,
        "shipOrder",
        json!({ "orderId": "42" }),
        OPERATOR,
        "VALIDATION",
    )
    .await;
    rejected(
        &app,
        "shipOrder",
        json!({ "orderId": pending }),
        OPERATOR,
        "NotConfirmed",
    )
    .await;
    let unknown = Uuid::now_v7().to_string();
    fails(
        &app,
        "shipOrder",
        json!({ "orderId": unknown }),
        OPERATOR,
        "NOT_FOUND",
    )
    .await;
    let pending_events = app.event_types("order", &pending).await;
    assert!(
        !pending_events.iter().any(|e| e == "OrderShipped"),
        "{pending_events:?}"
    );
}
