//! Requests outside the documented limits of products, orders and tickets are validation
//! problems.

use serde_json::{Value, json};
use tests::{TestApp, spawn_app};

use super::{agent, customer, event_total, operator, order_body, product};

fn line(sku: &str, quantity: u32, price: &str) -> Value {
    json!({ "sku": sku, "quantity": quantity, "unitPrice": price })
}

// --- malformed requests ---

/// What the limit tests send refused requests against: a product, a settled order and a
/// ticket, and the number of events recorded once fulfilment is done.
struct Limits {
    app: TestApp,
    order: String,
    ticket: String,
    before: i64,
    ops: String,
    alice: String,
    arthur: String,
}

async fn limits() -> Limits {
    let app = spawn_app().await;
    app.register_product("MUG-1", 5).await;
    let order = app.place_order("alice", "MUG-1", 1).await;
    let ticket = app.open_ticket("alice").await;
    // Fulfilment appends events of its own: count once it is done.
    app.settled_order(&order, std::time::Duration::from_secs(30))
        .await;
    let before = event_total(&app).await;
    let (ops, alice, arthur) = (operator(&app), customer(&app), agent(&app));
    Limits {
        app,
        order,
        ticket,
        before,
        ops,
        alice,
        arthur,
    }
}

impl Limits {
    /// Every case is a 422 `VALIDATION` problem, and none recorded an event.
    async fn all_refused(&self, cases: Vec<(&str, &str, String, Value)>) {
        for (case, token, path, body) in cases {
            let response = self.app.post(&path, Some(token), body).await;
            let status = response.status();
            let problem = tests::body_json(response).await;
            assert_eq!(
                (status.as_u16(), problem["code"].as_str()),
                (422, Some("VALIDATION")),
                "{case}: {problem}"
            );
        }
        assert_eq!(
            event_total(&self.app).await,
            self.before,
            "a refused request recorded events"
        );
    }
}

#[tokio::test]
async fn product_requests_outside_the_documented_limits_are_validation_problems() {
    let l = limits().await;
    l.all_refused(vec![
        (
            "a SKU with a space",
            &l.ops,
            "/api/products".into(),
            product("MUG 1", "Mug"),
        ),
        (
            "a SKU of 65 characters",
            &l.ops,
            "/api/products".into(),
            product(&"S".repeat(65), "Mug"),
        ),
        (
            "an empty product name",
            &l.ops,
            "/api/products".into(),
            product("MUG-2", "  "),
        ),
        (
            "an unknown field",
            &l.ops,
            "/api/products".into(),
            json!({ "sku": "MUG-2", "name": "Mug", "price": "1", "currency": "BRL",
                    "colour": "red" }),
        ),
        (
            "a negative opening stock",
            &l.ops,
            "/api/products".into(),
            json!({ "sku": "MUG-2", "name": "Mug", "initialQuantity": -1,
                    "price": "1", "currency": "BRL" }),
        ),
        (
            "a product without a price",
            &l.ops,
            "/api/products".into(),
            json!({ "sku": "MUG-2", "name": "Mug", "currency": "BRL" }),
        ),
        (
            "a product without a currency",
            &l.ops,
            "/api/products".into(),
            json!({ "sku": "MUG-2", "name": "Mug", "price": "1" }),
        ),
        (
            "a free product",
            &l.ops,
            "/api/products".into(),
            json!({ "sku": "MUG-2", "name": "Mug", "price": "0.00", "currency": "BRL" }),
        ),
        (
            "a price with more decimals than the currency has",
            &l.ops,
            "/api/products".into(),
            json!({ "sku": "MUG-2", "name": "Mug", "price": "1.5", "currency": "JPY" }),
        ),
        (
            "repricing to a negative price",
            &l.ops,
            "/api/products/MUG-1/price".into(),
            json!({ "price": "-1.00" }),
        ),
        (
            "repricing in a lower-case currency",
            &l.ops,
            "/api/products/MUG-1/price".into(),
            json!({ "price": "1.00", "currency": "usd" }),
        ),
        (
            "restocking zero units",
            &l.ops,
            "/api/products/MUG-1/restock".into(),
            json!({ "quantity": 0 }),
        ),
        (
            "restocking without a quantity",
            &l.ops,
            "/api/products/MUG-1/restock".into(),
            json!({}),
        ),
        (
            "a bad SKU in the path",
            &l.ops,
            "/api/products/MUG%201/restock".into(),
            json!({ "quantity": 1 }),
        ),
    ])
    .await;
}

#[tokio::test]
async fn order_requests_outside_the_documented_limits_are_validation_problems() {
    let l = limits().await;
    let many_lines: Vec<Value> = (0..101)
        .map(|i| line(&format!("SKU-{i}"), 1, "1.00"))
        .collect();
    l.all_refused(vec![
        (
            "an order without lines",
            &l.alice,
            "/api/orders".into(),
            order_body(json!([])),
        ),
        (
            "an order of 101 lines",
            &l.alice,
            "/api/orders".into(),
            order_body(json!(many_lines)),
        ),
        (
            "a line of zero units",
            &l.alice,
            "/api/orders".into(),
            order_body(json!([line("MUG-1", 0, "1.00")])),
        ),
        (
            "a line with a bad SKU",
            &l.alice,
            "/api/orders".into(),
            order_body(json!([line("MUG/1", 1, "1.00")])),
        ),
        (
            "a price with three decimals",
            &l.alice,
            "/api/orders".into(),
            order_body(json!([line("MUG-1", 1, "12.505")])),
        ),
        (
            "a price that is not a number",
            &l.alice,
            "/api/orders".into(),
            order_body(json!([line("MUG-1", 1, "cheap")])),
        ),
        (
            "a lower-case currency",
            &l.alice,
            "/api/orders".into(),
            json!({
                "currency": "brl",
                "lines": [line("MUG-1", 1, "1.00")],
                "paymentToken": "tok_visa",
            }),
        ),
        (
            "no payment token",
            &l.alice,
            "/api/orders".into(),
            json!({ "currency": "BRL", "lines": [line("MUG-1", 1, "1.00")] }),
        ),
        (
            "a bad order id in the path",
            &l.alice,
            "/api/orders/not-a-uuid/cancel".into(),
            json!({}),
        ),
        (
            "a cancellation reason of fulfilment",
            &l.alice,
            format!("/api/orders/{}/cancel", l.order),
            json!({ "reason": "OUT_OF_STOCK" }),
        ),
        (
            "shipping a bad order id",
            &l.ops,
            "/api/orders/42/ship".into(),
            json!({}),
        ),
    ])
    .await;
}

#[tokio::test]
async fn ticket_requests_outside_the_documented_limits_are_validation_problems() {
    let l = limits().await;
    let long_text = "x".repeat(4001);
    l.all_refused(vec![
        (
            "an empty subject",
            &l.alice,
            "/api/tickets".into(),
            json!({ "subject": "", "message": "Hello" }),
        ),
        (
            "a first message of 4001 characters",
            &l.alice,
            "/api/tickets".into(),
            json!({ "subject": "Hi", "message": long_text }),
        ),
        (
            "a ticket about a bad order id",
            &l.alice,
            "/api/tickets".into(),
            json!({ "subject": "Hi", "message": "Hello", "orderId": "x" }),
        ),
        (
            "a message of 4001 characters",
            &l.alice,
            format!("/api/tickets/{}/messages", l.ticket),
            json!({ "body": long_text }),
        ),
        (
            "an empty message",
            &l.alice,
            format!("/api/tickets/{}/messages", l.ticket),
            json!({ "body": "" }),
        ),
        (
            "a message to a bad ticket id",
            &l.alice,
            "/api/tickets/nope/messages".into(),
            json!({ "body": "Hello" }),
        ),
        (
            "an empty agent id",
            &l.arthur,
            format!("/api/tickets/{}/assign", l.ticket),
            json!({ "agentId": "" }),
        ),
        (
            "an empty resolution",
            &l.alice,
            format!("/api/tickets/{}/close", l.ticket),
            json!({ "resolution": "" }),
        ),
        (
            "reopening a bad ticket id",
            &l.alice,
            "/api/tickets/123/reopen".into(),
            json!({}),
        ),
        (
            "a body on a bodiless command",
            &l.alice,
            format!("/api/tickets/{}/reopen", l.ticket),
            json!({ "now": true }),
        ),
    ])
    .await;
}
