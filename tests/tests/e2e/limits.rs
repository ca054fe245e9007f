//! Limits on use: the rate limits per principal and per client address (429
//! `RATE_LIMITED` with `Retry-After`), the cap on requests in flight and the request
//! timeout (503 `UNAVAILABLE` with `Retry-After`), and the header-read timeout that
//! disconnects a client sending its request head too slowly.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use application::Role;
use reqwest::Response;
use serde_json::json;
use sqlx::{Connection, Executor, PgConnection};
use tests::{TestApp, graphql_error, header, problem, spawn_app_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

/// GETs `path` as `token` until an answer other than `usual` comes, at most `tries` times.
async fn until_refused(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    usual: u16,
    tries: usize,
) -> Response {
    for _ in 0..tries {
        let response = app.get(path, token, &[]).await;
        if response.status().as_u16() != usual {
            return response;
        }
    }
    panic!("{tries} requests at once all passed the limit");
}

#[tokio::test]
async fn a_burst_from_one_principal_is_refused_while_another_principal_is_served() {
    let app = spawn_app_with(|config| {
        config.limits.principal_rate = NonZeroU32::new(5);
        config.limits.address_rate = None;
    })
    .await;
    let alice = app.token("alice", Role::Customer);
    let path = format!("/api/orders/{}", Uuid::new_v4());

    // 5 per second with bursts of 10: 40 requests at once cannot all pass.
    let refused = until_refused(&app, &path, Some(&alice), 404, 40).await;

    let retry_after: u64 = header(&refused, "retry-after").parse().unwrap();
    assert_eq!(retry_after, 1, "one more request is due within 200 ms");
    problem(refused, 429, "RATE_LIMITED").await;
    let query = "{ orders(first: 1) { edges { cursor } } }";
    let error = graphql_error(
        app.graphql(query, json!({}), Some(&alice)).await,
        "RATE_LIMITED",
    )
    .await;
    assert_eq!(error["extensions"]["retryAfter"], 1, "{error}");
    // Another principal is served meanwhile, and so is alice once she has waited.
    let bob = app.token("bob", Role::Customer);
    assert_eq!(app.get(&path, Some(&bob), &[]).await.status(), 404);
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert_eq!(app.get(&path, Some(&alice), &[]).await.status(), 404);
}

#[tokio::test]
async fn a_client_address_over_its_rate_is_refused_and_the_health_probes_still_answer() {
    let app = spawn_app_with(|config| {
        config.limits.principal_rate = None;
        config.limits.address_rate = NonZeroU32::new(5);
    })
    .await;
    let path = format!("/api/orders/{}", Uuid::new_v4());

    // Refused before authentication: anonymous floods cost nothing more.
    let refused = until_refused(&app, &path, None, 401, 40).await;

    assert!(!header(&refused, "retry-after").is_empty());
    problem(refused, 429, "RATE_LIMITED").await;
    let live = app.get("/health/live", None, &[]).await;
    assert_eq!(live.status(), 200);
}

#[tokio::test]
async fn a_request_past_its_time_is_cut_off_and_one_over_the_in_flight_cap_is_refused() {
    let app = spawn_app_with(|config| {
        config.limits.request_timeout = Duration::from_secs(2);
        config.limits.max_in_flight = 1;
    })
    .await;
    app.register_product("SLOW-1", 5).await;
    let operator = app.token("ops", Role::Operator);
    // While the test holds the log's table, every command waits for it (the owner's
    // connection: the server's role may not lock it).
    let mut lock = PgConnection::connect(&app.db.url).await.unwrap();
    lock.execute("BEGIN; LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let client = app.client.clone();
    let url = app.url("/api/products/SLOW-1/restock");
    let slow = tokio::spawn(async move {
        let started = Instant::now();
        let response = client
            .post(url)
            .bearer_auth(operator)
            .json(&json!({ "quantity": 7 }))
            .send()
            .await
            .unwrap();
        (response, started.elapsed())
    });

    // Once the restock waits on the table it holds the one permit: other requests are
    // refused at once.
    waiting_append(&app).await;
    let path = format!("/api/orders/{}", Uuid::new_v4());
    let alice = app.token("alice", Role::Customer);
    let busy = app.get(&path, Some(&alice), &[]).await;
    assert!(!header(&busy, "retry-after").is_empty());
    let body = problem(busy, 503, "UNAVAILABLE").await;
    assert!(
        body["detail"].as_str().unwrap().contains("at once"),
        "{body}"
    );
    assert_eq!(app.get("/health/live", None, &[]).await.status(), 200);
    let (cut_off, took) = slow.await.unwrap();
    assert!(took < Duration::from_secs(10), "answered after {took:?}");
    assert_eq!(header(&cut_off, "retry-after"), "1");
    let body = problem(cut_off, 503, "UNAVAILABLE").await;
    assert!(
        body["detail"].as_str().unwrap().contains("Idempotency-Key"),
        "{body}"
    );
    lock.execute("ROLLBACK").await.unwrap();
    assert_eq!(app.get(&path, Some(&alice), &[]).await.status(), 404);
}

/// Waits until an append to the log waits for a lock (seen by the owner, who sees every
/// session's query).
async fn waiting_append(app: &TestApp) {
    let mut owner = PgConnection::connect(&app.db.url).await.unwrap();
    for _ in 0..500 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'
               AND query LIKE '-- Appends%'",
        )
        .fetch_one(&mut owner)
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no append waited on the locked table within 5 s");
}

#[tokio::test]
async fn a_client_sending_its_request_head_too_slowly_is_disconnected() {
    let app = spawn_app_with(|config| {
        config.limits.header_read_timeout = Duration::from_secs(1);
    })
    .await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let stream = TcpStream::connect(&address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    writer
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: domainflow\r\nX-Slow: ")
        .await
        .unwrap();
    // One more byte of a header every 200 ms: never the end of the head.
    let trickle = tokio::spawn(async move {
        for _ in 0..100 {
            if writer.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let started = Instant::now();

    let mut buffer = [0_u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(8), reader.read(&mut buffer))
        .await
        .expect("still connected 8 s into a 1 s header timeout");

    let took = started.elapsed();
    assert!(took >= Duration::from_millis(800), "closed after {took:?}");
    if let Ok(length) = read {
        let answer = String::from_utf8_lossy(&buffer[..length]);
        assert!(
            !answer.contains(" 200 "),
            "the slow request was served: {answer}"
        );
    }
    trickle.abort();
    // Clients that send their request in time are served as before.
    assert_eq!(app.get("/health/live", None, &[]).await.status(), 200);
}
