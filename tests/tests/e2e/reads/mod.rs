//! The read side over real HTTP: REST GETs and GraphQL queries of the read models,
//! read-your-writes with `X-Consistent-With` / `consistentWith`, authorization (a customer
//! never sees another's order) and Relay pagination.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod counts;
mod orders;
mod products;
mod tickets;

use application::Role;
use serde_json::{Value, json};
use tests::{TestApp, expect};

/// Places an order of 2 × `sku` as `customer`; the command result.
async fn place(app: &TestApp, customer: &str, sku: &str) -> Value {
    let body = json!({
        "currency": "BRL",
        "lines": [{ "sku": sku, "quantity": 2, "unitPrice": "12.50" }],
        "paymentToken": "tok_visa",
    });
    let token = app.token(customer, Role::Customer);
    expect(app.post("/api/orders", Some(&token), body).await, 202).await
}
