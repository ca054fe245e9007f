//! Catalog prices end to end: products are registered with a price and repriced by
//! operators, orders are charged the catalog price, and a line stating another price is
//! refused with `PRICE_MISMATCH` on both transports.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use application::Role;
use application::event_log::{Append, CommandMetadata, NewEvent, StreamRef};
use infrastructure::PgEventStore;
use serde_json::{Value, json};
use tests::{
    TestApp, command_result, expect, graphql_data, graphql_error, problem, rejected, spawn_app,
    spawn_app_without_saga,
};

fn operator(app: &TestApp) -> String {
    app.token("olga", Role::Operator)
}

fn customer(app: &TestApp) -> String {
    app.token("alice", Role::Customer)
}

fn order_body(currency: &str, lines: Value) -> Value {
    json!({ "currency": currency, "lines": lines, "paymentToken": "tok_visa" })
}

/// Registers `sku` at `price` in `currency` with ten units; the command result.
async fn register(app: &TestApp, sku: &str, price: &str, currency: &str) -> Value {
    let body = json!({ "sku": sku, "name": format!("Product {sku}"), "initialQuantity": 10,
                       "price": price, "currency": currency });
    command_result(
        app.post("/api/products", Some(&operator(app)), body).await,
        201,
    )
    .await
}

/// Reprices `sku` over REST; the command result.
async fn reprice(app: &TestApp, sku: &str, body: Value) -> Value {
    let path = format!("/api/products/{sku}/price");
    command_result(app.post(&path, Some(&operator(app)), body).await, 200).await
}

/// The product read model once it has taken in `result`.
async fn product_after(app: &TestApp, sku: &str, result: &Value) -> Value {
    let position = result["position"].as_str().unwrap();
    expect(
        app.get(
            &format!("/api/products/{sku}"),
            Some(&operator(app)),
            &[("X-Consistent-With", position)],
        )
        .await,
        200,
    )
    .await
}

/// The order read model once it has taken in `result`.
async fn order_after(app: &TestApp, result: &Value) -> Value {
    let order = result["orderId"].as_str().unwrap();
    let position = result["position"].as_str().unwrap();
    expect(
        app.get(
            &format!("/api/orders/{order}"),
            Some(&operator(app)),
            &[("X-Consistent-With", position)],
        )
        .await,
        200,
    )
    .await
}

async fn place(app: &TestApp, body: Value) -> reqwest::Response {
    app.post("/api/orders", Some(&customer(app)), body).await
}

#[tokio::test]
async fn a_registered_product_shows_its_price_on_both_transports() {
    let app = spawn_app_without_saga().await;
    let registered = register(&app, "MUG-1", "12.5", "BRL").await;

    let product = product_after(&app, "MUG-1", &registered).await;
    assert_eq!(
        (&product["price"], &product["currency"]),
        (&json!("12.50"), &json!("BRL"))
    );

    let data = graphql_data(
        app.graphql(
            "query($sku: String!, $at: String) { product(sku: $sku, consistentWith: $at) \
             { sku price currency } }",
            json!({ "sku": "MUG-1", "at": registered["position"] }),
            Some(&customer(&app)),
        )
        .await,
    )
    .await;
    assert_eq!(
        data["product"],
        json!({ "sku": "MUG-1", "price": "12.50", "currency": "BRL" })
    );
}

#[tokio::test]
async fn an_operator_reprices_over_rest_and_graphql_and_the_read_model_follows() {
    let app = spawn_app_without_saga().await;
    register(&app, "MUG-1", "12.50", "BRL").await;

    let repriced = reprice(&app, "MUG-1", json!({ "price": "14.90" })).await;
    assert_eq!(repriced["version"], 3);
    let product = product_after(&app, "MUG-1", &repriced).await;
    assert_eq!(
        (&product["price"], &product["currency"]),
        (&json!("14.90"), &json!("BRL"))
    );
    assert_eq!(product["onHand"], 10, "repricing leaves the stock alone");

    let data = graphql_data(
        app.graphql(
            "mutation { repriceProduct(input: { sku: \"MUG-1\", price: \"3.00\", \
             currency: \"USD\" }) { id version position } }",
            json!({}),
            Some(&operator(&app)),
        )
        .await,
    )
    .await;
    let product = product_after(&app, "MUG-1", &data["repriceProduct"]).await;
    assert_eq!(
        (&product["price"], &product["currency"]),
        (&json!("3.00"), &json!("USD"))
    );

    // The same price again changes nothing.
    let again = reprice(&app, "MUG-1", json!({ "price": "3", "currency": "USD" })).await;
    assert_eq!(again["version"], data["repriceProduct"]["version"]);
    assert_eq!(
        app.event_types("stock", "MUG-1").await,
        [
            "ProductRegistered",
            "StockRestocked",
            "ProductRepriced",
            "ProductRepriced"
        ]
    );
}

#[tokio::test]
async fn only_operators_reprice() {
    let app = spawn_app_without_saga().await;
    register(&app, "MUG-1", "12.50", "BRL").await;
    let mutation = "mutation { repriceProduct(input: { sku: \"MUG-1\", price: \"0.01\" }) { id } }";

    for (sub, role) in [
        ("alice", Role::Customer),
        ("arthur", Role::Agent),
        ("audrey", Role::Auditor),
    ] {
        let token = app.token(sub, role);
        problem(
            app.post(
                "/api/products/MUG-1/price",
                Some(&token),
                json!({ "price": "0.01" }),
            )
            .await,
            403,
            "FORBIDDEN",
        )
        .await;
        graphql_error(
            app.graphql(mutation, json!({}), Some(&token)).await,
            "FORBIDDEN",
        )
        .await;
    }
    assert_eq!(
        app.event_types("stock", "MUG-1").await,
        ["ProductRegistered", "StockRestocked"]
    );
}

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

#[tokio::test]
async fn the_openapi_document_lists_the_price_route_fields_and_answer() {
    let app = spawn_app_without_saga().await;
    let document = expect(app.get("/api/openapi.json", None, &[]).await, 200).await;

    let reprice = &document["paths"]["/api/products/{sku}/price"]["post"];
    assert!(reprice["responses"]["200"].is_object(), "{reprice}");
    let schemas = &document["components"]["schemas"];
    let required = schemas["RegisterProductBody"]["required"]
        .as_array()
        .unwrap();
    assert!(
        required.contains(&json!("price")) && required.contains(&json!("currency")),
        "{required:?}"
    );
    assert!(schemas["RepriceBody"]["properties"]["price"].is_object());
    assert!(schemas["Product"]["properties"]["price"].is_object());
    let line_required = schemas["OrderLineBody"]["required"].as_array().unwrap();
    assert!(
        !line_required.contains(&json!("unitPrice")),
        "{line_required:?}"
    );
    let unprocessable = document["paths"]["/api/orders"]["post"]["responses"]["422"]["description"]
        .as_str()
        .unwrap();
    assert!(unprocessable.contains("PRICE_MISMATCH"), "{unprocessable}");
}
