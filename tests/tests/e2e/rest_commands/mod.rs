//! Every REST command of API.md over real HTTP: what it answers when it works, each way a
//! malformed request is refused, each business rule that says no, and what the event log
//! holds afterwards.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accepted;
mod limits;
mod malformed;
mod not_found;
mod rejections;

use application::Role;
use serde_json::{Value, json};
use tests::TestApp;

fn operator(app: &TestApp) -> String {
    app.token("olga", Role::Operator)
}

fn customer(app: &TestApp) -> String {
    app.token("alice", Role::Customer)
}

fn agent(app: &TestApp) -> String {
    app.token("arthur", Role::Agent)
}

fn order_body(lines: Value) -> Value {
    json!({ "currency": "BRL", "lines": lines, "paymentToken": "tok_visa" })
}

fn product(sku: &str, name: &str) -> Value {
    json!({ "sku": sku, "name": name, "initialQuantity": 1, "lowStockThreshold": 0,
            "price": "12.50", "currency": "BRL" })
}

/// How many events the whole log holds.
async fn event_total(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}
