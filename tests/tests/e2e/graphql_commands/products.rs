//! The product mutations: registering, repricing and restocking, with their validation and
//! rejections.

use application::Role;
use serde_json::json;
use tests::spawn_app;

use super::{OPERATOR, fails, rejected, succeeds};

#[tokio::test]
async fn register_product_registers_refuses_a_bad_sku_and_rejects_a_second_registration() {
    let app = spawn_app().await;
    let input = json!({ "sku": "MUG-1", "name": "Mug", "initialQuantity": 5,
                        "price": "12.50", "currency": "BRL" });

    let result = succeeds(
        &app,
        "registerProduct",
        input.clone(),
        "olga",
        Role::Operator,
    )
    .await;
    assert_eq!(
        (result["id"].as_str(), result["streamType"].as_str()),
        (Some("MUG-1"), Some("stock"))
    );
    assert_eq!(
        app.event_types("stock", "MUG-1").await,
        ["ProductRegistered", "StockRestocked"]
    );

    let bad_sku = json!({ "sku": "MUG 2", "name": "Mug", "price": "1", "currency": "BRL" });
    fails(&app, "registerProduct", bad_sku, OPERATOR, "VALIDATION").await;
    let no_price = json!({ "sku": "MUG-2", "name": "Mug", "currency": "BRL" });
    fails(&app, "registerProduct", no_price, OPERATOR, "VALIDATION").await;
    let free = json!({ "sku": "MUG-2", "name": "Mug", "price": "0", "currency": "BRL" });
    fails(&app, "registerProduct", free, OPERATOR, "VALIDATION").await;
    rejected(
        &app,
        "registerProduct",
        input,
        OPERATOR,
        "AlreadyRegistered",
    )
    .await;
    assert_eq!(app.event_types("stock", "MUG-1").await.len(), 2);
    assert!(app.events("stock", "MUG 2").await.is_empty());
    assert!(app.events("stock", "MUG-2").await.is_empty());
}

#[tokio::test]
async fn reprice_product_reprices_refuses_a_bad_price_and_finds_no_unknown_sku() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 5).await;

    let result = succeeds(
        &app,
        "repriceProduct",
        json!({ "sku": "MUG-1", "price": "14.90" }),
        "olga",
        Role::Operator,
    )
    .await;
    assert_eq!(
        (result["id"].as_str(), result["version"].as_i64()),
        (Some("MUG-1"), Some(3))
    );
    assert_eq!(
        app.events("stock", "MUG-1").await.last().unwrap(),
        &(
            "ProductRepriced".to_owned(),
            json!({ "priceMinor": 1490, "currency": "BRL" })
        )
    );

    for bad in [json!("0"), json!("1.999"), json!("cheap")] {
        let input = json!({ "sku": "MUG-1", "price": bad });
        fails(&app, "repriceProduct", input, OPERATOR, "VALIDATION").await;
    }
    let unknown = json!({ "sku": "NOPE-1", "price": "1.00" });
    fails(&app, "repriceProduct", unknown, OPERATOR, "NOT_FOUND").await;
    assert_eq!(app.events("stock", "MUG-1").await.len(), 3);
}

#[tokio::test]
async fn restock_adds_units_refuses_zero_and_rejects_an_overflow_or_an_unknown_sku() {
    let app = spawn_app().await;
    let billion = 1_000_000_000;
    app.register_product("MUG-1", billion).await;

    for _ in 0..3 {
        let result = succeeds(
            &app,
            "restock",
            json!({ "sku": "MUG-1", "quantity": billion }),
            "olga",
            Role::Operator,
        )
        .await;
        assert_eq!(result["streamType"], "stock");
    }
    let restocks = app.events("stock", "MUG-1").await;
    assert_eq!(
        restocks.last().unwrap(),
        &("StockRestocked".to_owned(), json!({ "quantity": billion }))
    );

    fails(
        &app,
        "restock",
        json!({ "sku": "MUG-1", "quantity": 0 }),
        OPERATOR,
        "VALIDATION",
    )
    .await;
    // Four billion units are on hand: a fifth billion does not fit.
    rejected(
        &app,
        "restock",
        json!({ "sku": "MUG-1", "quantity": billion }),
        OPERATOR,
        "QuantityOverflow",
    )
    .await;
    fails(
        &app,
        "restock",
        json!({ "sku": "NOPE-1", "quantity": 1 }),
        OPERATOR,
        "NOT_FOUND",
    )
    .await;
    assert_eq!(app.events("stock", "MUG-1").await.len(), restocks.len());
}
