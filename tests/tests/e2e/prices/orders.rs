//! What an order is charged: the catalog price of each line, and a price mismatch for a line
//! stating another price or currency.

use std::time::Duration;

use serde_json::{Value, json};
use tests::{command_result, graphql_error, problem, spawn_app, spawn_app_without_saga};

use super::{customer, order_after, order_body, place, register, reprice};

#[tokio::test]
async fn a_line_at_the_catalog_price_is_charged_it_and_a_line_without_one_too() {
    let app = spawn_app_without_saga().await;
    register(&app, "MUG-1", "12.50", "BRL").await;
    register(&app, "TEA-1", "3", "BRL").await;

    let stated = command_result(
        place(
            &app,
            order_body(
                "BRL",
                json!([{ "sku": "MUG-1", "quantity": 2, "unitPrice": "12.5" }]),
            ),
        )
        .await,
        202,
    )
    .await;
    let order = order_after(&app, &stated).await;
    assert_eq!(order["total"], "25.00");
    assert_eq!(order["lines"][0]["unitPrice"], "12.50");

    let omitted = command_result(
        place(
            &app,
            order_body(
                "BRL",
                json!([{ "sku": "MUG-1", "quantity": 1 }, { "sku": "TEA-1", "quantity": 3 }]),
            ),
        )
        .await,
        202,
    )
    .await;
    let order = order_after(&app, &omitted).await;
    assert_eq!(order["total"], "21.50");
    let prices: Vec<&Value> = order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| &line["unitPrice"])
        .collect();
    assert_eq!(prices, [&json!("12.50"), &json!("3.00")]);
}

#[tokio::test]
async fn a_line_stating_another_price_is_a_price_mismatch_on_both_transports() {
    let app = spawn_app_without_saga().await;
    register(&app, "MUG-1", "12.50", "BRL").await;
    let cheap = order_body(
        "BRL",
        json!([{ "sku": "MUG-1", "quantity": 1, "unitPrice": "0.01" }]),
    );

    let body = problem(place(&app, cheap.clone()).await, 422, "PRICE_MISMATCH").await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("12.50 BRL") && detail.contains("0.01 BRL"),
        "{body}"
    );

    let error = graphql_error(
        app.graphql(
            "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }",
            json!({ "input": cheap }),
            Some(&customer(&app)),
        )
        .await,
        "PRICE_MISMATCH",
    )
    .await;
    assert_eq!(error["path"], json!(["placeOrder"]), "{error}");
    assert_eq!(app.orders_placed().await, 0);
}

#[tokio::test]
async fn an_order_in_another_currency_than_the_product_is_a_price_mismatch() {
    let app = spawn_app_without_saga().await;
    register(&app, "MUG-1", "12.50", "BRL").await;

    for lines in [
        json!([{ "sku": "MUG-1", "quantity": 1 }]),
        json!([{ "sku": "MUG-1", "quantity": 1, "unitPrice": "12.50" }]),
    ] {
        problem(
            place(&app, order_body("USD", lines)).await,
            422,
            "PRICE_MISMATCH",
        )
        .await;
    }
    assert_eq!(app.orders_placed().await, 0);
}

#[tokio::test]
async fn an_order_placed_right_after_a_reprice_is_charged_the_new_price() {
    let app = spawn_app().await;
    register(&app, "MUG-1", "12.50", "BRL").await;
    reprice(&app, "MUG-1", json!({ "price": "14.90" })).await;

    // No wait for the read model: the price comes from the product's own stream.
    let old_price = order_body(
        "BRL",
        json!([{ "sku": "MUG-1", "quantity": 2, "unitPrice": "12.50" }]),
    );
    problem(place(&app, old_price).await, 422, "PRICE_MISMATCH").await;
    let placed = command_result(
        place(
            &app,
            order_body("BRL", json!([{ "sku": "MUG-1", "quantity": 2 }])),
        )
        .await,
        202,
    )
    .await;

    let order = placed["orderId"].as_str().unwrap();
    let settled = app.settled_order(order, Duration::from_secs(30)).await;
    assert_eq!(settled["status"], "CONFIRMED");
    assert_eq!(settled["total"], "29.80");
    assert_eq!(settled["payment"]["amount"], "29.80");
}
