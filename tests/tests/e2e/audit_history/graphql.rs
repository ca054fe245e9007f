//! The history over GraphQL: one order's causal chain by correlation id, and which roles may
//! read it.

use std::collections::BTreeSet;

use application::Role;
use serde_json::{Value, json};
use tests::{
    TestApp, command_result, graphql_data, graphql_error, spawn_app, spawn_app_without_saga,
};
use uuid::Uuid;

use super::{all_pages, assert_global_order, auditor, kinds, query};

/// Places an order of `sku` paid with `token`, labelled `X-Correlation-Id: label`, waits
/// until fulfilment has settled it, and returns it with the causal chain the server gave it.
async fn order_chain(
    app: &TestApp,
    customer: &str,
    sku: &str,
    token: &str,
    label: &str,
) -> (String, String) {
    let bearer = app.token(customer, Role::Customer);
    let headers = [("X-Correlation-Id", label)];
    let body = json!({
        "currency": "BRL",
        "lines": [{ "sku": sku, "quantity": 1 }],
        "paymentToken": token,
    });
    let placed = app
        .post_with("/api/orders", Some(&bearer), body, &headers)
        .await;
    let order = command_result(placed, 202).await["orderId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.settled_order(&order, std::time::Duration::from_secs(30))
        .await;
    let operator = app.token("olga", Role::Operator);
    let placed = all_pages(
        app,
        &operator,
        &format!("&streamType=order&streamId={order}"),
    )
    .await;
    let metadata = &placed[0]["metadata"];
    // The client's label is kept beside the chain, never as the chain.
    assert_eq!(metadata["clientCorrelationId"], label, "{metadata}");
    let chain = metadata["correlationId"].as_str().unwrap().to_owned();
    assert_ne!(chain, label);
    (order, chain)
}

#[tokio::test]
async fn a_correlation_query_returns_one_orders_chain_and_nothing_from_other_orders() {
    let app = spawn_app().await;
    app.register_product("COR-1", 10).await;
    // Every order carries the same client label: a client cannot join another's chain.
    let label = Uuid::now_v7().to_string();
    // A declined payment: the whole saga runs, compensation and support ticket included.
    let (ours, chain) = order_chain(&app, "alice", "COR-1", "tok_chargeDeclined", &label).await;
    let (theirs, _) = order_chain(&app, "bob", "COR-1", "tok_visa", &label).await;
    let (also_alices, _) = order_chain(&app, "alice", "COR-1", "tok_visa", &label).await;
    app.db.log_settled().await;
    let ticket: String = sqlx::query_scalar(
        "SELECT stream_id FROM events WHERE event_type = 'TicketOpened' AND payload ->> 'orderId' = $1",
    )
    .bind(&ours)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();

    // One order's causal chain: the customer's command, then the saga's commands and the
    // stock, payment, order and ticket events they caused.
    let expected: BTreeSet<(String, String, String)> = [
        ("order", ours.as_str(), "OrderPlaced"),
        ("stock", "COR-1", "StockReserved"),
        ("order", ours.as_str(), "OrderLineReserved"),
        ("payment", ours.as_str(), "PaymentRequested"),
        ("payment", ours.as_str(), "PaymentDeclined"),
        ("stock", "COR-1", "StockReleased"),
        ("order", ours.as_str(), "OrderCancelled"),
        ("ticket", ticket.as_str(), "TicketOpened"),
    ]
    .into_iter()
    .map(|(t, id, e)| (t.to_owned(), id.to_owned(), e.to_owned()))
    .collect();

    let operator = app.token("olga", Role::Operator);
    let rest = all_pages(&app, &operator, &format!("&correlationId={chain}")).await;
    assert_eq!(kinds(&rest), expected);
    assert_eq!(rest.len(), expected.len(), "each event once");
    assert_global_order(&rest);
    for event in &rest {
        assert_eq!(event["metadata"]["correlationId"], chain);
        assert!(event["metadata"]["commandId"].is_string(), "{event}");
        let actor = if event["eventType"] == "OrderPlaced" {
            "alice"
        } else {
            "saga"
        };
        assert_eq!(event["metadata"]["actor"], actor, "{event}");
        for other in [&theirs, &also_alices] {
            assert!(
                !event.to_string().contains(other.as_str()),
                "another order's event: {event}"
            );
        }
    }

    let data = query(
        &app,
        &auditor(&app),
        "query($c: String) { events(correlationId: $c, first: 100) {
            edges { cursor node { position streamType streamId eventType
                    metadata { correlationId } } } } }",
        json!({ "c": chain }),
    )
    .await;
    let nodes: Vec<Value> = data["events"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| {
            assert_eq!(edge["cursor"], edge["node"]["position"]);
            edge["node"].clone()
        })
        .collect();
    assert_eq!(kinds(&nodes), expected);
    assert_eq!(nodes.len(), expected.len());
}

#[tokio::test]
async fn only_auditors_and_operators_read_history_over_graphql() {
    let app = spawn_app_without_saga().await;
    let order = app.place_order("alice", "GQH-1", 1).await;
    let ticket = app.open_ticket("alice").await;
    let queries = [
        "{ events { edges { cursor } } }".to_owned(),
        "{ stream(streamType: \"order\", streamId: \"ID\") { edges { cursor } } }"
            .replace("ID", &order),
        "{ integrity { verified } }".to_owned(),
        "{ orderAsOf(id: \"ID\") { version } }".replace("ID", &order),
        "{ ticketAsOf(id: \"ID\") { version } }".replace("ID", &ticket),
    ];
    for query in &queries {
        for role in [Role::Auditor, Role::Operator] {
            graphql_data(
                app.graphql(query, json!({}), Some(&app.token("x", role)))
                    .await,
            )
            .await;
        }
        for role in [Role::Customer, Role::Agent] {
            let token = app.token("alice", role);
            graphql_error(
                app.graphql(query, json!({}), Some(&token)).await,
                "FORBIDDEN",
            )
            .await;
        }
    }
    let auditor = auditor(&app);
    for bad in [
        "{ events(first: 101) { edges { cursor } } }",
        "{ events(after: \"nope\") { edges { cursor } } }",
        "{ events(streamType: \"orders\") { edges { cursor } } }",
        "{ integrity(streamType: \"order\") { verified } }",
        "{ orderAsOf(id: \"x\") { version } }",
        "{ orderAsOf(id: \"00000000-0000-0000-0000-000000000000\", at: \"noon\") { version } }",
    ] {
        graphql_error(
            app.graphql(bad, json!({}), Some(&auditor)).await,
            "VALIDATION",
        )
        .await;
    }
    let unknown = format!(
        "{{ stream(streamType: \"order\", streamId: \"{}\") {{ edges {{ cursor }} }} }}",
        Uuid::now_v7()
    );
    let data = query(&app, &auditor, &unknown, json!({})).await;
    assert_eq!(data["stream"], Value::Null);
}
