//! Reading orders: right after they are placed, at a position the log has not reached,
//! only by those who may, and page by page.

use std::collections::HashSet;

use application::Role;
use application::event_log::Position;
use serde_json::{Value, json};
use tests::{expect, graphql_data, graphql_error, problem, spawn_app, spawn_app_without_saga};

use super::place;

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
    // Without the saga the order stays PENDING, so what is read is what was placed.
    let app = spawn_app_without_saga().await;
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
async fn a_position_this_log_never_issued_or_a_malformed_one_is_refused_as_invalid() {
    let app = spawn_app().await;
    app.register_product("STALE-1", 10).await;
    let id = app.place_order("alice", "STALE-1", 1).await;
    let alice = app.token("alice", Role::Customer);
    let path = format!("/api/orders/{id}");
    let far = unreachable_token();

    // Never issued here, so waiting could never end: not STALE (which says retry).
    problem(
        app.get(&path, Some(&alice), &[("X-Consistent-With", &far)])
            .await,
        422,
        "VALIDATION",
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
        "VALIDATION",
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
