//! Reading a product: its stock levels after it is registered and restocked.

use application::Role;
use serde_json::json;
use tests::{expect, graphql_data, problem, spawn_app};

#[tokio::test]
async fn a_product_shows_its_stock_after_register_and_restock() {
    let app = spawn_app().await;
    app.register_product("STK-1", 7).await;
    let operator = app.token("olga", Role::Operator);
    let restocked = expect(
        app.post(
            "/api/products/STK-1/restock",
            Some(&operator),
            json!({ "quantity": 5 }),
        )
        .await,
        200,
    )
    .await;
    let at = restocked["position"].as_str().unwrap();
    let alice = app.token("alice", Role::Customer);
    let product = expect(
        app.get(
            "/api/products/STK-1",
            Some(&alice),
            &[("X-Consistent-With", at)],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(product["sku"], "STK-1");
    assert_eq!(product["onHand"], 12);
    assert_eq!(product["available"], 12);
    assert_eq!(product["reserved"], 0);

    let query =
        "query($at: String) { product(sku: \"STK-1\", consistentWith: $at) { onHand available } }";
    let data = graphql_data(app.graphql(query, json!({ "at": at }), Some(&alice)).await).await;
    assert_eq!(data["product"], json!({ "onHand": 12, "available": 12 }));
    problem(
        app.get("/api/products/NOPE-1", Some(&alice), &[]).await,
        404,
        "NOT_FOUND",
    )
    .await;
    problem(
        app.get("/api/products/bad%20sku", Some(&alice), &[]).await,
        422,
        "VALIDATION",
    )
    .await;
}
