#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! SIGTERM while clients place orders and a subscription listens: the server stops taking
//! connections, answers what it accepted, closes the subscription with 1001 (going away),
//! lets its workers finish their batch, and exits 0 within its bound. Every order it
//! answered 202 is in the log, and the next start takes every one of them to its outcome.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use application::Role;
use serde_json::json;
use tests::ws::{connect, receive, subscribe};
use tests::{ServerProcess, TestApp, test_database};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const BINARY: &str = env!("CARGO_BIN_EXE_domainflow");

/// How long the server may take from SIGTERM to its exit: the workers' 10 s, together, to
/// finish their batch, and the requests in flight.
const BOUND: Duration = Duration::from_secs(30);

#[tokio::test]
async fn sigterm_under_load_loses_no_accepted_order_and_the_next_start_finishes_them() {
    let db = test_database().await;
    let (secret, secret_bytes) = tests::jwt_secret();
    let url = db.url.clone();
    let args = ["--database-url", &url, "--jwt-secret", &secret];
    let server = ServerProcess::start(BINARY, &args).await;
    let mut app = TestApp::attach(server.address.clone(), db, &secret_bytes);
    app.register_product("STOP-1", 100_000).await;

    let operator = app.token("ops", Role::Operator);
    let mut ws = connect(&app, &operator).await;
    subscribe(
        &mut ws,
        "flow",
        "subscription { eventAppended { position eventType } }",
        json!({}),
    )
    .await;

    let listening = tokio::spawn(async move {
        let mut seen = 0_usize;
        loop {
            match receive(&mut ws).await {
                Ok(message) if message["type"] == "next" => seen += 1,
                Ok(_) => {}
                Err(code) => return (seen, code),
            }
        }
    });

    // Eight clients place orders until the server stops answering.
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..8)
        .map(|i| {
            let (client, accepted) = (app.client.clone(), Arc::clone(&accepted));
            let url = app.url("/api/orders");
            let token = app.token(&format!("stopper-{i}"), Role::Customer);
            tokio::spawn(async move {
                let body = json!({
                    "currency": "BRL",
                    "lines": [{ "sku": "STOP-1", "quantity": 1, "unitPrice": "12.50" }],
                    "paymentToken": "tok_visa",
                });
                loop {
                    let sent = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await;
                    let Ok(response) = sent else { return };
                    if response.status() != 202 {
                        continue;
                    }
                    let Ok(answer) = response.json::<serde_json::Value>().await else {
                        continue;
                    };
                    let id = answer["orderId"].as_str().unwrap().to_owned();
                    accepted.lock().unwrap().push(id);
                }
            })
        })
        .collect();
    // Wait until the flow is under way.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while accepted.lock().unwrap().len() < 50 {
        assert!(tokio::time::Instant::now() < deadline, "no orders accepted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let status = server.terminate(BOUND).await;
    assert!(status.success(), "exit status {status}");
    // The subscription, read all along, ends with a close frame saying the server went away.
    let (seen, closed) = listening.await.unwrap();
    assert_eq!(closed, Some(CloseCode::Away), "after {seen} events");
    for client in clients {
        client.await.unwrap();
    }

    let accepted = accepted.lock().unwrap().clone();
    for order in &accepted {
        let placed: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM events
             WHERE stream_type = 'order' AND stream_id = $1 AND event_type = 'OrderPlaced'",
        )
        .bind(order)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(
            placed, 1,
            "order {order} was answered 202 but is not in the log"
        );
    }
    let server = ServerProcess::start(BINARY, &args).await;
    app.address.clone_from(&server.address);
    for order in &accepted {
        let status = app.settled_order(order, Duration::from_secs(120)).await["status"].clone();
        assert_eq!(status, "CONFIRMED", "order {order}");
    }
    server.kill().await;
}
