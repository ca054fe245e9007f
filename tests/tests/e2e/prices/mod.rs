//! Catalog prices end to end: products are registered with a price and repriced by
//! operators, orders are charged the catalog price, and a line stating another price is
//! refused with `PRICE_MISMATCH` on both transports.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod before_prices;
mod catalog;
mod orders;

use application::Role;
use serde_json::{Value, json};
use tests::{TestApp, command_result, expect};

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
