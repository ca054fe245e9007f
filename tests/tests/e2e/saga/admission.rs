//! Admission of new orders: while fulfilment is further behind than its limit, placing an
//! order answers 503 `UNAVAILABLE` with `Retry-After` (REST) or `extensions.code`
//! `UNAVAILABLE` (GraphQL); every other command goes through; once the saga has caught up,
//! orders are admitted again.

use std::time::Duration;

use application::Role;
use serde_json::json;
use tests::{TestApp, expect, graphql_error, header, problem, spawn_app_with};

/// Puts the saga's checkpoint at the end of the log: it has taken everything so far.
async fn saga_caught_up(app: &TestApp) {
    sqlx::query(
        "INSERT INTO projection_checkpoints (name, transaction_id, position)
         SELECT 'fulfilment', transaction_id, position FROM events
         ORDER BY transaction_id DESC, position DESC LIMIT 1
         ON CONFLICT (name) DO UPDATE
         SET transaction_id = EXCLUDED.transaction_id, position = EXCLUDED.position",
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
}

fn order() -> serde_json::Value {
    json!({
        "currency": "BRL",
        "lines": [{ "sku": "MUG-1", "quantity": 1 }],
        "paymentToken": "tok_visa",
    })
}

#[tokio::test]
async fn orders_wait_while_fulfilment_is_too_far_behind_and_flow_again_once_it_caught_up() {
    // No saga runs here: the checkpoint set by hand says how far behind it is.
    let app = spawn_app_with(|config| {
        config.saga.run = false;
        config.saga.max_lag = Some(Duration::from_millis(300));
        config.saga.lag_check = Duration::from_millis(20);
    })
    .await;
    app.register_product("MUG-1", 100).await;
    saga_caught_up(&app).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let alice = app.token("alice", Role::Customer);
    let placed = expect(app.post("/api/orders", Some(&alice), order()).await, 202).await;

    // The order's events wait for a saga that does not come.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let refused = app.post("/api/orders", Some(&alice), order()).await;
    assert!(
        header(&refused, "retry-after").parse::<u64>().is_ok(),
        "no Retry-After"
    );
    let body = problem(refused, 503, "UNAVAILABLE").await;
    assert!(
        body["detail"].as_str().unwrap().contains("behind"),
        "{body}"
    );
    let mutation = json!({
        "query": "mutation { placeOrder(input: {currency: \"BRL\", lines: [{sku: \"MUG-1\", quantity: 1}], paymentToken: \"tok_visa\"}) { orderId } }",
    });
    graphql_error(
        app.post("/graphql", Some(&alice), mutation).await,
        "UNAVAILABLE",
    )
    .await;
    // A malformed order still gets its own answer first.
    let malformed = json!({ "currency": "BRL", "lines": [], "paymentToken": "tok_visa" });
    assert_eq!(
        app.post("/api/orders", Some(&alice), malformed)
            .await
            .status()
            .as_u16(),
        422
    );
    // Other commands drain the backlog rather than grow it: they go through.
    let id = placed["orderId"].as_str().unwrap();
    let cancel = format!("/api/orders/{id}/cancel");
    expect(app.post(&cancel, Some(&alice), json!({})).await, 202).await;
    let operator = app.token("ops", Role::Operator);
    let restock = json!({ "quantity": 5 });
    expect(
        app.post("/api/products/MUG-1/restock", Some(&operator), restock)
            .await,
        200,
    )
    .await;

    // The saga catches up: orders flow again.
    saga_caught_up(&app).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    expect(app.post("/api/orders", Some(&alice), order()).await, 202).await;
}

#[tokio::test]
async fn without_a_limit_orders_are_admitted_however_far_behind_fulfilment_is() {
    let app = spawn_app_with(|config| {
        config.saga.run = false;
        config.saga.max_lag = None;
    })
    .await;
    app.register_product("MUG-1", 100).await;
    saga_caught_up(&app).await;
    let alice = app.token("alice", Role::Customer);
    expect(app.post("/api/orders", Some(&alice), order()).await, 202).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    expect(app.post("/api/orders", Some(&alice), order()).await, 202).await;
}
