//! Unknown products, orders, tickets and routes answer a not-found problem.

use serde_json::{Value, json};
use tests::{problem, spawn_app};
use uuid::Uuid;

use super::{agent, customer, event_total, operator, order_body};

#[tokio::test]
async fn commands_on_unknown_products_orders_and_tickets_are_not_found() {
    let app = spawn_app().await;
    let unknown = Uuid::now_v7();
    let (ops, alice, arthur) = (operator(&app), customer(&app), agent(&app));
    let cases: Vec<(&str, String, Value)> = vec![
        (
            &ops,
            "/api/products/NOPE-1/restock".into(),
            json!({ "quantity": 1 }),
        ),
        (
            &ops,
            "/api/products/NOPE-1/price".into(),
            json!({ "price": "1.00" }),
        ),
        (
            &ops,
            "/api/products/NOPE-1/price".into(),
            json!({ "price": "1.00", "currency": "BRL" }),
        ),
        // A line with no price for a product nobody registered: nothing to charge.
        (
            &alice,
            "/api/orders".into(),
            order_body(json!([{ "sku": "GHOST-1", "quantity": 1 }])),
        ),
        (&alice, format!("/api/orders/{unknown}/cancel"), json!({})),
        (&ops, format!("/api/orders/{unknown}/cancel"), json!({})),
        (&ops, format!("/api/orders/{unknown}/ship"), json!({})),
        (
            &alice,
            format!("/api/tickets/{unknown}/messages"),
            json!({ "body": "Hi" }),
        ),
        (
            &arthur,
            format!("/api/tickets/{unknown}/assign"),
            json!({ "agentId": "arthur" }),
        ),
        (
            &arthur,
            format!("/api/tickets/{unknown}/close"),
            json!({ "resolution": "Done" }),
        ),
        (&alice, format!("/api/tickets/{unknown}/reopen"), json!({})),
    ];

    for (token, path, body) in cases {
        let body = problem(app.post(&path, Some(token), body).await, 404, "NOT_FOUND").await;
        assert!(body.get("reason").is_none(), "{path}: {body}");
    }
    assert_eq!(event_total(&app).await, 0);
}

#[tokio::test]
async fn an_unknown_route_is_a_not_found_problem() {
    let app = spawn_app().await;

    let response = app
        .post("/api/widgets", Some(&operator(&app)), json!({}))
        .await;

    problem(response, 404, "NOT_FOUND").await;
}
