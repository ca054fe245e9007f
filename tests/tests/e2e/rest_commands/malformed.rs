//! Malformed requests: the validation problem document, bodies that are not JSON or not
//! declared as JSON, and commands without a body.

use serde_json::json;
use tests::{problem, spawn_app};

use super::operator;

#[tokio::test]
async fn a_validation_problem_is_a_complete_problem_document() {
    let app = spawn_app().await;

    let response = app
        .post(
            "/api/products/MUG-1/restock",
            Some(&operator(&app)),
            json!({ "quantity": 0 }),
        )
        .await;

    let body = problem(response, 422, "VALIDATION").await;
    assert!(
        body["detail"].as_str().unwrap().contains("quantity"),
        "{body}"
    );
    assert!(body.get("reason").is_none(), "{body}");
}

#[tokio::test]
async fn malformed_json_is_a_validation_problem() {
    let app = spawn_app().await;

    let response = app
        .post_raw(
            "/api/products",
            Some(&operator(&app)),
            "application/json",
            r#"{"sku": "MUG-1", "name": "#,
        )
        .await;

    problem(response, 422, "VALIDATION").await;
}

#[tokio::test]
async fn a_body_that_is_not_declared_json_is_a_validation_problem() {
    let app = spawn_app().await;
    let body = r#"{"sku": "MUG-1", "name": "Mug"}"#;

    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let response = app
            .post_raw("/api/products", Some(&operator(&app)), content_type, body)
            .await;
        problem(response, 422, "VALIDATION").await;
    }
    assert!(app.events("stock", "MUG-1").await.is_empty());
}

#[tokio::test]
async fn a_command_without_a_body_still_needs_its_fields() {
    let app = spawn_app().await;

    let response = app
        .post_raw(
            "/api/products",
            Some(&operator(&app)),
            "application/json",
            "",
        )
        .await;

    problem(response, 422, "VALIDATION").await;
}
