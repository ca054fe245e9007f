//! GraphQL subscriptions over a real WebSocket (graphql-transport-ws at `/graphql/ws`):
//! status changes arrive in order, authorization is the queries', credentials are checked
//! in `connection_init`, origins are allow-listed, subscriptions per connection are
//! capped, and every connection closes when the server stops.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use application::Role;
use futures::SinkExt;
use serde_json::{Value, json};
use tests::ws::{Ws, connect, next_of, open, receive, send, subscribe};
use tests::{expect, spawn_app, spawn_app_with, spawn_app_without_saga};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// The error code of a subscription's message, which must be an error.
fn error_code(message: &Value) -> String {
    let errors = match message["type"].as_str() {
        Some("next") => &message["payload"]["errors"],
        Some("error") => &message["payload"],
        _ => panic!("not an error: {message}"),
    };
    errors[0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {message}"))
        .to_owned()
}

const ORDER_UPDATED: &str =
    "subscription($id: ID!) { orderUpdated(id: $id) { id status cancellationReason version } }";

#[tokio::test]
async fn an_order_subscription_receives_its_status_changes_in_order() {
    let app = spawn_app_without_saga().await;
    app.register_product("SUB-1", 10).await;
    let order = app.place_order("alice", "SUB-1", 1).await;
    let alice = app.token("alice", Role::Customer);
    let mut ws = connect(&app, &alice).await;
    subscribe(&mut ws, "1", ORDER_UPDATED, json!({"id": order})).await;

    let first = next_of(&mut ws, "1").await;
    assert_eq!(first["type"], "next", "{first}");
    let first = &first["payload"]["data"]["orderUpdated"];
    assert_eq!(
        (first["id"].as_str(), first["status"].as_str()),
        (Some(order.as_str()), Some("PENDING")),
        "{first}"
    );

    let path = format!("/api/orders/{order}/cancel");
    let body = json!({ "reason": "CUSTOMER_REQUEST" });
    expect(app.post(&path, Some(&alice), body).await, 202).await;

    let mut versions = vec![first["version"].as_i64().unwrap()];
    let cancelled = loop {
        let message = next_of(&mut ws, "1").await;
        assert_eq!(message["type"], "next", "{message}");
        let order = message["payload"]["data"]["orderUpdated"].clone();
        versions.push(order["version"].as_i64().unwrap());
        if order["status"] != "PENDING" {
            break order;
        }
    };
    assert_eq!(cancelled["status"], "CANCELLED", "{cancelled}");
    assert_eq!(cancelled["cancellationReason"], "CUSTOMER_REQUEST");
    assert!(
        versions.windows(2).all(|w| w[0] < w[1]),
        "versions must only grow: {versions:?}"
    );

    // `complete` stops it: nothing more arrives for it, and the connection stays usable.
    send(&mut ws, json!({"type": "complete", "id": "1"})).await;
    subscribe(&mut ws, "2", ORDER_UPDATED, json!({"id": order})).await;
    let again = next_of(&mut ws, "2").await;
    assert_eq!(
        again["payload"]["data"]["orderUpdated"]["status"],
        "CANCELLED"
    );
}

#[tokio::test]
async fn a_ticket_subscription_follows_open_then_closed() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;
    let mut ws = connect(&app, &app.token("alice", Role::Customer)).await;
    let query = "subscription($id: ID!) { ticketUpdated(id: $id) { id status } }";
    subscribe(&mut ws, "t", query, json!({"id": ticket})).await;
    let first = next_of(&mut ws, "t").await;
    assert_eq!(
        first["payload"]["data"]["ticketUpdated"]["status"], "OPEN",
        "{first}"
    );
    app.close_ticket("alice", &ticket).await;
    let closed = next_of(&mut ws, "t").await;
    assert_eq!(
        closed["payload"]["data"]["ticketUpdated"]["status"], "CLOSED",
        "{closed}"
    );
}

#[tokio::test]
async fn a_customer_cannot_subscribe_to_another_customers_order() {
    let app = spawn_app().await;
    app.register_product("SUB-2", 10).await;
    let order = app.place_order("alice", "SUB-2", 1).await;
    // Projected before bob asks, so the refusal is immediate.
    let mut alice = connect(&app, &app.token("alice", Role::Customer)).await;
    subscribe(&mut alice, "a", ORDER_UPDATED, json!({"id": order})).await;
    assert_eq!(next_of(&mut alice, "a").await["type"], "next");

    let mut bob = connect(&app, &app.token("bob", Role::Customer)).await;
    subscribe(&mut bob, "b", ORDER_UPDATED, json!({"id": order})).await;
    let refused = next_of(&mut bob, "b").await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    assert!(
        refused["payload"]["data"].is_null()
            || refused["payload"]["data"]["orderUpdated"].is_null(),
        "no data beside the error: {refused}"
    );
    let done = next_of(&mut bob, "b").await;
    assert_eq!(done["type"], "complete", "{done}");

    // Staff may follow it.
    let mut agent = connect(&app, &app.token("agent-1", Role::Agent)).await;
    subscribe(&mut agent, "s", ORDER_UPDATED, json!({"id": order})).await;
    let seen = next_of(&mut agent, "s").await;
    assert_eq!(
        seen["payload"]["data"]["orderUpdated"]["id"], order,
        "{seen}"
    );
}

#[tokio::test]
async fn bad_credentials_in_connection_init_close_the_connection() {
    let app = spawn_app().await;
    let expired = app.expired_token("alice", Role::Customer);
    for payload in [
        json!({"authorization": format!("Bearer {expired}")}),
        json!({"authorization": "Bearer not-a-token"}),
        json!({}),
    ] {
        let mut ws = open(&app, None).await.unwrap();
        send(
            &mut ws,
            json!({"type": "connection_init", "payload": payload}),
        )
        .await;
        match receive(&mut ws).await {
            Err(_) => {}
            Ok(message) => panic!("connection_init with {payload} answered {message}"),
        }
    }

    // Subscribing without initialising is refused too.
    let mut ws = open(&app, None).await.unwrap();
    subscribe(
        &mut ws,
        "1",
        ORDER_UPDATED,
        json!({"id": "00000000-0000-0000-0000-000000000000"}),
    )
    .await;
    assert!(receive(&mut ws).await.is_err());
}

#[tokio::test]
async fn a_connection_that_never_sends_connection_init_is_closed_after_the_init_timeout() {
    let app =
        spawn_app_with(|config| config.limits.ws_init_timeout = Duration::from_millis(300)).await;
    let mut ws = open(&app, None).await.unwrap();
    // Nothing is sent: the server gives up on the connection with 4408.
    assert_eq!(receive(&mut ws).await, Err(Some(CloseCode::Library(4408))));
    // A connection that does initialise in time is acknowledged.
    let token = app.token("alice", Role::Customer);
    let mut ws = connect(&app, &token).await;
    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(receive(&mut ws).await.unwrap()["type"], "pong");
}

#[tokio::test]
async fn a_long_message_before_connection_init_closes_the_connection() {
    let app = spawn_app().await;
    let padding = "x".repeat(20 * 1024);
    // Over the 16 KiB taken before the acknowledgement, under the body limit: 1009.
    let mut ws = open(&app, None).await.unwrap();
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"padding": padding}}),
    )
    .await;
    assert_eq!(receive(&mut ws).await, Err(Some(CloseCode::Size)));
    // A 1 MiB message, over the body limit: the connection ends without taking it (the
    // send itself may fail once the server has gone).
    let mut ws = open(&app, None).await.unwrap();
    let _ = ws.send(Message::text("x".repeat(1024 * 1024))).await;
    assert!(receive(&mut ws).await.is_err());
    // Once acknowledged, a 20 KiB message is taken, one over the body limit is not.
    let token = app.token("alice", Role::Customer);
    let mut ws = connect(&app, &token).await;
    send(
        &mut ws,
        json!({"type": "ping", "payload": {"padding": padding}}),
    )
    .await;
    assert_eq!(receive(&mut ws).await.unwrap()["type"], "pong");
    let over = "x".repeat(interface::HttpLimits::default().max_body_bytes + 1);
    let _ = ws
        .send(Message::text(
            json!({"type": "ping", "payload": {"padding": over}}).to_string(),
        ))
        .await;
    assert!(receive(&mut ws).await.is_err());
}

#[tokio::test]
async fn an_operation_over_the_rate_limit_or_too_large_is_refused_and_the_connection_goes_on() {
    let app = spawn_app_with(|config| {
        config.limits.principal_rate = std::num::NonZeroU32::new(1);
    })
    .await;
    let token = app.token("alice", Role::Customer);
    let mut ws = connect(&app, &token).await;
    let query = "{ orders(first: 1) { edges { cursor } } }";

    // Bursts of two: of five operations at once, some are refused with RATE_LIMITED.
    for id in ["1", "2", "3", "4", "5"] {
        subscribe(&mut ws, id, query, json!({})).await;
    }
    let mut codes = Vec::new();
    while codes.len() < 5 {
        let message = receive(&mut ws).await.unwrap();
        match message["type"].as_str() {
            Some("error") => codes.push(error_code(&message)),
            Some("complete") => codes.push("OK".to_owned()),
            _ => {}
        }
    }
    assert!(codes.iter().any(|c| c == "RATE_LIMITED"), "{codes:?}");
    assert!(codes.iter().any(|c| c == "OK"), "{codes:?}");

    // A document over the alias limit is refused as over HTTP, and the connection lives on.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let aliased: String = (0..31).map(|i| format!("a{i}: __typename ")).collect();
    subscribe(&mut ws, "big", &format!("{{ {aliased} }}"), json!({})).await;
    let refused = next_of(&mut ws, "big").await;
    assert_eq!(error_code(&refused), "VALIDATION", "{refused}");
    send(&mut ws, json!({"type": "ping"})).await;
    loop {
        if receive(&mut ws).await.unwrap()["type"] == "pong" {
            break;
        }
    }
}

/// Receives until the connection closes; its close code.
async fn closed(ws: &mut Ws) -> Option<CloseCode> {
    loop {
        if let Err(code) = receive(ws).await {
            return code;
        }
    }
}

#[tokio::test]
async fn a_connection_closes_when_its_token_expires_or_its_api_key_is_revoked() {
    let app = spawn_app_with(|config| config.limits.ws_recheck = Duration::from_millis(200)).await;
    app.register_product("SUB-9", 10).await;
    let order = app.place_order("alice", "SUB-9", 1).await;
    // Valid for two more seconds (expiry is in whole seconds: between one and two).
    let token = app.token_valid_for("alice", Role::Customer, chrono::Duration::seconds(2));
    let mut ws = connect(&app, &token).await;
    subscribe(&mut ws, "1", ORDER_UPDATED, json!({"id": order})).await;
    let started = std::time::Instant::now();

    assert_eq!(closed(&mut ws).await, Some(CloseCode::Library(4401)));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "closed {took:?} after connecting"
    );

    let keys = app.db.api_keys();
    let key = keys.create("watch-bot", Role::Operator).await.unwrap();
    let mut ws = open(&app, None).await.unwrap();
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"apiKey": key}}),
    )
    .await;
    assert_eq!(receive(&mut ws).await.unwrap()["type"], "connection_ack");
    let query = "subscription { eventAppended { position } }";
    subscribe(&mut ws, "e", query, json!({})).await;
    // Still open, three checks later, while the key holds.
    tokio::time::sleep(Duration::from_millis(600)).await;
    send(&mut ws, json!({"type": "ping"})).await;
    loop {
        let message = receive(&mut ws).await.expect("closed while the key holds");
        if message["type"] == "pong" {
            break;
        }
    }
    keys.revoke("watch-bot").await.unwrap();
    assert_eq!(closed(&mut ws).await, Some(CloseCode::Library(4403)));
}

#[tokio::test]
async fn a_disallowed_origin_is_refused_with_403_before_the_upgrade() {
    let app = spawn_app().await;
    match open(&app, Some("https://evil.example")).await {
        Err(WsError::Http(response)) => assert_eq!(response.status().as_u16(), 403),
        Err(other) => panic!("expected 403, got {other}"),
        Ok(_) => panic!("a disallowed origin was upgraded"),
    }
    // The server's own origin and localhost pass.
    let own = app.address.clone();
    assert!(open(&app, Some(&own)).await.is_ok());
    assert!(open(&app, Some("http://localhost:5173")).await.is_ok());
}

#[tokio::test]
async fn subscriptions_per_connection_are_capped() {
    let app = spawn_app().await;
    app.register_product("SUB-3", 10).await;
    let order = app.place_order("alice", "SUB-3", 1).await;
    let mut ws = connect(&app, &app.token("alice", Role::Customer)).await;
    for id in 1..=20 {
        subscribe(
            &mut ws,
            &id.to_string(),
            ORDER_UPDATED,
            json!({"id": order}),
        )
        .await;
        assert_eq!(next_of(&mut ws, &id.to_string()).await["type"], "next");
    }
    subscribe(&mut ws, "21", ORDER_UPDATED, json!({"id": order})).await;
    let refused = next_of(&mut ws, "21").await;
    assert_eq!(error_code(&refused), "VALIDATION", "{refused}");

    // Ending one frees its slot.
    send(&mut ws, json!({"type": "complete", "id": "1"})).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    subscribe(&mut ws, "22", ORDER_UPDATED, json!({"id": order})).await;
    assert_eq!(next_of(&mut ws, "22").await["type"], "next");
}

#[tokio::test]
async fn operators_follow_the_event_log_and_customers_may_not() {
    let app = spawn_app().await;
    app.register_product("SUB-4", 10).await;
    let query = "subscription($t: String) { eventAppended(streamType: $t) { position streamType streamId version eventType recordedAt } }";

    let mut customer = connect(&app, &app.token("alice", Role::Customer)).await;
    subscribe(&mut customer, "c", query, json!({"t": null})).await;
    let refused = next_of(&mut customer, "c").await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");

    let mut auditor = connect(&app, &app.token("audit-1", Role::Auditor)).await;
    subscribe(&mut auditor, "e", query, json!({"t": "order"})).await;
    // Subscribed once the server has taken the log's head: give it a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let order = app.place_order("alice", "SUB-4", 1).await;
    let event = next_of(&mut auditor, "e").await;
    let event = &event["payload"]["data"]["eventAppended"];
    assert_eq!(event["streamType"], "order", "{event}");
    assert_eq!(event["streamId"], order.as_str(), "{event}");
    assert_eq!(event["version"], 1, "{event}");
    assert_eq!(event["eventType"], "OrderPlaced", "{event}");
    assert_eq!(
        event["position"].as_str().map(str::len),
        Some(32),
        "{event}"
    );
}

#[tokio::test]
async fn stopping_the_server_closes_every_connection() {
    let app = spawn_app().await;
    app.register_product("SUB-5", 10).await;
    let order = app.place_order("alice", "SUB-5", 1).await;
    let mut ws = connect(&app, &app.token("alice", Role::Customer)).await;
    subscribe(&mut ws, "1", ORDER_UPDATED, json!({"id": order})).await;
    assert_eq!(next_of(&mut ws, "1").await["type"], "next");

    drop(app);
    let closed = loop {
        match receive(&mut ws).await {
            Ok(_) => {}
            Err(code) => break code,
        }
    };
    assert_eq!(closed, Some(CloseCode::Away));
}

/// A role that does not read orders or tickets is refused before its id is looked at, as
/// the queries refuse it.
#[tokio::test]
async fn an_auditor_is_refused_row_subscriptions_whatever_the_id() {
    let app = spawn_app().await;
    let mut auditor = connect(&app, &app.token("audrey", Role::Auditor)).await;
    let ticket_updated = "subscription($id: ID!) { ticketUpdated(id: $id) { id } }";
    for (id, query) in [("o", ORDER_UPDATED), ("t", ticket_updated)] {
        subscribe(&mut auditor, id, query, json!({"id": "not-a-uuid"})).await;
        let refused = next_of(&mut auditor, id).await;
        assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    }
}
