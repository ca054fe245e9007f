//! Who is not let in: no credentials, tokens that do not hold, other schemes, two
//! credentials, revoked API keys and subjects with surrounding spaces.

use application::Role;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use infrastructure::JwtKeys;
use reqwest::Response;
use serde_json::{Value, json};
use tests::{command_result, graphql_data, graphql_error, header, problem, spawn_app};

/// Every command path with a body it would accept.
fn every_command(order: &str, ticket: &str) -> Vec<(String, Value)> {
    vec![
        (
            "/api/products".into(),
            json!({ "sku": "MUG-1", "name": "Mug", "price": "9.90", "currency": "BRL" }),
        ),
        (
            "/api/products/MUG-1/restock".into(),
            json!({ "quantity": 1 }),
        ),
        (
            "/api/products/MUG-1/price".into(),
            json!({ "price": "9.90" }),
        ),
        (
            "/api/orders".into(),
            json!({ "customerId": "alice", "currency": "BRL", "lines": [], "paymentToken": "t" }),
        ),
        (format!("/api/orders/{order}/cancel"), json!({})),
        (format!("/api/orders/{order}/ship"), json!({})),
        (
            "/api/tickets".into(),
            json!({ "subject": "Hi", "message": "Hello" }),
        ),
        (
            format!("/api/tickets/{ticket}/messages"),
            json!({ "body": "Hi" }),
        ),
        (
            format!("/api/tickets/{ticket}/assign"),
            json!({ "agentId": "arthur" }),
        ),
        (
            format!("/api/tickets/{ticket}/close"),
            json!({ "resolution": "Done" }),
        ),
        (format!("/api/tickets/{ticket}/reopen"), json!({})),
    ]
}

/// A 401 problem with the challenge RFC 9110 asks for.
async fn unauthenticated(response: Response) -> Value {
    assert_eq!(header(&response, "www-authenticate"), "Bearer");
    problem(response, 401, "UNAUTHENTICATED").await
}

#[tokio::test]
async fn without_credentials_every_command_is_unauthenticated() {
    let app = spawn_app().await;
    let order = app.place_order("alice", "MUG-1", 1).await;
    let ticket = app.open_ticket("alice").await;

    for (path, body) in every_command(&order, &ticket) {
        unauthenticated(app.post(&path, None, body).await).await;
    }
    let mutation = "mutation { registerProduct(input: \
         { sku: \"MUG-1\", name: \"Mug\", price: \"9.90\", currency: \"BRL\" }) { id } }";
    graphql_error(
        app.graphql(mutation, json!({}), None).await,
        "UNAUTHENTICATED",
    )
    .await;

    assert_eq!(app.event_total().await, 2);
}

/// An unsigned (`alg: none`) token with `claims`.
fn unsigned(claims: &Value) -> String {
    let header = json!({ "alg": "none", "typ": "JWT" });
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

fn operator_claims() -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "sub": "mallory", "role": "operator", "iat": now, "exp": now + 3600 })
}

#[tokio::test]
async fn tokens_that_do_not_hold_are_unauthenticated() {
    let app = spawn_app().await;
    let product = json!({ "sku": "MUG-1", "name": "Mug", "price": "9.90", "currency": "BRL" });
    let other_secret = JwtKeys::new(&[7; 32]).unwrap();
    let genuine = app.token("alice", Role::Customer);
    let (head, _, signature) = {
        let mut parts = genuine.split('.');
        (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        )
    };
    let tampered = format!(
        "{head}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(operator_claims().to_string())
    );
    let tokens = [
        ("expired", app.expired_token("olga", Role::Operator)),
        (
            "signed with another secret",
            other_secret.sign(
                "olga",
                Role::Operator,
                chrono::Duration::hours(1),
                chrono::Utc::now(),
            ),
        ),
        ("alg none", unsigned(&operator_claims())),
        ("claims changed after signing", tampered),
        ("not a token", "hello".to_owned()),
    ];

    for (case, token) in tokens {
        let body = unauthenticated(
            app.post("/api/products", Some(&token), product.clone())
                .await,
        )
        .await;
        assert!(
            !body["detail"].as_str().unwrap().contains(&token),
            "{case}: the token is echoed"
        );
        let mutation = "mutation { registerProduct(input: \
             { sku: \"MUG-1\", name: \"Mug\", price: \"9.90\", currency: \"BRL\" }) { id } }";
        let error = graphql_error(
            app.graphql(mutation, json!({}), Some(&token)).await,
            "UNAUTHENTICATED",
        )
        .await;
        assert!(error["extensions"]["code"].is_string(), "{case}");
    }
    assert!(app.events("stock", "MUG-1").await.is_empty());
}

#[tokio::test]
async fn other_authorization_schemes_and_two_credentials_are_unauthenticated() {
    let app = spawn_app().await;
    let key = app
        .db
        .api_keys()
        .create("robot", Role::Operator)
        .await
        .unwrap();
    let token = app.token("olga", Role::Operator);
    let product = json!({ "sku": "MUG-1", "name": "Mug", "price": "9.90", "currency": "BRL" });

    let basic = app
        .post_with(
            "/api/products",
            None,
            product.clone(),
            &[("Authorization", "Basic b2xnYTpzZWNyZXQ=")],
        )
        .await;
    unauthenticated(basic).await;
    let both = app
        .post_with(
            "/api/products",
            Some(&token),
            product,
            &[("X-Api-Key", &key)],
        )
        .await;
    unauthenticated(both).await;

    assert!(app.events("stock", "MUG-1").await.is_empty());
}

#[tokio::test]
async fn an_api_key_acts_in_its_role_until_it_is_revoked() {
    let app = spawn_app().await;
    let key = app
        .db
        .api_keys()
        .create("stock-robot", Role::Operator)
        .await
        .unwrap();
    let auditor_key = app
        .db
        .api_keys()
        .create("audit-robot", Role::Auditor)
        .await
        .unwrap();
    let with_key = |key: &str| [("X-Api-Key", key.to_owned())];
    let product =
        |sku: &str| json!({ "sku": sku, "name": "Mug", "price": "9.90", "currency": "BRL" });

    let headers = with_key(&key);
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    command_result(
        app.post_with("/api/products", None, product("MUG-1"), &headers)
            .await,
        201,
    )
    .await;
    let metadata: Value =
        sqlx::query_scalar("SELECT metadata FROM events WHERE stream_id = 'MUG-1'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(metadata["actor"], "stock-robot", "{metadata}");
    let mutation = "mutation { restock(input: { sku: \"MUG-1\", quantity: 2 }) { id } }";
    let data = graphql_data(app.graphql_with(mutation, json!({}), None, &headers).await).await;
    assert_eq!(data["restock"]["id"], "MUG-1");

    let auditor = with_key(&auditor_key);
    let auditor: Vec<(&str, &str)> = auditor.iter().map(|(n, v)| (*n, v.as_str())).collect();
    problem(
        app.post_with("/api/products", None, product("MUG-2"), &auditor)
            .await,
        403,
        "FORBIDDEN",
    )
    .await;

    app.db.api_keys().revoke("stock-robot").await.unwrap();
    unauthenticated(
        app.post_with("/api/products", None, product("MUG-3"), &headers)
            .await,
    )
    .await;
    graphql_error(
        app.graphql_with(mutation, json!({}), None, &headers).await,
        "UNAUTHENTICATED",
    )
    .await;
    let unknown = format!("df_{}", "A".repeat(43));
    let unknown = [("X-Api-Key", unknown.as_str())];
    unauthenticated(
        app.post_with("/api/products", None, product("MUG-4"), &unknown)
            .await,
    )
    .await;

    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(recorded, 2, "registered and restocked MUG-1, nothing else");
}

/// A customer is its token's subject exactly: `"alice "` is not alice, so it neither lists
/// alice's orders nor places orders in her name.
#[tokio::test]
async fn a_customer_subject_with_surrounding_spaces_is_nobody() {
    let app = spawn_app().await;
    app.register_product("MUG-1", 5).await;
    app.place_order("alice", "MUG-1", 1).await;
    let spaced = app.token("alice ", Role::Customer);
    let response = app
        .graphql(
            "{ orders { edges { node { id } } } }",
            json!({}),
            Some(&spaced),
        )
        .await;
    graphql_error(response, "FORBIDDEN").await;
    let order = json!({
        "currency": "BRL",
        "lines": [{ "sku": "MUG-1", "quantity": 1, "unitPrice": "12.50" }],
        "paymentToken": "tok_visa",
    });
    problem(
        app.post("/api/orders", Some(&spaced), order).await,
        403,
        "FORBIDDEN",
    )
    .await;
}
