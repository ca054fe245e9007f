//! The event history as auditors query it: one order's causal chain, REST pages and
//! NDJSON, GraphQL connections and roles, and the integrity report of the hash chains.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use application::Role;
use serde_json::{Value, json};
use tests::{
    TestApp, command_result, expect, graphql_data, graphql_error, header, problem, spawn_app,
    spawn_app_without_saga,
};
use uuid::Uuid;

fn auditor(app: &TestApp) -> String {
    app.token("audrey", Role::Auditor)
}

async fn query(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    graphql_data(app.graphql(query, variables, Some(token)).await).await
}

/// The (streamType, streamId, eventType) of each event in a list of history events.
fn kinds(events: &[Value]) -> BTreeSet<(String, String, String)> {
    events
        .iter()
        .map(|e| {
            (
                e["streamType"].as_str().unwrap().to_owned(),
                e["streamId"].as_str().unwrap().to_owned(),
                e["eventType"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The events whose positions (`position` tokens) rise strictly: the global order.
fn assert_global_order(events: &[Value]) {
    let positions: Vec<application::event_log::Position> = events
        .iter()
        .map(|e| {
            application::event_log::Position::from_token(e["position"].as_str().unwrap()).unwrap()
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "not in the global order: {positions:?}"
    );
}

/// Places an order of `sku` paid with `token` under the correlation id `chain`, and waits
/// until fulfilment has settled it.
async fn order_chain(app: &TestApp, customer: &str, sku: &str, token: &str, chain: Uuid) -> String {
    let bearer = app.token(customer, Role::Customer);
    let correlation = chain.to_string();
    let headers = [("X-Correlation-Id", correlation.as_str())];
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
    order
}

/// Every page of `GET /api/events` with `filters`, followed through `next`.
async fn all_pages(app: &TestApp, token: &str, filters: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after = String::new();
    loop {
        let path = format!("/api/events?limit=2{filters}{after}");
        let page = expect(app.get(&path, Some(token), &[]).await, 200).await;
        events.extend(page["events"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => return events,
        }
    }
}

#[tokio::test]
async fn a_correlation_query_returns_one_orders_chain_and_nothing_from_other_orders() {
    let app = spawn_app().await;
    app.register_product("COR-1", 10).await;
    let chain = Uuid::now_v7();
    // A declined payment: the whole saga runs, compensation and support ticket included.
    let ours = order_chain(&app, "alice", "COR-1", "tok_chargeDeclined", chain).await;
    let theirs = order_chain(&app, "bob", "COR-1", "tok_visa", Uuid::now_v7()).await;
    let also_alices = order_chain(&app, "alice", "COR-1", "tok_visa", Uuid::now_v7()).await;
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
        assert_eq!(event["metadata"]["correlationId"], chain.to_string());
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
async fn the_rest_history_pages_streams_ndjson_and_refuses_bad_filters() {
    let app = spawn_app_without_saga().await;
    let order = app.place_order("alice", "HIS-1", 1).await;
    app.open_ticket("alice").await;
    app.db.log_settled().await;
    let auditor = auditor(&app);

    let paged = all_pages(&app, &auditor, "").await;
    assert_eq!(paged.len(), 2, "the placed order, the opened ticket");
    assert_global_order(&paged);
    let first = &paged[0];
    for field in [
        "position",
        "streamType",
        "streamId",
        "version",
        "eventType",
        "eventVersion",
        "payload",
        "metadata",
        "recordedAt",
        "hash",
    ] {
        assert!(!first[field].is_null(), "{field} in {first}");
    }
    assert_eq!(first["hash"].as_str().unwrap().len(), 64);

    let response = app
        .get(
            "/api/events",
            Some(&auditor),
            &[("Accept", "application/x-ndjson")],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "application/x-ndjson");
    let text = response.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines, paged, "NDJSON lines are the page's events");

    let only_orders = all_pages(&app, &auditor, "&streamType=order&actor=alice").await;
    assert_eq!(kinds(&only_orders).len(), 1);
    assert_eq!(only_orders[0]["streamId"], order.as_str());
    let later = all_pages(
        &app,
        &auditor,
        &format!(
            "&from={}",
            urlencode(paged[1]["recordedAt"].as_str().unwrap())
        ),
    )
    .await;
    assert_eq!(later, paged[1..], "from is inclusive");

    let stream = expect(
        app.get(
            &format!("/api/streams/order/{order}/events"),
            Some(&auditor),
            &[],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(stream["events"].as_array().unwrap(), &paged[..1]);
    problem(
        app.get(
            &format!("/api/streams/order/{}/events", Uuid::now_v7()),
            Some(&auditor),
            &[],
        )
        .await,
        404,
        "NOT_FOUND",
    )
    .await;

    for bad in [
        "after=nope",
        "limit=0",
        "limit=1001",
        "limit=ten",
        "streamType=orders",
        "correlationId=123",
        "from=yesterday",
        "to=2026-13-01T00:00:00Z",
        "actor=%00",
    ] {
        let response = app
            .get(&format!("/api/events?{bad}"), Some(&auditor), &[])
            .await;
        problem(response, 422, "VALIDATION").await;
    }
    problem(
        app.get("/api/streams/orders/x/events", Some(&auditor), &[])
            .await,
        422,
        "VALIDATION",
    )
    .await;

    for role in [Role::Customer, Role::Agent] {
        let token = app.token("someone", role);
        for path in ["/api/events", &format!("/api/streams/order/{order}/events")] {
            problem(app.get(path, Some(&token), &[]).await, 403, "FORBIDDEN").await;
        }
    }
    problem(
        app.get("/api/events", None, &[]).await,
        401,
        "UNAUTHENTICATED",
    )
    .await;
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
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

const INTEGRITY: &str = "query($type: String, $id: String) {
    integrity(streamType: $type, streamId: $id) {
        verified events streams report
        brokenLink { streamType streamId version expected found problem }
    }
}";

#[tokio::test]
async fn integrity_verifies_an_untouched_log_and_names_the_exact_broken_link() {
    let app = spawn_app_without_saga().await;
    app.register_product("INT-1", 5).await;
    let operator = app.token("olga", Role::Operator);
    let restock = json!({ "quantity": 1 });
    command_result(
        app.post("/api/products/INT-1/restock", Some(&operator), restock)
            .await,
        200,
    )
    .await;
    let first = app.place_order("alice", "INT-1", 1).await;
    let second = app.place_order("bob", "INT-1", 1).await;
    app.close_ticket("alice", &app.open_ticket("alice").await)
        .await;
    app.db.log_settled().await;
    let auditor = auditor(&app);

    let report = query(&app, &auditor, INTEGRITY, json!({})).await["integrity"].clone();
    assert_eq!(
        report,
        json!({
            "verified": true, "events": 7, "streams": 4, "brokenLink": null,
            "report": "verified 7 events in 4 streams",
        })
    );

    // A tampered payload: the stored hash no longer matches the content.
    let stored = recorded_hashes(&app, &first).await;
    app.db
        .break_glass(&format!(
            "UPDATE events SET payload = jsonb_set(payload, '{{paymentToken}}', '\"tok_x\"') \
             WHERE stream_type = 'order' AND stream_id = '{first}'"
        ))
        .await;
    let report = query(&app, &auditor, INTEGRITY, json!({})).await["integrity"].clone();
    let link = &report["brokenLink"];
    assert_eq!(report["verified"], false);
    assert_eq!(
        (&link["streamType"], &link["streamId"], &link["version"]),
        (&json!("order"), &json!(first), &json!(1))
    );
    assert_eq!(
        link["found"], stored[0],
        "the stored hash is what was found"
    );
    assert_ne!(link["expected"], link["found"]);
    assert_eq!(link["problem"], "stored content does not match its hash");
    assert_eq!(
        report["report"],
        format!(
            "broken link in order/{first} at version 1: stored content does not match its \
             hash (expected hash {}, found {})",
            link["expected"].as_str().unwrap(),
            stored[0]
        )
    );

    // A deleted row: the stream's next version no longer links. The other order's stream
    // is checked on its own, past the first break.
    app.db
        .break_glass("DELETE FROM events WHERE stream_type = 'stock' AND version = 2")
        .await;
    let stock = query(
        &app,
        &auditor,
        INTEGRITY,
        json!({ "type": "stock", "id": "INT-1" }),
    )
    .await["integrity"]
        .clone();
    assert_eq!(stock["verified"], false, "{stock}");
    assert_eq!(stock["brokenLink"]["version"], 3);
    assert_eq!(stock["brokenLink"]["problem"], "version 2 is missing");
    let untouched = query(
        &app,
        &auditor,
        INTEGRITY,
        json!({ "type": "order", "id": second }),
    )
    .await;
    assert_eq!(
        untouched["integrity"]["report"],
        "verified 1 events in 1 streams"
    );
}

/// The hashes of an order stream's events as the history shows them, by version.
async fn recorded_hashes(app: &TestApp, order: &str) -> Vec<String> {
    app.history_stream("order", order)
        .await
        .iter()
        .map(|node| node["hash"].as_str().unwrap().to_owned())
        .collect()
}
