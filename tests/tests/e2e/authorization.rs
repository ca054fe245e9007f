//! Who may run which command, on both transports, exactly as API.md's table says; and who
//! is not even let in: no credentials, expired, forged or unsigned tokens, revoked API keys.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use application::Role;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use infrastructure::JwtKeys;
use reqwest::Response;
use serde_json::{Value, json};
use tests::{
    TestApp, body_json, command_result, graphql_data, graphql_error, header, problem, spawn_app,
    spawn_app_without_saga,
};

/// The commands of API.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    RegisterProduct,
    RepriceProduct,
    Restock,
    PlaceOrder,
    CancelOrder,
    ShipOrder,
    OpenTicket,
    PostMessage,
    AssignTicket,
    CloseTicket,
    ReopenTicket,
}

const Y: bool = true;
const N: bool = false;

/// The columns of [`MATRIX`].
const ROLES: [Role; 4] = [Role::Customer, Role::Agent, Role::Operator, Role::Auditor];

/// API.md's table: may this role run this command? Customers act on their own orders and
/// tickets (the fixtures belong to the calling customer); auditors run nothing.
#[rustfmt::skip]
const MATRIX: [(Command, [bool; 4]); 11] = [
    //                          customer agent operator auditor
    (Command::RegisterProduct,  [N,       N,    Y,       N]),
    (Command::RepriceProduct,   [N,       N,    Y,       N]),
    (Command::Restock,          [N,       N,    Y,       N]),
    (Command::PlaceOrder,       [Y,       N,    Y,       N]),
    (Command::CancelOrder,      [Y,       N,    Y,       N]),
    (Command::ShipOrder,        [N,       N,    Y,       N]),
    (Command::OpenTicket,       [Y,       Y,    N,       N]),
    (Command::PostMessage,      [Y,       Y,    N,       N]),
    (Command::AssignTicket,     [N,       Y,    N,       N]),
    (Command::CloseTicket,      [Y,       Y,    N,       N]),
    (Command::ReopenTicket,     [Y,       Y,    N,       N]),
];

/// The customer who owns every order and ticket of the fixtures.
const CUSTOMER: &str = "alice";

fn subject(role: Role) -> &'static str {
    match role {
        Role::Customer => CUSTOMER,
        Role::Agent => "arthur",
        Role::Operator => "olga",
        Role::Auditor => "audrey",
    }
}

/// One command ready to run against fresh fixtures, in both transports' words.
struct Request {
    path: String,
    body: Value,
    status: u16,
    mutation: &'static str,
    input: Value,
}

/// Prepares `command` on fixtures of its own (`n` keeps SKUs apart).
async fn prepare(app: &TestApp, command: Command, n: usize) -> Request {
    let request = |path: String, body: Value, status, mutation, input| Request {
        path,
        body,
        status,
        mutation,
        input,
    };
    match command {
        Command::RegisterProduct => {
            let body = json!({ "sku": format!("NEW-{n}"), "name": "Mug", "price": "9.90",
                               "currency": "BRL" });
            request(
                "/api/products".into(),
                body.clone(),
                201,
                "registerProduct",
                body,
            )
        }
        Command::RepriceProduct => {
            let sku = format!("PRICED-{n}");
            app.register_product(&sku, 1).await;
            let input = json!({ "sku": sku, "price": "14.90" });
            request(
                format!("/api/products/{sku}/price"),
                json!({ "price": "14.90" }),
                200,
                "repriceProduct",
                input,
            )
        }
        Command::Restock => {
            let sku = format!("OLD-{n}");
            app.register_product(&sku, 1).await;
            let input = json!({ "sku": sku, "quantity": 3 });
            request(
                format!("/api/products/{sku}/restock"),
                json!({ "quantity": 3 }),
                200,
                "restock",
                input,
            )
        }
        Command::PlaceOrder => {
            // At the catalog price: the line states none.
            let sku = format!("BUY-{n}");
            app.register_product(&sku, 1).await;
            let body = json!({
                "customerId": CUSTOMER,
                "currency": "BRL",
                "lines": [{ "sku": sku, "quantity": 1 }],
                "paymentToken": "tok_visa",
            });
            request("/api/orders".into(), body.clone(), 202, "placeOrder", body)
        }
        Command::CancelOrder => {
            // Stock and a payment that never answers keep the order cancellable: fulfilment
            // leaves it pending (until its 30 s deadline) instead of cancelling it first.
            let sku = format!("CANCEL-{n}");
            app.register_product(&sku, 1).await;
            let order = app
                .place_order_paid_with(CUSTOMER, &[(sku.as_str(), 1)], "tok_timeout")
                .await;
            let input = json!({ "orderId": order });
            request(
                format!("/api/orders/{order}/cancel"),
                json!({}),
                202,
                "cancelOrder",
                input,
            )
        }
        Command::ShipOrder => {
            let sku = format!("SHIP-{n}");
            app.register_product(&sku, 1).await;
            let order = app.place_order(CUSTOMER, &sku, 1).await;
            app.confirm_order(&order).await;
            let input = json!({ "orderId": order });
            request(
                format!("/api/orders/{order}/ship"),
                json!({}),
                200,
                "shipOrder",
                input,
            )
        }
        Command::OpenTicket => {
            let body = json!({ "customerId": CUSTOMER, "subject": "Hi", "message": "Hello" });
            request("/api/tickets".into(), body.clone(), 201, "openTicket", body)
        }
        Command::PostMessage => {
            let ticket = app.open_ticket(CUSTOMER).await;
            let input = json!({ "ticketId": ticket, "body": "Any news?" });
            let path = format!("/api/tickets/{ticket}/messages");
            request(
                path,
                json!({ "body": "Any news?" }),
                200,
                "postTicketMessage",
                input,
            )
        }
        Command::AssignTicket => {
            let ticket = app.open_ticket(CUSTOMER).await;
            let input = json!({ "ticketId": ticket, "agentId": "arthur" });
            let path = format!("/api/tickets/{ticket}/assign");
            request(
                path,
                json!({ "agentId": "arthur" }),
                200,
                "assignTicket",
                input,
            )
        }
        Command::CloseTicket => {
            let ticket = app.open_ticket(CUSTOMER).await;
            let input = json!({ "ticketId": ticket, "resolution": "Done" });
            let path = format!("/api/tickets/{ticket}/close");
            request(
                path,
                json!({ "resolution": "Done" }),
                200,
                "closeTicket",
                input,
            )
        }
        Command::ReopenTicket => {
            let ticket = app.open_ticket(CUSTOMER).await;
            app.close_ticket(CUSTOMER, &ticket).await;
            let input = json!({ "ticketId": ticket });
            request(
                format!("/api/tickets/{ticket}/reopen"),
                json!({}),
                200,
                "reopenTicket",
                input,
            )
        }
    }
}

/// Runs `request` as GraphQL `mutation`.
async fn mutate(app: &TestApp, request: &Request, token: Option<&str>) -> Response {
    let name = request.mutation;
    let input_type = format!("{}{}Input", name[..1].to_uppercase(), &name[1..]);
    let query = format!("mutation Run($input: {input_type}!) {{ {name}(input: $input) {{ id }} }}");
    app.graphql(&query, json!({ "input": request.input }), token)
        .await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Rest,
    Graphql,
}

/// What the caller noticed: `Ok` when the command ran, the error code otherwise.
async fn outcome(
    app: &TestApp,
    transport: Transport,
    request: &Request,
    token: &str,
) -> Result<(), String> {
    match transport {
        Transport::Rest => {
            let response = app
                .post(&request.path, Some(token), request.body.clone())
                .await;
            let status = response.status().as_u16();
            let body = body_json(response).await;
            if status == request.status && body["id"].is_string() {
                Ok(())
            } else {
                Err(format!("{status} {}", body["code"]))
            }
        }
        Transport::Graphql => {
            let body = body_json(mutate(app, request, Some(token)).await).await;
            if body["data"][request.mutation]["id"].is_string() {
                Ok(())
            } else {
                Err(format!("{}", body["errors"][0]["extensions"]["code"]))
            }
        }
    }
}

/// Runs every cell of [`MATRIX`] over `transport` and lists the cells that disagree.
async fn check_matrix(transport: Transport) {
    let app = spawn_app().await;
    let mut disagreements = Vec::new();
    for (row, (command, allowed)) in MATRIX.iter().enumerate() {
        for (column, (role, allowed)) in ROLES.iter().zip(allowed).enumerate() {
            let request = prepare(&app, *command, row * ROLES.len() + column).await;
            let token = app.token(subject(*role), *role);
            let before = app.event_total().await;
            let outcome = outcome(&app, transport, &request, &token).await;
            let forbidden = match transport {
                Transport::Rest => "403 \"FORBIDDEN\"",
                Transport::Graphql => "\"FORBIDDEN\"",
            };
            let as_expected = match &outcome {
                Ok(()) => *allowed,
                Err(code) => !*allowed && code == forbidden && app.event_total().await == before,
            };
            if !as_expected {
                let expected = if *allowed { "allowed" } else { "forbidden" };
                disagreements.push(format!(
                    "{role} {command:?}: expected {expected}, got {outcome:?}"
                ));
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{transport:?} disagrees with the role table:\n{}",
        disagreements.join("\n")
    );
}

#[tokio::test]
async fn rest_commands_follow_the_role_table() {
    check_matrix(Transport::Rest).await;
}

#[tokio::test]
async fn graphql_mutations_follow_the_role_table() {
    check_matrix(Transport::Graphql).await;
}

#[tokio::test]
async fn a_customer_may_not_touch_another_customers_order() {
    let app = spawn_app_without_saga().await;
    let order = app.place_order("alice", "MUG-1", 1).await;
    let bob = app.token("bob", Role::Customer);

    let response = app
        .post(
            &format!("/api/orders/{order}/cancel"),
            Some(&bob),
            json!({}),
        )
        .await;
    problem(response, 403, "FORBIDDEN").await;
    let mutation =
        "mutation { cancelOrder(input: { orderId: \"ID\" }) { id } }".replace("ID", &order);
    graphql_error(
        app.graphql(&mutation, json!({}), Some(&bob)).await,
        "FORBIDDEN",
    )
    .await;

    assert_eq!(app.event_types("order", &order).await, ["OrderPlaced"]);
}

#[tokio::test]
async fn a_customer_may_not_touch_another_customers_ticket() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;
    let bob = app.token("bob", Role::Customer);

    for (action, body) in [
        ("messages", json!({ "body": "Hi" })),
        ("close", json!({ "resolution": "Mine now" })),
        ("reopen", json!({})),
    ] {
        let response = app
            .post(&format!("/api/tickets/{ticket}/{action}"), Some(&bob), body)
            .await;
        problem(response, 403, "FORBIDDEN").await;
    }

    assert_eq!(app.event_types("ticket", &ticket).await, ["TicketOpened"]);
}

#[tokio::test]
async fn a_customer_may_not_order_or_open_tickets_for_someone_else() {
    let app = spawn_app().await;
    let alice = app.token("alice", Role::Customer);
    let order = json!({
        "customerId": "bob",
        "currency": "BRL",
        "lines": [{ "sku": "MUG-1", "quantity": 1, "unitPrice": "9.90" }],
        "paymentToken": "tok_visa",
    });
    let ticket = json!({ "customerId": "bob", "subject": "Hi", "message": "Hello" });

    problem(
        app.post("/api/orders", Some(&alice), order).await,
        403,
        "FORBIDDEN",
    )
    .await;
    problem(
        app.post("/api/tickets", Some(&alice), ticket).await,
        403,
        "FORBIDDEN",
    )
    .await;

    assert_eq!(app.event_total().await, 0);
}

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
