//! `orderAsOf` and `ticketAsOf` against a recorded run: the state folded from the log at
//! each version (and at each event's instant) equals what the read model showed then.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use application::Role;
use serde_json::{Map, Value, json};
use tests::{TestApp, command_result, expect, graphql_data, spawn_app, spawn_app_without_saga};

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

/// Version → recordedAt of every event of a stream, as the history shows them.
async fn recorded_at(app: &TestApp, stream_type: &str, id: &str) -> Vec<(i64, String)> {
    app.history_stream(stream_type, id)
        .await
        .iter()
        .map(|node| {
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
    // Two catalog prices, so each line's price shows in the states.
    let operator = app.token("olga", Role::Operator);
    let repriced = app
        .post(
            "/api/products/ASOF-2/price",
            Some(&operator),
            json!({ "price": "3.05" }),
        )
        .await;
    command_result(repriced, 200).await;
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
    let app = spawn_app_without_saga().await;
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
    let app = spawn_app_without_saga().await;
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
