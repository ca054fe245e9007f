//! `Idempotency-Key` as API.md promises it: the same key and body run once and answer the
//! first response again; another body is refused; keys belong to their caller; a request
//! that failed leaves its key free for the retry.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use application::Role;
use futures::future::join_all;
use serde_json::{Value, json};
use tests::{body_json, command_result, graphql_data, header, problem, rejected, spawn_app};

fn order(quantity: u32) -> Value {
    json!({
        "currency": "BRL",
        "lines": [{ "sku": "MUG-1", "quantity": quantity, "unitPrice": "12.50" }],
        "paymentToken": "tok_visa",
    })
}

#[tokio::test]
async fn twenty_concurrent_requests_with_one_key_place_one_order_and_all_get_its_answer() {
    let app = spawn_app().await;
    let alice = app.token("alice", Role::Customer);
    let key = [("Idempotency-Key", "checkout-1")];

    let responses =
        join_all((0..20).map(|_| app.post_with("/api/orders", Some(&alice), order(1), &key))).await;

    let mut answers = Vec::new();
    for response in responses {
        let replayed = header(&response, "idempotency-replayed");
        let status = response.status().as_u16();
        answers.push((status, replayed, body_json(response).await));
    }
    let (_, _, first) = &answers[0];
    for (status, _, body) in &answers {
        assert_eq!((*status, body), (202, first), "the answers differ");
    }
    let replays = answers
        .iter()
        .filter(|(_, replayed, _)| replayed == "true")
        .count();
    let originals = answers
        .iter()
        .filter(|(_, replayed, _)| replayed.is_empty())
        .count();
    assert_eq!((originals, replays), (1, 19));
    let order_id = first["orderId"].as_str().unwrap();
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE stream_id = $1 AND event_type = 'OrderPlaced'",
    )
    .bind(order_id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(count, 1);
    assert_eq!(app.orders_placed().await, 1);
}

#[tokio::test]
async fn the_same_key_with_another_request_is_an_idempotency_mismatch() {
    let app = spawn_app().await;
    let alice = app.token("alice", Role::Customer);
    let key = [("Idempotency-Key", "checkout-1")];
    let first = command_result(
        app.post_with("/api/orders", Some(&alice), order(1), &key)
            .await,
        202,
    )
    .await;

    let other_body = app
        .post_with("/api/orders", Some(&alice), order(2), &key)
        .await;
    problem(other_body, 422, "IDEMPOTENCY_MISMATCH").await;
    let cancel = format!("/api/orders/{}/cancel", first["orderId"].as_str().unwrap());
    let other_path = app.post_with(&cancel, Some(&alice), json!({}), &key).await;
    problem(other_path, 422, "IDEMPOTENCY_MISMATCH").await;

    assert_eq!(app.orders_placed().await, 1);
}

#[tokio::test]
async fn keys_are_scoped_to_the_caller() {
    let app = spawn_app().await;
    let key = [("Idempotency-Key", "checkout-1")];

    let mut orders = Vec::new();
    for customer in ["alice", "bob"] {
        let token = app.token(customer, Role::Customer);
        let response = app
            .post_with("/api/orders", Some(&token), order(1), &key)
            .await;
        assert_eq!(
            header(&response, "idempotency-replayed"),
            "",
            "{customer}'s order was a replay"
        );
        let result = command_result(response, 202).await;
        orders.push(result["orderId"].as_str().unwrap().to_owned());
    }

    assert_ne!(orders[0], orders[1]);
    for (order, customer) in orders.iter().zip(["alice", "bob"]) {
        let events = app.events("order", order).await;
        assert_eq!(events[0].0, "OrderPlaced");
        assert_eq!(events[0].1["customerId"], customer);
    }
}

#[tokio::test]
async fn a_refused_request_leaves_its_key_free_for_the_retry() {
    let app = spawn_app().await;
    let ticket = app.open_ticket("alice").await;
    let alice = app.token("alice", Role::Customer);
    let path = format!("/api/tickets/{ticket}/reopen");
    let key = [("Idempotency-Key", "reopen-1")];
    rejected(
        app.post_with(&path, Some(&alice), json!({}), &key).await,
        "NotClosed",
    )
    .await;
    app.close_ticket("alice", &ticket).await;

    let retry = app.post_with(&path, Some(&alice), json!({}), &key).await;
    assert_eq!(header(&retry, "idempotency-replayed"), "");
    let result = command_result(retry, 200).await;
    let again = app.post_with(&path, Some(&alice), json!({}), &key).await;
    assert_eq!(header(&again, "idempotency-replayed"), "true");
    assert_eq!(command_result(again, 200).await, result);

    assert_eq!(
        app.event_types("ticket", &ticket).await,
        ["TicketOpened", "TicketClosed", "TicketReopened"]
    );
}

#[tokio::test]
async fn a_malformed_key_is_a_validation_problem() {
    let app = spawn_app().await;
    let alice = app.token("alice", Role::Customer);
    let long = "k".repeat(256);

    for key in ["two words", long.as_str()] {
        let response = app
            .post_with(
                "/api/orders",
                Some(&alice),
                order(1),
                &[("Idempotency-Key", key)],
            )
            .await;
        problem(response, 422, "VALIDATION").await;
    }
    assert_eq!(app.orders_placed().await, 0);
}

const PLACE_ORDER: &str =
    "mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { orderId version } }";

#[tokio::test]
async fn a_graphql_mutation_repeated_with_its_key_places_one_order() {
    let app = spawn_app().await;
    let alice = app.token("alice", Role::Customer);
    let key = [("Idempotency-Key", "checkout-1")];

    let mut answers = Vec::new();
    for _ in 0..3 {
        let response = app
            .graphql_with(
                PLACE_ORDER,
                json!({ "input": order(1) }),
                Some(&alice),
                &key,
            )
            .await;
        answers.push(graphql_data(response).await);
    }

    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0], answers[2]);
    assert_eq!(app.orders_placed().await, 1);
}

#[tokio::test]
async fn a_graphql_mutation_with_a_used_key_and_another_input_is_an_idempotency_mismatch() {
    let app = spawn_app().await;
    let alice = app.token("alice", Role::Customer);
    let key = [("Idempotency-Key", "checkout-1")];
    graphql_data(
        app.graphql_with(
            PLACE_ORDER,
            json!({ "input": order(1) }),
            Some(&alice),
            &key,
        )
        .await,
    )
    .await;

    let response = app
        .graphql_with(
            PLACE_ORDER,
            json!({ "input": order(2) }),
            Some(&alice),
            &key,
        )
        .await;

    tests::graphql_error(response, "IDEMPOTENCY_MISMATCH").await;
    assert_eq!(app.orders_placed().await, 1);
}

#[tokio::test]
async fn a_graphql_key_names_exactly_one_mutation_field() {
    let app = spawn_app().await;
    let alice = app.token("alice", Role::Customer);
    let two = "mutation Two($input: PlaceOrderInput!) { \
               a: placeOrder(input: $input) { orderId } b: placeOrder(input: $input) { orderId } }";

    let response = app
        .graphql_with(
            two,
            json!({ "input": order(1) }),
            Some(&alice),
            &[("Idempotency-Key", "checkout-1")],
        )
        .await;

    tests::graphql_error(response, "VALIDATION").await;
    assert_eq!(app.orders_placed().await, 0);
}

#[tokio::test]
async fn an_answer_expires_after_its_time_to_live_and_a_resent_order_still_takes_effect_once() {
    let app = tests::spawn_app_with(|config| {
        config.limits.idempotency_ttl = std::time::Duration::from_secs(1);
    })
    .await;
    let alice = app.token("alice", Role::Customer);
    let key = [("Idempotency-Key", "checkout-ttl")];
    let first = app
        .post_with("/api/orders", Some(&alice), order(1), &key)
        .await;
    let first = command_result(first, 202).await;
    let kept = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM idempotency_keys")
            .fetch_one(&app.db.pool)
            .await
            .unwrap()
    };
    assert_eq!(kept().await, 1);

    let mut waited = 0;
    while kept().await > 0 {
        assert!(
            waited < 100,
            "the answer is still kept 10 s into a 1 s time to live"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }

    // No answer to replay now: the request runs again, and the event store knows the
    // command, so the order is placed once and the answer is the first one's.
    let again = app
        .post_with("/api/orders", Some(&alice), order(1), &key)
        .await;
    assert_eq!(header(&again, "idempotency-replayed"), "");
    let again = command_result(again, 202).await;
    assert_eq!(again["orderId"], first["orderId"]);
    assert_eq!(again["position"], first["position"]);
    assert_eq!(app.orders_placed().await, 1);
}
