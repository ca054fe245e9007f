//! A server started without a data key: it refuses erasures as not configured (409) on both
//! APIs, recording nothing, and stores customers' personal data in the clear, until the
//! database has a key, when it stops writing it at all.

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

#[tokio::test]
async fn a_server_without_a_data_key_stops_writing_tickets_once_the_database_has_one() {
    let app = spawn_app_without_saga().await;
    // What a server started with a key writes when it makes its key the database's.
    app.db
        .break_glass("INSERT INTO data_key_check (sealed) VALUES ('\\x00')")
        .await;
    let customer = app.token("ann", Role::Customer);
    let body = json!({ "subject": "In the clear?", "message": "Never beside encrypted data." });
    let refused = problem(
        app.post("/api/tickets", Some(&customer), body).await,
        500,
        "INTERNAL",
    )
    .await;
    assert!(refused["requestId"].is_string(), "{refused}");
    assert_eq!(app.event_total().await, 0, "nothing was written");
}
