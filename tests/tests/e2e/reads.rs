//! The read side over real HTTP: REST GETs and GraphQL queries of the read models,
//! read-your-writes with `X-Consistent-With` / `consistentWith`, authorization (a customer
//! never sees another's order) and Relay pagination.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;

use application::Role;
use application::event_log::Position;
use serde_json::{Value, json};
use tests::{TestApp, expect, graphql_data, graphql_error, problem, spawn_app};

/// Places an order of 2 × `sku` as `customer`; the command result.
async fn place(app: &TestApp, customer: &str, sku: &str) -> Value {
    let body = json!({
        "currency": "BRL",
        "lines": [{ "sku": sku, "quantity": 2, "unitPrice": "12.50" }],
        "paymentToken": "tok_visa",
    });
    let token = app.token(customer, Role::Customer);
    expect(app.post("/api/orders", Some(&token), body).await, 202).await
}

fn unreachable_token() -> String {
    Position {
        transaction_id: u64::MAX >> 2,
        position: i64::MAX >> 2,
    }
    .token()
}

const ORDER: &str = "query($id: ID!, $at: String) {
    order(id: $id, consistentWith: $at) {
        id customerId status currency total lines { sku quantity unitPrice lineTotal }
        payment { status amount } timeline { at event } version placedAt
    }
}";

#[tokio::test]
async fn an_order_is_readable_right_after_it_is_placed() {
    let app = spawn_app().await;
    app.register_product("RYW-1", 10).await;
    let result = place(&app, "alice", "RYW-1").await;
    let id = result["orderId"].as_str().unwrap();
    let position = result["position"].as_str().unwrap();
    let alice = app.token("alice", Role::Customer);

    let response = app
        .get(
            &format!("/api/orders/{id}"),
            Some(&alice),
            &[("X-Consistent-With", position)],
        )
        .await;
    let order = expect(response, 200).await;
    assert_eq!(order["id"], id);
    assert_eq!(order["customerId"], "alice");
    assert_eq!(order["status"], "PENDING");
    assert_eq!(order["total"], "25.00");
    assert_eq!(order["lines"][0]["unitPrice"], "12.50");
    assert_eq!(order["lines"][0]["lineTotal"], "25.00");
    assert!(order["timeline"][0]["event"].as_str().is_some());

    let data = graphql_data(
        app.graphql(ORDER, json!({ "id": id, "at": position }), Some(&alice))
            .await,
    )
    .await;
    assert_eq!(data["order"]["id"], id);
    assert_eq!(data["order"]["status"], "PENDING");
    assert_eq!(data["order"]["total"], "25.00");

    // Agents and operators read it too.
    for token in [
        app.token("arthur", Role::Agent),
        app.token("olga", Role::Operator),
    ] {
        let response = app
            .get(
                &format!("/api/orders/{id}"),
                Some(&token),
                &[("X-Consistent-With", position)],
            )
            .await;
        assert_eq!(expect(response, 200).await["id"], id);
    }
}

#[tokio::test]
async fn an_unreachable_or_malformed_position_is_refused() {
    let app = spawn_app().await;
    app.register_product("STALE-1", 10).await;
    let id = app.place_order("alice", "STALE-1", 1).await;
    let alice = app.token("alice", Role::Customer);
    let path = format!("/api/orders/{id}");
    let far = unreachable_token();

    problem(
        app.get(&path, Some(&alice), &[("X-Consistent-With", &far)])
            .await,
        503,
        "STALE",
    )
    .await;
    problem(
        app.get(&path, Some(&alice), &[("X-Consistent-With", "nope")])
            .await,
        422,
        "VALIDATION",
    )
    .await;
    graphql_error(
        app.graphql(ORDER, json!({ "id": id, "at": far }), Some(&alice))
            .await,
        "STALE",
    )
    .await;
    graphql_error(
        app.graphql(ORDER, json!({ "id": id, "at": "nope" }), Some(&alice))
            .await,
        "VALIDATION",
    )
    .await;
}

#[tokio::test]
async fn a_customer_never_sees_another_customers_order() {
    let app = spawn_app().await;
    app.register_product("OWN-1", 50).await;
    let mine = place(&app, "alice", "OWN-1").await;
    let theirs = place(&app, "bob", "OWN-1").await;
    let theirs_id = theirs["orderId"].as_str().unwrap();
    let alice = app.token("alice", Role::Customer);
    let at = theirs["position"].as_str().unwrap();

    // By id: REST 404 (as if it did not exist), GraphQL null.
    let response = app
        .get(
            &format!("/api/orders/{theirs_id}"),
            Some(&alice),
            &[("X-Consistent-With", at)],
        )
        .await;
    problem(response, 404, "NOT_FOUND").await;
    let data = graphql_data(
        app.graphql(ORDER, json!({ "id": theirs_id, "at": at }), Some(&alice))
            .await,
    )
    .await;
    assert!(data["order"].is_null(), "{data}");
    let query = "query($id: ID!) { payment(orderId: $id) { status } }";
    let data = graphql_data(
        app.graphql(query, json!({ "id": theirs_id }), Some(&alice))
            .await,
    )
    .await;
    assert!(data["payment"].is_null(), "{data}");

    // Through the list, even asking for Bob's, and through nested fields.
    let query = r#"query { orders(first: 100, customerId: "bob") {
        edges { node { id customerId payment { orderId status } } } } }"#;
    let data = graphql_data(app.graphql(query, json!({}), Some(&alice)).await).await;
    let edges = data["orders"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1, "{data}");
    assert_eq!(edges[0]["node"]["id"], mine["orderId"]);
    assert!(edges.iter().all(|e| e["node"]["customerId"] == "alice"));
    assert!(
        edges.iter().all(|e| e["node"]["payment"].is_null()
            || e["node"]["payment"]["orderId"] == mine["orderId"])
    );

    // An agent sees both; an auditor none; nobody anonymous.
    let agent = app.token("arthur", Role::Agent);
    let data = graphql_data(
        app.graphql(
            "query { orders { edges { node { id } } } }",
            json!({}),
            Some(&agent),
        )
        .await,
    )
    .await;
    assert_eq!(data["orders"]["edges"].as_array().unwrap().len(), 2);
    let auditor = app.token("audrey", Role::Auditor);
    graphql_error(
        app.graphql(
            "query { orders { edges { cursor } } }",
            json!({}),
            Some(&auditor),
        )
        .await,
        "FORBIDDEN",
    )
    .await;
    graphql_error(
        app.graphql("query { orders { edges { cursor } } }", json!({}), None)
            .await,
        "UNAUTHENTICATED",
    )
    .await;
    problem(
        app.get(&format!("/api/orders/{theirs_id}"), Some(&auditor), &[])
            .await,
        403,
        "FORBIDDEN",
    )
    .await;
}

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

#[tokio::test]
async fn pagination_returns_every_order_once() {
    let app = spawn_app().await;
    app.register_product("PAGE-1", 1000).await;
    let mut placed = HashSet::new();
    let mut last = String::new();
    for _ in 0..7 {
        let result = place(&app, "carol", "PAGE-1").await;
        placed.insert(result["orderId"].as_str().unwrap().to_owned());
        last = result["position"].as_str().unwrap().to_owned();
    }
    let carol = app.token("carol", Role::Customer);
    // Wait for the read model once, then page through it three at a time.
    let data = graphql_data(
        app.graphql(
            ORDER,
            json!({ "id": placed.iter().next().unwrap(), "at": last }),
            Some(&carol),
        )
        .await,
    )
    .await;
    assert!(data["order"].is_object());

    let query = "query($after: String) { orders(first: 3, after: $after) {
        edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = graphql_data(
            app.graphql(query, json!({ "after": after }), Some(&carol))
                .await,
        )
        .await;
        let page = &data["orders"];
        let edges = page["edges"].as_array().unwrap();
        assert!(edges.len() <= 3);
        seen.extend(
            edges
                .iter()
                .map(|e| e["node"]["id"].as_str().unwrap().to_owned()),
        );
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len(), 7, "{seen:?}");
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), placed);

    let too_many = "query { orders(first: 101) { edges { cursor } } }";
    graphql_error(
        app.graphql(too_many, json!({}), Some(&carol)).await,
        "VALIDATION",
    )
    .await;
    let bad_cursor = "query { orders(after: \"zz\") { edges { cursor } } }";
    graphql_error(
        app.graphql(bad_cursor, json!({}), Some(&carol)).await,
        "VALIDATION",
    )
    .await;
}

#[tokio::test]
async fn a_ticket_is_readable_by_its_customer_and_agents_only() {
    let app = spawn_app().await;
    let id = app.open_ticket("alice").await;
    let alice = app.token("alice", Role::Customer);
    let bob = app.token("bob", Role::Customer);
    let agent = app.token("arthur", Role::Agent);
    // Read-your-writes through a later command on the same ticket.
    let posted = expect(
        app.post(
            &format!("/api/tickets/{id}/messages"),
            Some(&agent),
            json!({ "body": "On it." }),
        )
        .await,
        200,
    )
    .await;
    let at = posted["position"].as_str().unwrap();
    let ticket = expect(
        app.get(
            &format!("/api/tickets/{id}"),
            Some(&alice),
            &[("X-Consistent-With", at)],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(ticket["status"], "OPEN");
    assert_eq!(ticket["messages"].as_array().unwrap().len(), 2);
    problem(
        app.get(&format!("/api/tickets/{id}"), Some(&bob), &[])
            .await,
        404,
        "NOT_FOUND",
    )
    .await;

    let query = "query { tickets { edges { node { id customerId messages { body } } } } }";
    let data = graphql_data(app.graphql(query, json!({}), Some(&bob)).await).await;
    assert_eq!(data["tickets"]["edges"], json!([]));
    let data = graphql_data(app.graphql(query, json!({}), Some(&agent)).await).await;
    assert_eq!(data["tickets"]["edges"][0]["node"]["id"], id);
}

const TICKET_ORDER: &str = "query($id: ID!, $at: String) {
    ticket(id: $id, consistentWith: $at) { id orderId order { id customerId total payment { status } } }
}";

/// Opens a ticket as `customer` naming `order`; its id and position token.
async fn ticket_about(app: &TestApp, customer: &str, order: &str) -> (String, String) {
    let token = app.token(customer, Role::Customer);
    let body = json!({ "subject": "Damaged", "message": "The box was crushed.", "orderId": order });
    let result = expect(app.post("/api/tickets", Some(&token), body).await, 201).await;
    (
        result["ticketId"].as_str().unwrap().to_owned(),
        result["position"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_ticket_shows_the_order_it_names_only_to_those_who_may_read_that_order() {
    let app = spawn_app().await;
    app.register_product("TKO-1", 10).await;
    let order = place(&app, "alice", "TKO-1").await;
    let order_id = order["orderId"].as_str().unwrap();
    let alice = app.token("alice", Role::Customer);
    let bob = app.token("bob", Role::Customer);
    let agent = app.token("arthur", Role::Agent);

    // Its customer and agents see the order through the ticket, as order(id) shows it.
    let (ticket, at) = ticket_about(&app, "alice", order_id).await;
    for token in [&alice, &agent] {
        let vars = json!({ "id": ticket, "at": at });
        let data = graphql_data(app.graphql(TICKET_ORDER, vars, Some(token)).await).await;
        let nested = &data["ticket"]["order"];
        assert_eq!(nested["id"], order_id, "{data}");
        assert_eq!(nested["customerId"], "alice");
        assert_eq!(nested["total"], "25.00");
    }

    // Bob may name Alice's order in his own ticket, but never reads it through it.
    let (ticket, at) = ticket_about(&app, "bob", order_id).await;
    let vars = json!({ "id": ticket, "at": at });
    let data = graphql_data(app.graphql(TICKET_ORDER, vars.clone(), Some(&bob)).await).await;
    assert_eq!(data["ticket"]["orderId"], order_id);
    assert_eq!(data["ticket"]["order"], Value::Null);
    let data = graphql_data(app.graphql(TICKET_ORDER, vars, Some(&agent)).await).await;
    assert_eq!(data["ticket"]["order"]["id"], order_id);

    // Through the tickets list too, every nested order loaded for the page.
    let query = "query { tickets { edges { node { customerId order { id customerId } } } } }";
    let data = graphql_data(app.graphql(query, json!({}), Some(&agent)).await).await;
    let edges = data["tickets"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2);
    assert!(
        edges.iter().all(|e| e["node"]["order"]["id"] == order_id),
        "{data}"
    );
    let data = graphql_data(app.graphql(query, json!({}), Some(&bob)).await).await;
    assert_eq!(
        data["tickets"]["edges"][0]["node"]["order"],
        Value::Null,
        "{data}"
    );
}
