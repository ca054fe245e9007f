//! A product's price in the catalog: shown on both transports, changed by operators only,
//! and documented in the OpenAPI document.

use application::Role;
use serde_json::json;
use tests::{expect, graphql_data, graphql_error, problem, spawn_app_without_saga};

use super::{customer, operator, product_after, register, reprice};

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
