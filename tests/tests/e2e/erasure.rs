//! Erasing a customer on a server started without a data key: refused as not configured (409), on
//! both APIs, with nothing recorded; customers' personal data is then stored in the clear.

use application::Role;
use serde_json::json;
use tests::{problem, spawn_app_without_saga};

#[tokio::test]
async fn without_a_data_key_an_erasure_is_refused_and_nothing_is_recorded() {
    let app = spawn_app_without_saga().await;
    app.open_ticket("ann").await;
    let operator = app.token("operator-1", Role::Operator);
    let refused = problem(
        app.post("/api/customers/ann/erasure", Some(&operator), json!({}))
            .await,
        409,
        "NOT_CONFIGURED",
    )
    .await;
    assert!(
        refused["detail"].as_str().unwrap().contains("--data-key"),
        "{refused}"
    );
    let graphql: serde_json::Value = app
        .graphql(
            "mutation { eraseCustomer(input: {customerId: \"ann\"}) { version } }",
            json!({}),
            Some(&operator),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        graphql["errors"][0]["extensions"]["code"], "NOT_CONFIGURED",
        "{graphql}"
    );
    assert_eq!(app.events("customer", "ann").await, []);
    // Without a key, what a customer wrote is stored as written.
    let (_, opened) = app
        .events("ticket", &app.open_ticket("ann").await)
        .await
        .remove(0);
    assert_eq!(opened["subject"], "Where is my parcel?");
}
