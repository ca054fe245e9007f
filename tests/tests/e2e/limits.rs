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
use tests::{TestApp, header, problem, spawn_app_with};
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
        config.limits.principal_rate = NonZeroU32::new(1);
        config.limits.address_rate = None;
    })
    .await;
    let alice = app.token("alice", Role::Customer);
    let path = format!("/api/orders/{}", Uuid::new_v4());

    // 1 per second with bursts of 2: ten requests at once cannot all pass.
    let refused = until_refused(&app, &path, Some(&alice), 404, 10).await;

    let retry_after: u64 = header(&refused, "retry-after").parse().unwrap();
    assert_eq!(retry_after, 1, "one more request is due within a second");
    problem(refused, 429, "RATE_LIMITED").await;
    // GraphQL counts against the same limit (a request may still find the next one due).
    let query = "{ orders(first: 1) { edges { cursor } } }";
    let mut error = None;
    for _ in 0..5 {
        let body = tests::body_json(app.graphql(query, json!({}), Some(&alice)).await).await;
        if body["errors"][0]["extensions"]["code"] == "RATE_LIMITED" {
            error = Some(body["errors"][0].clone());
            break;
        }
    }
    let error = error.expect("five GraphQL reads at once passed a limit of one per second");
    assert_eq!(error["extensions"]["retryAfter"], 1, "{error}");
    // Another principal is served meanwhile, and so is alice once she has waited.
    let bob = app.token("bob", Role::Customer);
    assert_eq!(app.get(&path, Some(&bob), &[]).await.status(), 404);
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert_eq!(app.get(&path, Some(&alice), &[]).await.status(), 404);
}

#[tokio::test]
async fn a_client_address_over_its_rate_is_refused_and_the_liveness_probe_still_answers() {
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
    // Readiness queries the database: limited like the rest. (The bucket refills a token
    // every 200 ms, which a slow machine may take between two requests: asked until the
    // limit answers, as the flood above was.)
    let ready = until_refused(&app, "/health/ready", None, 200, 40).await;
    assert_eq!(ready.status(), 429);
}

#[tokio::test]
async fn a_request_past_its_time_is_cut_off_its_key_freed_and_one_over_the_in_flight_cap_refused() {
    let app = spawn_app_with(|config| {
        config.limits.request_timeout = Duration::from_secs(2);
        config.limits.max_in_flight = 1;
    })
    .await;
    app.register_product("SLOW-1", 5).await;
    let operator = app.token("ops", Role::Operator);
    // While the test holds the log's table, every command waits for it (the owner's
    // connection: the server's role may not lock it).
    let mut lock = PgConnection::connect(&app.db.owner_url).await.unwrap();
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
            .header("Idempotency-Key", "restock-slow")
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
    // The key was given up when the request was cut off: sent again, the restock answers
    // at once, and it took effect once.
    let again = app
        .post_with(
            "/api/products/SLOW-1/restock",
            Some(&app.token("ops", Role::Operator)),
            json!({ "quantity": 7 }),
            &[("Idempotency-Key", "restock-slow")],
        )
        .await;
    tests::command_result(again, 200).await;
    let restocks: Vec<_> = app
        .events("stock", "SLOW-1")
        .await
        .into_iter()
        .filter(|(kind, _)| kind == "StockRestocked")
        .collect();
    // The registration's 5 units, then the restock's 7, once.
    assert_eq!(
        restocks,
        [
            ("StockRestocked".to_owned(), json!({ "quantity": 5 })),
            ("StockRestocked".to_owned(), json!({ "quantity": 7 }))
        ]
    );
}

/// Waits until an append to the log waits for a lock (seen by the owner, who sees every
/// session's query).
async fn waiting_append(app: &TestApp) {
    let mut owner = PgConnection::connect(&app.db.owner_url).await.unwrap();
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
    let started = Instant::now();
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

    // A kept-alive connection left idle as long is closed too.
    let mut idle = TcpStream::connect(&address).await.unwrap();
    idle.write_all(b"GET /health/live HTTP/1.1\r\nHost: domainflow\r\n\r\n")
        .await
        .unwrap();
    let length = idle.read(&mut buffer).await.unwrap();
    let answer = String::from_utf8_lossy(&buffer[..length]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let closed = tokio::time::timeout(Duration::from_secs(8), idle.read(&mut buffer))
        .await
        .expect("an idle kept-alive connection still open 8 s into a 1 s timeout");
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");
}
