//! Products registered before prices existed: no price shown, and no orders until they are
//! repriced.

use application::event_log::{Append, CommandMetadata, NewEvent, StreamRef};
use infrastructure::PgEventStore;
use serde_json::{Value, json};
use tests::{TestApp, command_result, problem, rejected, spawn_app_without_saga};

use super::{operator, order_after, order_body, place, product_after, reprice};

/// Appends a `ProductRegistered` event as version 1 stored it, before products had prices;
/// a command result naming its position.
async fn register_without_a_price(app: &TestApp, sku: &str) -> Value {
    let store = PgEventStore::new(app.db.pool.clone());
    let id = uuid::Uuid::now_v7();
    let appended = store
        .append(&Append {
            stream: StreamRef::new("stock", sku),
            expected_version: 0,
            head_hash: None,
            events: vec![NewEvent {
                event_id: uuid::Uuid::now_v7(),
                event_type: "ProductRegistered".into(),
                event_version: 1,
                payload: json!({ "sku": sku, "name": "Old mug", "lowStockThreshold": 0 }),
            }],
            metadata: CommandMetadata {
                command_id: id,
                correlation_id: id,
                causation_id: None,
                actor: "before-prices".into(),
                client_correlation_id: None,
            },
            snapshot: None,
        })
        .await
        .unwrap();
    json!({ "position": appended.position.token() })
}

#[tokio::test]
async fn a_product_from_before_prices_cannot_be_ordered_until_it_is_repriced() {
    let app = spawn_app_without_saga().await;
    register_without_a_price(&app, "OLD-1").await;
    let order = order_body("BRL", json!([{ "sku": "OLD-1", "quantity": 1 }]));

    rejected(place(&app, order.clone()).await, "Unpriced").await;
    let no_currency = app
        .post(
            "/api/products/OLD-1/price",
            Some(&operator(&app)),
            json!({ "price": "9.90" }),
        )
        .await;
    let body = problem(no_currency, 422, "VALIDATION").await;
    assert!(
        body["detail"].as_str().unwrap().contains("currency"),
        "{body}"
    );

    let repriced = reprice(&app, "OLD-1", json!({ "price": "9.90", "currency": "BRL" })).await;
    let product = product_after(&app, "OLD-1", &repriced).await;
    assert_eq!(
        (&product["price"], &product["currency"]),
        (&json!("9.90"), &json!("BRL"))
    );
    let placed = command_result(place(&app, order).await, 202).await;
    assert_eq!(order_after(&app, &placed).await["total"], "9.90");
}

#[tokio::test]
async fn a_product_from_before_prices_shows_no_price() {
    let app = spawn_app_without_saga().await;
    let registered = register_without_a_price(&app, "OLD-1").await;

    let product = product_after(&app, "OLD-1", &registered).await;
    assert_eq!(product["name"], "Old mug");
    assert_eq!(
        (&product["price"], &product["currency"]),
        (&Value::Null, &Value::Null)
    );
}
