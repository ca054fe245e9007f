#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! What an operator sees of a server process: after a scripted run, `GET /metrics` holds
//! what happened and nothing else (requests by route, method and status with their
//! histograms; commands by aggregate, command and outcome, the saga's among them; every
//! event of the log appended and applied; the sagas by phase, summing to the sagas stored),
//! a transaction held open shows as lag and, past `--ready-max-lag`, fails readiness; and
//! the log has one access line per request with
//! its request id and correlation id, which the saga's steps for that order carry too.
//!
//! With `--otlp-endpoint`, request spans reach an OpenTelemetry collector in the caller's
//! trace (`traceparent`).
//!
//! Each server is a process of its own: its metrics are its own.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use application::Role;
use serde_json::{Value, json};
use sqlx::Connection;
use tests::{REJECTED_STATUS, ServerProcess, TestApp, problem, test_database};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BINARY: &str = env!("CARGO_BIN_EXE_domainflow");
const SETTLE: Duration = Duration::from_secs(30);
const PROJECTIONS: [&str; 4] = ["orders", "products", "tickets", "payments"];
const PHASES: [&str; 6] = [
    "NOT_STARTED",
    "RESERVING",
    "PAYING",
    "CONFIRMING",
    "CONFIRMED",
    "CANCELLED",
];

/// The value of the sample `series` (name and labels, as rendered), if scraped.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        line.strip_prefix(series)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|value| value.parse().ok())
    })
}

/// The sum of every sample of metric `name`, whatever its labels.
fn total(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|line| {
            line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} "))
        })
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

async fn scrape(app: &TestApp) -> String {
    let response = app.get("/metrics", None, &[]).await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// Scrapes until `done` holds for the text, for at most [`SETTLE`].
async fn scrape_until(app: &TestApp, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let text = scrape(app).await;
        if done(&text) {
            return text;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn lag(text: &str, projection: &str) -> Option<f64> {
    sample(
        text,
        &format!("domainflow_projection_lag_events{{projection=\"{projection}\"}}"),
    )
}

async fn start() -> (ServerProcess, TestApp) {
    let db = test_database().await;
    let (secret, secret_bytes) = tests::jwt_secret();
    let url = db.url.clone();
    let server = ServerProcess::start_logging(
        BINARY,
        &[
            "--database-url",
            &url,
            "--jwt-secret",
            &secret,
            "--ready-max-lag",
            "1s",
        ],
        "info,sqlx=warn,projections::saga=debug",
    )
    .await;
    let app = TestApp::attach(server.address.clone(), db, &secret_bytes);
    (server, app)
}

#[tokio::test]
async fn after_a_scripted_run_the_metrics_hold_what_happened() {
    let (server, app) = start().await;
    app.register_product("MET-1", 10).await;
    let mut orders = Vec::new();
    for (customer, token) in [
        ("m-1", "tok_visa"),
        ("m-2", "tok_visa"),
        ("m-3", "tok_visa"),
        ("m-4", "tok_chargeDeclined"),
    ] {
        orders.push(
            app.place_order_paid_with(customer, &[("MET-1", 1)], token)
                .await,
        );
    }
    let mut statuses = Vec::new();
    for order in &orders {
        statuses.push(app.settled_order(order, SETTLE).await["status"].clone());
    }
    assert_eq!(
        statuses,
        ["CONFIRMED", "CONFIRMED", "CONFIRMED", "CANCELLED"]
    );
    // The stock's rule refuses a second registration of the same product.
    let operator = app.token("operator-1", Role::Operator);
    let again = json!({
        "sku": "MET-1", "name": "Again", "initialQuantity": 1, "lowStockThreshold": 0,
        "price": "12.50", "currency": "BRL",
    });
    problem(
        app.post("/api/products", Some(&operator), again).await,
        REJECTED_STATUS,
        "REJECTED",
    )
    .await;
    assert_eq!(app.get("/no/such/route", None, &[]).await.status(), 404);

    let in_log: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let sagas: i64 = sqlx::query_scalar("SELECT count(*) FROM saga_fulfilments")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    #[allow(clippy::cast_precision_loss)]
    let (in_log, sagas) = (in_log as f64, sagas as f64);
    // Every projection has applied the whole log, and the saga has taken every step.
    let text = scrape_until(&app, "not caught up", |text| {
        PROJECTIONS.iter().all(|p| {
            sample(
                text,
                &format!("domainflow_projection_events_applied_total{{projection=\"{p}\"}}"),
            ) == Some(in_log)
                && lag(text, p) == Some(0.0)
        }) && lag(text, "fulfilment") == Some(0.0)
    })
    .await;
    let value =
        |series: &str| sample(&text, series).unwrap_or_else(|| panic!("no {series} in {text}"));

    // Requests.
    let placed = "route=\"/api/orders\",method=\"POST\",status=\"202\"";
    assert_eq!(
        value(&format!("domainflow_http_requests_total{{{placed}}}")),
        4.0
    );
    let histogram = "domainflow_http_request_duration_seconds";
    assert_eq!(value(&format!("{histogram}_count{{{placed}}}")), 4.0);
    assert_eq!(
        value(&format!("{histogram}_bucket{{{placed},le=\"+Inf\"}}")),
        4.0
    );
    assert!(value(&format!("{histogram}_sum{{{placed}}}")) > 0.0);
    let registered = "route=\"/api/products\",method=\"POST\"";
    assert_eq!(
        value(&format!(
            "domainflow_http_requests_total{{{registered},status=\"201\"}}"
        )),
        1.0
    );
    assert_eq!(
        value(&format!(
            "domainflow_http_requests_total{{{registered},status=\"409\"}}"
        )),
        1.0
    );
    assert_eq!(
        value("domainflow_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}"),
        1.0
    );

    // Commands: the clients' and the saga's.
    let command = |aggregate: &str, name: &str, outcome: &str| {
        value(&format!(
            "domainflow_commands_total{{aggregate=\"{aggregate}\",command=\"{name}\",outcome=\"{outcome}\"}}"
        ))
    };
    assert_eq!(command("order", "Place", "ok"), 4.0);
    assert_eq!(command("order", "Confirm", "ok"), 3.0);
    assert_eq!(command("order", "Cancel", "ok"), 1.0);
    assert_eq!(command("stock", "Register", "ok"), 1.0);
    assert_eq!(command("stock", "Register", "rejected"), 1.0);
    assert_eq!(command("stock", "Reserve", "ok"), 4.0);
    assert_eq!(command("stock", "Release", "ok"), 1.0);
    assert_eq!(
        value("domainflow_command_duration_seconds_count{aggregate=\"order\",command=\"Place\"}"),
        4.0
    );

    // Every event of the log was appended by this process.
    assert_eq!(total(&text, "domainflow_events_appended_total"), in_log);

    // The saga, and the followers that hold their lock here.
    for (phase, expected) in PHASES.iter().zip([0.0, 0.0, 0.0, 0.0, 3.0, 1.0]) {
        assert_eq!(
            value(&format!("domainflow_sagas{{phase=\"{phase}\"}}")),
            expected,
            "{phase}"
        );
    }
    assert_eq!(total(&text, "domainflow_sagas"), sagas);
    for follower in PROJECTIONS.iter().chain(&["fulfilment"]) {
        let labels = format!("{{projection=\"{follower}\"}}");
        assert_eq!(value(&format!("domainflow_projection_active{labels}")), 1.0);
        assert_eq!(value(&format!("domainflow_projection_parked{labels}")), 0.0);
        assert_eq!(
            value(&format!("domainflow_projection_lag_seconds{labels}")),
            0.0
        );
    }
    assert_eq!(value("domainflow_saga_dead_letters"), 0.0);
    assert_eq!(value("domainflow_saga_deadlines"), 0.0);
    assert_eq!(
        value("domainflow_payment_circuit_state{state=\"closed\"}"),
        1.0
    );
    assert!(value("domainflow_db_connections_max") >= 1.0);
    server.kill().await;
}

#[tokio::test]
async fn a_transaction_held_open_shows_as_lag_and_fails_readiness_until_it_ends() {
    let (server, app) = start().await;
    scrape_until(&app, "no lag series", |text| {
        lag(text, "products") == Some(0.0)
    })
    .await;

    // A transaction with an id, left open: readers of the log stop below it.
    let mut holder = sqlx::PgConnection::connect(&app.db.owner_url)
        .await
        .unwrap();
    let mut open = holder.begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *open)
        .await
        .unwrap();
    app.register_product("LAG-1", 5).await;
    scrape_until(&app, "the stall did not show", |text| {
        lag(text, "products").is_some_and(|events| events >= 1.0)
            && sample(
                text,
                "domainflow_projection_lag_seconds{projection=\"products\"}",
            )
            .is_some_and(|seconds| seconds > 0.0)
    })
    .await;

    // Readiness fails on it once it is older than --ready-max-lag, naming the follower.
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let (status, body) = readiness(&app).await;
        let products = check(&body, "products");
        if status == 503 && products["status"] == "fail" {
            assert!(
                products["reason"]
                    .as_str()
                    .unwrap()
                    .contains("behind the log"),
                "{body}"
            );
            assert_eq!(body["status"], "not ready");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still ready: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    open.commit().await.unwrap();
    scrape_until(&app, "the lag did not clear", |text| {
        lag(text, "products") == Some(0.0)
    })
    .await;
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let (status, body) = readiness(&app).await;
        if status == 200 {
            let names: Vec<&str> = body["checks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|check| check["name"].as_str().unwrap())
                .collect();
            for name in [
                "server",
                "followers",
                "database",
                "migrations",
                "orders",
                "fulfilment",
            ] {
                assert!(names.contains(&name), "no {name} check: {body}");
            }
            assert!(
                body["checks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|c| c["status"] == "pass")
            );
            assert_eq!(check(&body, "followers")["running"], 5, "{body}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not ready again: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.kill().await;
}

/// The status and body of `/health/ready`.
async fn readiness(app: &TestApp) -> (u16, Value) {
    let response = app.get("/health/ready", None, &[]).await;
    (response.status().as_u16(), response.json().await.unwrap())
}

/// The check named `name` of a readiness body.
fn check<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|check| check["name"] == name))
        .unwrap_or_else(|| panic!("no {name} check: {body}"))
}

/// The JSON log lines of `server` whose current span has `field` = `value`.
fn lines_with(server: &ServerProcess, field: &str, value: &str) -> Vec<Value> {
    server
        .log_lines()
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["span"][field] == value)
        .collect()
}

#[tokio::test]
async fn each_request_has_an_access_line_and_the_saga_steps_carry_its_correlation_id() {
    let (server, app) = start().await;
    let probe = app
        .get("/health/live", None, &[("x-request-id", "probe-request-1")])
        .await;
    assert_eq!(probe.status(), 200);
    app.register_product("LOG-1", 5).await;
    let order = app
        .place_order_paid_with("logged", &[("LOG-1", 1)], "tok_visa")
        .await;
    assert_eq!(
        app.settled_order(&order, SETTLE).await["status"],
        "CONFIRMED"
    );
    let correlation: String = sqlx::query_scalar(
        "SELECT metadata ->> 'correlationId' FROM events
         WHERE stream_type = 'order' AND stream_id = $1 AND version = 1",
    )
    .bind(&order)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();

    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let probed = lines_with(&server, "request_id", "probe-request-1");
        let placed = lines_with(&server, "correlation_id", &correlation);
        let access = |line: &Value, route: &str, status: &str| {
            line["fields"]["message"] == "request answered"
                && line["fields"]["route"] == route
                && line["fields"]["status"] == status
                && line["fields"]["latency_ms"].is_number()
        };
        let probe_logged = probed.iter().any(|l| access(l, "/health/live", "200"));
        let place_logged = placed
            .iter()
            .any(|l| access(l, "/api/orders", "202") && l["span"]["name"] == "request");
        let steps: Vec<&Value> = placed
            .iter()
            .filter(|l| l["fields"]["message"] == "saga step taken")
            .collect();
        let confirmed = steps.iter().any(|l| l["fields"]["phase"] == "CONFIRMED");
        if probe_logged && place_logged && confirmed {
            assert!(steps.iter().all(|l| l["span"]["order"] == order.as_str()));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "missing lines (probe {probe_logged}, place {place_logged}, steps {}): {:#?}",
            steps.len(),
            server.log_lines()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.kill().await;
}

/// A stand-in OpenTelemetry collector: answers every request 200 and keeps each body.
async fn collector() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&bodies);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let kept = Arc::clone(&kept);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0_u8; 8192];
                loop {
                    let Ok(read) = stream.read(&mut buffer).await else {
                        return;
                    };
                    if read == 0 {
                        return;
                    }
                    request.extend_from_slice(&buffer[..read]);
                    let text = String::from_utf8_lossy(&request).into_owned();
                    let Some((head, body)) = text.split_once("\r\n\r\n") else {
                        continue;
                    };
                    let length = head
                        .lines()
                        .find_map(|line| {
                            let (name, value) = line.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if body.len() < length {
                        continue;
                    }
                    kept.lock().unwrap().push(format!("{head}\n{body}"));
                    let _ = stream
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
                        .await;
                    return;
                }
            });
        }
    });
    (address, bodies)
}

#[tokio::test]
async fn with_an_otlp_endpoint_request_spans_reach_the_collector_in_the_callers_trace() {
    let (endpoint, bodies) = collector().await;
    let db = test_database().await;
    let (secret, secret_bytes) = tests::jwt_secret();
    let url = db.url.clone();
    let server = ServerProcess::start(
        BINARY,
        &[
            "--database-url",
            &url,
            "--jwt-secret",
            &secret,
            "--otlp-endpoint",
            &endpoint,
        ],
    )
    .await;
    let app = TestApp::attach(server.address.clone(), db, &secret_bytes);
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traced = app
        .get(
            "/health/live",
            None,
            &[("traceparent", &format!("00-{trace}-00f067aa0ba902b7-01"))],
        )
        .await;
    assert_eq!(traced.status(), 200);

    // The exporter sends a batch every few seconds.
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let exported = bodies.lock().unwrap().clone();
        let found = exported.iter().find(|body| body.contains(trace));
        if let Some(body) = found {
            assert!(body.starts_with("POST /v1/traces "), "{body}");
            assert!(body.contains("\"domainflow\""), "no service name: {body}");
            assert!(body.contains("\"request\""), "no request span: {body}");
            // The caller's span is the parent.
            assert!(
                body.contains("00f067aa0ba902b7"),
                "no parent span id: {body}"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no span of trace {trace} in {exported:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.kill().await;
}
