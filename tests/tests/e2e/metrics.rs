//! After a scripted run, `GET /metrics` holds what happened and nothing else: requests by
//! route, method and status with their histograms; commands by aggregate, command and
//! outcome, the saga's among them; every event of the log counted as appended, and as
//! applied by every projection; the lags at zero once caught up; the sagas by phase.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use application::Role;
use tests::{REJECTED_STATUS, TestApp, problem, spawn_app};

const SETTLE: Duration = Duration::from_secs(30);

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

const PROJECTIONS: [&str; 4] = ["orders", "products", "tickets", "payments"];

#[tokio::test]
async fn after_a_scripted_run_the_counters_and_histograms_hold_what_happened() {
    let app = spawn_app().await;
    app.register_product("MET-1", 10).await;
    let mut orders = Vec::new();
    for customer in ["m-1", "m-2", "m-3"] {
        orders.push(
            app.place_order_paid_with(customer, &[("MET-1", 1)], "tok_visa")
                .await,
        );
    }
    for order in &orders {
        assert_eq!(
            app.settled_order(order, SETTLE).await["status"],
            "CONFIRMED"
        );
    }
    // The stock's rule refuses a second registration of the same product.
    let operator = app.token("operator-1", Role::Operator);
    let again = serde_json::json!({
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
    #[allow(clippy::cast_precision_loss)]
    let in_log = in_log as f64;
    // Every projection has applied the whole log and says so.
    let deadline = tokio::time::Instant::now() + SETTLE;
    let text = loop {
        let text = scrape(&app).await;
        let done = PROJECTIONS.iter().all(|p| {
            sample(
                &text,
                &format!("domainflow_projection_events_applied_total{{projection=\"{p}\"}}"),
            ) == Some(in_log)
                && sample(
                    &text,
                    &format!("domainflow_projection_lag_events{{projection=\"{p}\"}}"),
                ) == Some(0.0)
        });
        if done {
            break text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not caught up: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let value =
        |series: &str| sample(&text, series).unwrap_or_else(|| panic!("no {series} in {text}"));

    // Requests.
    let placed = "route=\"/api/orders\",method=\"POST\",status=\"202\"";
    assert_eq!(
        value(&format!("domainflow_http_requests_total{{{placed}}}")),
        3.0
    );
    assert_eq!(
        value(&format!(
            "domainflow_http_request_duration_seconds_count{{{placed}}}"
        )),
        3.0
    );
    assert_eq!(
        value(&format!(
            "domainflow_http_request_duration_seconds_bucket{{{placed},le=\"+Inf\"}}"
        )),
        3.0
    );
    assert!(
        value(&format!(
            "domainflow_http_request_duration_seconds_sum{{{placed}}}"
        )) > 0.0
    );
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
    assert_eq!(command("order", "Place", "ok"), 3.0);
    assert_eq!(command("order", "Confirm", "ok"), 3.0);
    assert_eq!(command("stock", "Register", "ok"), 1.0);
    assert_eq!(command("stock", "Register", "rejected"), 1.0);
    assert_eq!(command("stock", "Reserve", "ok"), 3.0);
    assert_eq!(
        value("domainflow_command_duration_seconds_count{aggregate=\"order\",command=\"Place\"}"),
        3.0
    );

    // Events: every one in the log was appended by this process.
    assert_eq!(total(&text, "domainflow_events_appended_total"), in_log);

    // The saga.
    assert_eq!(value("domainflow_sagas{phase=\"CONFIRMED\"}"), 3.0);
    assert_eq!(value("domainflow_sagas{phase=\"PAYING\"}"), 0.0);
    assert_eq!(
        value("domainflow_projection_lag_events{projection=\"fulfilment\"}"),
        0.0
    );
    assert_eq!(value("domainflow_saga_dead_letters"), 0.0);
    assert_eq!(
        value("domainflow_payment_circuit_state{state=\"closed\"}"),
        1.0
    );
    assert!(value("domainflow_db_connections_max") >= 1.0);
}
