//! The audit trail as auditors use it: history queries over REST and GraphQL, past states
//! folded from the log, the integrity report, and an auditor who can change nothing.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use application::Role;
use serde_json::{Map, Value, json};
use tests::{
    TestApp, body_json, command_result, expect, graphql_data, graphql_error, header, problem,
    spawn_app,
};
use uuid::Uuid;

const ORDER_AS_OF: &str = "query($id: ID!, $version: Int, $at: String) {
    orderAsOf(id: $id, version: $version, at: $at) {
        customerId status cancellationReason currency total
        lines { sku quantity unitPrice lineTotal } version at
    }
}";

const TICKET_AS_OF: &str = "query($id: ID!, $version: Int, $at: String) {
    ticketAsOf(id: $id, version: $version, at: $at) {
        customerId orderId status assignee messageCount version at
    }
}";

const STREAM: &str = "query($type: String!, $id: String!) {
    stream(streamType: $type, streamId: $id) {
        edges { cursor node { position version eventType recordedAt hash } }
    }
}";

fn auditor(app: &TestApp) -> String {
    app.token("audrey", Role::Auditor)
}

async fn query(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    graphql_data(app.graphql(query, variables, Some(token)).await).await
}

/// The fields of `object` named in `keys`, as one value to compare.
fn pick(object: &Value, keys: &[&str]) -> Value {
    let picked: Map<String, Value> = keys
        .iter()
        .map(|k| ((*k).to_owned(), object[*k].clone()))
        .collect();
    Value::Object(picked)
}

/// The read model of `path` once it has applied `position`, as an operator sees it.
async fn read_model(app: &TestApp, path: &str, position: &str) -> Value {
    let operator = app.token("olga", Role::Operator);
    let staff = app.token("arthur", Role::Agent);
    let token = if path.starts_with("/api/tickets") {
        staff
    } else {
        operator
    };
    let response = app
        .get(path, Some(&token), &[("X-Consistent-With", position)])
        .await;
    expect(response, 200).await
}

/// Version → recordedAt of every event of a stream, read with `stream(...)` as an auditor.
async fn recorded_at(app: &TestApp, stream_type: &str, id: &str) -> Vec<(i64, String)> {
    let data = query(
        app,
        &auditor(app),
        STREAM,
        json!({ "type": stream_type, "id": id }),
    )
    .await;
    data["stream"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| {
            let node = &edge["node"];
            (
                node["version"].as_i64().unwrap(),
                node["recordedAt"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn token_of(result: &Value) -> String {
    result["position"].as_str().unwrap().to_owned()
}

const ORDER_FIELDS: [&str; 7] = [
    "customerId",
    "status",
    "cancellationReason",
    "currency",
    "total",
    "lines",
    "version",
];

/// Runs an order through its life one command at a time and records the read model after
/// each: version → state.
async fn recorded_order_run(app: &TestApp, ship: bool) -> (String, Vec<Value>) {
    app.register_product("ASOF-1", 10).await;
    app.register_product("ASOF-2", 10).await;
    let alice = app.token("alice", Role::Customer);
    let body = json!({
        "currency": "BRL",
        "lines": [
            { "sku": "ASOF-1", "quantity": 2, "unitPrice": "12.50" },
            { "sku": "ASOF-2", "quantity": 1, "unitPrice": "3.05" },
        ],
        "paymentToken": "tok_visa",
    });
    let placed = command_result(app.post("/api/orders", Some(&alice), body).await, 202).await;
    let order = placed["orderId"].as_str().unwrap().to_owned();
    let path = format!("/api/orders/{order}");
    let mut states = vec![read_model(app, &path, &token_of(&placed)).await];
    for sku in ["ASOF-1", "ASOF-2"] {
        let step = domain::order::Command::RecordLineReserved {
            sku: domain::Sku::parse(sku).unwrap(),
        };
        let result = app.order_step(&order, step).await;
        states.push(read_model(app, &path, &result.position.token()).await);
    }
    if ship {
        for step in [
            domain::order::Command::RecordPaymentSucceeded,
            domain::order::Command::Confirm {
                at: domain::Timestamp::from_millis(chrono::Utc::now().timestamp_millis()),
            },
        ] {
            let result = app.order_step(&order, step).await;
            states.push(read_model(app, &path, &result.position.token()).await);
        }
        let operator = app.token("olga", Role::Operator);
        let shipped = app
            .post(&format!("{path}/ship"), Some(&operator), json!({}))
            .await;
        let shipped = command_result(shipped, 200).await;
        states.push(read_model(app, &path, &token_of(&shipped)).await);
    } else {
        let cancelled = app
            .post(&format!("{path}/cancel"), Some(&alice), json!({}))
            .await;
        let cancelled = command_result(cancelled, 202).await;
        states.push(read_model(app, &path, &token_of(&cancelled)).await);
    }
    (order, states)
}

async fn check_order_as_of(app: &TestApp, order: &str, states: &[Value]) {
    let auditor = auditor(app);
    let times = recorded_at(app, "order", order).await;
    assert_eq!(times.len(), states.len(), "one event per step");
    for (state, (version, at)) in states.iter().zip(times) {
        assert_eq!(state["version"], version, "the read model is at {version}");
        let expected = pick(state, &ORDER_FIELDS);
        let by_version = query(
            app,
            &auditor,
            ORDER_AS_OF,
            json!({ "id": order, "version": version }),
        )
        .await;
        assert_eq!(
            pick(&by_version["orderAsOf"], &ORDER_FIELDS),
            expected,
            "orderAsOf at version {version}"
        );
        assert_eq!(by_version["orderAsOf"]["at"], at.as_str());
        let by_time = query(app, &auditor, ORDER_AS_OF, json!({ "id": order, "at": at })).await;
        assert_eq!(
            pick(&by_time["orderAsOf"], &ORDER_FIELDS),
            expected,
            "orderAsOf at {at}"
        );
    }
    let before = query(
        app,
        &auditor,
        ORDER_AS_OF,
        json!({ "id": order, "version": 0 }),
    )
    .await;
    assert_eq!(
        before["orderAsOf"],
        Value::Null,
        "no order before version 1"
    );
}

#[tokio::test]
async fn order_as_of_each_version_equals_the_state_the_order_had_then() {
    let app = spawn_app().await;
    let (shipped, states) = recorded_order_run(&app, true).await;
    let statuses: Vec<&Value> = states.iter().map(|s| &s["status"]).collect();
    assert_eq!(
        statuses,
        [
            "PENDING",
            "PENDING",
            "PENDING",
            "PENDING",
            "CONFIRMED",
            "SHIPPED"
        ]
    );
    check_order_as_of(&app, &shipped, &states).await;
}

#[tokio::test]
async fn order_as_of_shows_a_cancelled_order_with_its_reason() {
    let app = spawn_app().await;
    let (cancelled, states) = recorded_order_run(&app, false).await;
    assert_eq!(
        states.last().unwrap()["cancellationReason"],
        "CUSTOMER_REQUEST"
    );
    check_order_as_of(&app, &cancelled, &states).await;
}

#[tokio::test]
async fn ticket_as_of_each_version_equals_the_state_the_ticket_had_then() {
    let app = spawn_app().await;
    let order = app.place_order("alice", "TCK-1", 1).await;
    let alice = app.token("alice", Role::Customer);
    let agent = app.token("arthur", Role::Agent);
    let body = json!({ "subject": "Late", "message": "Where is it?", "orderId": order });
    let opened = command_result(app.post("/api/tickets", Some(&alice), body).await, 201).await;
    let ticket = opened["ticketId"].as_str().unwrap().to_owned();
    let path = format!("/api/tickets/{ticket}");
    let mut states = vec![read_model(&app, &path, &token_of(&opened)).await];
    for (token, action, body, status) in [
        (&agent, "assign", json!({ "agentId": "arthur" }), 200),
        (&agent, "messages", json!({ "body": "On its way." }), 200),
        (&alice, "close", json!({ "resolution": "Arrived." }), 200),
        (&alice, "reopen", json!({}), 200),
    ] {
        let response = app
            .post(&format!("{path}/{action}"), Some(token), body)
            .await;
        let result = command_result(response, status).await;
        states.push(read_model(&app, &path, &token_of(&result)).await);
    }

    let times = recorded_at(&app, "ticket", &ticket).await;
    assert_eq!(times.len(), states.len());
    let auditor = auditor(&app);
    for (state, (version, at)) in states.iter().zip(times) {
        let expected = json!({
            "customerId": state["customerId"],
            "orderId": state["orderId"],
            "status": state["status"],
            "assignee": state["assignee"],
            "messageCount": state["messages"].as_array().unwrap().len(),
            "version": state["version"],
        });
        for variables in [
            json!({ "id": ticket, "version": version }),
            json!({ "id": ticket, "at": at }),
        ] {
            let past = query(&app, &auditor, TICKET_AS_OF, variables.clone()).await;
            let mut past = past["ticketAsOf"].clone();
            past.as_object_mut().unwrap().remove("at");
            assert_eq!(past, expected, "ticketAsOf {variables}");
        }
    }
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

/// Places an order of `sku` and cancels it, both under the correlation id `chain`.
async fn order_chain(app: &TestApp, customer: &str, sku: &str, chain: Uuid) -> String {
    let token = app.token(customer, Role::Customer);
    let correlation = chain.to_string();
    let headers = [("X-Correlation-Id", correlation.as_str())];
    let body = json!({
        "currency": "BRL",
        "lines": [{ "sku": sku, "quantity": 1, "unitPrice": "5.00" }],
        "paymentToken": "tok_visa",
    });
    let placed = app
        .post_with("/api/orders", Some(&token), body, &headers)
        .await;
    let order = command_result(placed, 202).await["orderId"]
        .as_str()
        .unwrap()
        .to_owned();
    let cancel = format!("/api/orders/{order}/cancel");
    command_result(
        app.post_with(&cancel, Some(&token), json!({}), &headers)
            .await,
        202,
    )
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
    let chain = Uuid::now_v7();
    let ours = order_chain(&app, "alice", "COR-1", chain).await;
    let theirs = order_chain(&app, "bob", "COR-1", Uuid::now_v7()).await;
    let also_alices = app.place_order("alice", "COR-1", 2).await;
    app.db.log_settled().await;

    // One order's causal chain: the customer's commands ...
    let expected: BTreeSet<(String, String, String)> = [
        ("order", ours.as_str(), "OrderPlaced"),
        ("order", ours.as_str(), "OrderCancelled"),
        // ... and, where fulfilment runs, the saga's commands and their stock, payment,
        // order and ticket events, which carry the same correlation id.
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
        assert_eq!(event["metadata"]["actor"], "alice");
        assert!(event["metadata"]["commandId"].is_string(), "{event}");
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
    let app = spawn_app().await;
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
    let app = spawn_app().await;
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
    let app = spawn_app().await;
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
    let data = query(
        app,
        &auditor(app),
        STREAM,
        json!({ "type": "order", "id": order }),
    )
    .await;
    data["stream"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["hash"].as_str().unwrap().to_owned())
        .collect()
}

const INTROSPECT_MUTATIONS: &str = "{ __schema {
    mutationType { fields { name args { name type { ...T } } type { ...T } } }
    types { name kind inputFields { name type { ...T } } enumValues { name } }
} }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

/// The GraphQL spelling of a type reference of the introspection.
fn type_name(t: &Value) -> String {
    match t["kind"].as_str().unwrap() {
        "NON_NULL" => format!("{}!", type_name(&t["ofType"])),
        "LIST" => format!("[{}]", type_name(&t["ofType"])),
        _ => t["name"].as_str().unwrap().to_owned(),
    }
}

/// A value of type `t` that passes GraphQL validation: every required field filled in, with
/// values no use case would accept for long (empty lists, a nil id).
fn value_of(t: &Value, types: &[Value]) -> Value {
    match t["kind"].as_str().unwrap() {
        "NON_NULL" => value_of(&t["ofType"], types),
        "LIST" => json!([]),
        "ENUM" | "INPUT_OBJECT" => {
            let name = t["name"].as_str().unwrap();
            let named = types.iter().find(|ty| ty["name"] == name).unwrap();
            if let Some(values) = named["enumValues"].as_array() {
                return values[0]["name"].clone();
            }
            let fields = named["inputFields"].as_array().unwrap();
            Value::Object(
                fields
                    .iter()
                    .filter(|f| f["type"]["kind"] == "NON_NULL")
                    .map(|f| {
                        let name = f["name"].as_str().unwrap().to_owned();
                        (name, value_of(&f["type"], types))
                    })
                    .collect(),
            )
        }
        _ => match t["name"].as_str().unwrap() {
            "Int" | "Float" => json!(1),
            "Boolean" => json!(true),
            "ID" => json!(Uuid::nil()),
            "String" => json!("x"),
            _ => json!({}),
        },
    }
}

/// Every mutation of the schema as an operation with variables that pass validation.
async fn every_mutation() -> Vec<(String, String, Value)> {
    let schema = interface::graphql::schema(true);
    let answer = serde_json::to_value(schema.execute(INTROSPECT_MUTATIONS).await).unwrap();
    let types = answer["data"]["__schema"]["types"]
        .as_array()
        .unwrap()
        .clone();
    let fields = answer["data"]["__schema"]["mutationType"]["fields"]
        .as_array()
        .unwrap()
        .clone();
    fields
        .iter()
        .map(|field| {
            let name = field["name"].as_str().unwrap().to_owned();
            let args = field["args"].as_array().unwrap();
            let declared: Vec<String> = args
                .iter()
                .map(|a| {
                    format!(
                        "${}: {}",
                        a["name"].as_str().unwrap(),
                        type_name(&a["type"])
                    )
                })
                .collect();
            let passed: Vec<String> = args
                .iter()
                .map(|a| format!("{0}: ${0}", a["name"].as_str().unwrap()))
                .collect();
            let variables: Map<String, Value> = args
                .iter()
                .map(|a| {
                    (
                        a["name"].as_str().unwrap().to_owned(),
                        value_of(&a["type"], &types),
                    )
                })
                .collect();
            let mut returned = &field["type"];
            while returned["kind"] == "NON_NULL" || returned["kind"] == "LIST" {
                returned = &returned["ofType"];
            }
            let selection = if returned["kind"] == "OBJECT" {
                "{ __typename }"
            } else {
                ""
            };
            let operation = format!(
                "mutation Run({}) {{ {name}({}) {selection} }}",
                declared.join(", "),
                passed.join(", ")
            )
            .replace("Run()", "Run")
            .replace(&format!("{name}()"), &name);
            (name, operation, Value::Object(variables))
        })
        .collect()
}

async fn event_total(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_auditor_is_forbidden_every_command_on_both_transports_whatever_the_input() {
    let app = spawn_app().await;
    let order = app.place_order("alice", "AUD-1", 1).await;
    let ticket = app.open_ticket("alice").await;
    let auditor = auditor(&app);
    let before = event_total(&app).await;

    // REST: every POST of the OpenAPI document, with an empty body (any other role would
    // get a validation error or a rejection for most of them).
    let document = expect(app.get("/api/openapi.json", None, &[]).await, 200).await;
    let mut commands = Vec::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        if operations.get("post").is_none() {
            continue;
        }
        let id = if path.starts_with("/api/tickets") {
            &ticket
        } else {
            &order
        };
        let concrete = path
            .replace("{id}", id)
            .replace("{sku}", "AUD-1")
            .replace("{name}", "orders");
        let response = app.post(&concrete, Some(&auditor), json!({})).await;
        let body = problem(response, 403, "FORBIDDEN").await;
        assert!(
            body["detail"].as_str().unwrap().contains("auditor"),
            "{body}"
        );
        commands.push(path.clone());
    }
    assert!(
        commands.len() >= 10,
        "the document lists the commands: {commands:?}"
    );

    // GraphQL: every mutation of the schema, with input that passes validation.
    let mutations = every_mutation().await;
    assert!(mutations.len() >= 10, "{mutations:?}");
    for (name, operation, variables) in &mutations {
        let error = graphql_error(
            app.graphql(operation, variables.clone(), Some(&auditor))
                .await,
            "FORBIDDEN",
        )
        .await;
        assert!(
            error["message"].as_str().unwrap().contains("auditor"),
            "{name}: {error}"
        );
    }

    assert_eq!(event_total(&app).await, before, "nothing was appended");
    app.db.log_settled().await;
    let response = app.get("/api/events", Some(&auditor), &[]).await;
    assert_eq!(
        body_json(response).await["events"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
