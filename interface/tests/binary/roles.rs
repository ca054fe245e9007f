#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Process roles: `serve --workers false` answers the API and runs no follower of the log;
//! `domainflow worker` runs them (the projections and the saga's runner) with only health
//! and metrics over HTTP. A worker killed with SIGKILL mid-run hands its work to the next
//! one, and every order placed through the API reaches its outcome.

use std::time::Duration;

use tests::{ServerProcess, TestApp, test_database};

const BINARY: &str = env!("CARGO_BIN_EXE_domainflow");
const SETTLE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn an_api_without_workers_and_workers_without_an_api_fulfil_every_order_through_a_kill() {
    let db = test_database().await;
    let (secret, secret_bytes) = tests::jwt_secret();
    let url = db.url.clone();
    let common = [
        "--database-url",
        url.as_str(),
        "--jwt-secret",
        secret.as_str(),
    ];
    let api_args: Vec<&str> = common
        .iter()
        .copied()
        .chain(["--workers", "false"])
        .collect();
    let api = ServerProcess::start(BINARY, &api_args).await;
    let app = TestApp::attach(api.address.clone(), db, &secret_bytes);
    app.register_product("ROLE-1", 1_000).await;

    // The API alone: orders are accepted, and nothing fulfils them yet.
    let mut orders = Vec::new();
    for i in 0..5 {
        orders.push(app.place_order(&format!("early-{i}"), "ROLE-1", 1).await);
    }
    let ready = app.get("/health/ready", None, &[]).await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    let followers = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["name"] == "followers")
        .unwrap()
        .clone();
    assert_eq!(followers["running"], 0, "{body}");

    let first = ServerProcess::start_worker(BINARY, &common).await;
    // The worker serves its probes and metrics, and no API.
    let probe = app
        .client
        .get(format!("{}/health/ready", first.address))
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 200);
    let api_on_worker = app
        .client
        .get(format!("{}/api/orders", first.address))
        .send()
        .await
        .unwrap();
    assert_eq!(api_on_worker.status(), 404);
    for order in &orders {
        assert_eq!(
            app.settled_order(order, SETTLE).await["status"],
            "CONFIRMED"
        );
    }
    let metrics = first.metrics().await;
    assert!(
        metrics.contains("domainflow_projection_active{projection=\"orders\"} 1"),
        "{metrics}"
    );

    // Orders keep coming while the worker is killed; the next worker finishes them all.
    for i in 0..10 {
        orders.push(app.place_order(&format!("late-{i}"), "ROLE-1", 1).await);
    }
    first.kill().await;
    for i in 10..20 {
        orders.push(app.place_order(&format!("late-{i}"), "ROLE-1", 1).await);
    }
    let second = ServerProcess::start_worker(BINARY, &common).await;
    for order in &orders {
        assert_eq!(
            app.settled_order(order, SETTLE).await["status"],
            "CONFIRMED",
            "order {order}"
        );
    }
    let placed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'OrderConfirmed'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        placed,
        i64::try_from(orders.len()).unwrap(),
        "confirmed once each"
    );
    // With two workers up, one holds each follower: its `active` gauge is 1 there only.
    let third = ServerProcess::start_worker(BINARY, &common).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut active = 0.0;
    for worker in [&second, &third] {
        let text = worker.metrics().await;
        active += text
            .lines()
            .find_map(|line| {
                line.strip_prefix("domainflow_projection_active{projection=\"orders\"} ")
            })
            .map_or(0.0, |value| value.parse::<f64>().unwrap());
    }
    assert!(
        (active - 1.0).abs() < f64::EPSILON,
        "orders active in {active} workers"
    );
    third.kill().await;
    second.kill().await;
    api.kill().await;
}

/// `domainflow relay` runs the relay alone: it takes the relay's lock and keeps its gauges
/// (its broker may be away: publishing waits, the relay runs), serves no API, and refuses
/// to start without a broker.
#[tokio::test]
async fn the_relay_alone_holds_the_relay_and_refuses_to_start_without_a_broker() {
    let db = test_database().await;
    let (secret, _) = tests::jwt_secret();
    let url = db.url.clone();
    let common = [
        "--database-url",
        url.as_str(),
        "--jwt-secret",
        secret.as_str(),
    ];
    let refused = tests::run(BINARY, &[&["relay"][..], &common[..]].concat());
    assert!(!refused.status.success());
    assert!(
        tests::text(&refused.stderr).contains("domainflow relay needs a broker"),
        "{}",
        tests::text(&refused.stderr)
    );
    let args: Vec<&str> = common
        .iter()
        .copied()
        .chain([
            "--broker",
            "rabbitmq",
            "--broker-url",
            "amqp://127.0.0.1:1/%2f",
        ])
        .collect();
    let relay = ServerProcess::start_relay(BINARY, &args).await;
    let mut metrics = String::new();
    for _ in 0..100 {
        metrics = relay.metrics().await;
        if metrics.contains("domainflow_projection_active{projection=\"relay\"} 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        metrics.contains("domainflow_projection_active{projection=\"relay\"} 1"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("domainflow_projection_active{projection=\"orders\"} 1"),
        "the relay process runs no projection"
    );
    let api = reqwest::get(format!("{}/api/orders", relay.address))
        .await
        .unwrap();
    assert_eq!(api.status(), 404);
    relay.kill().await;
}
