#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]
//! Past one process: two API processes (`serve --workers false`) and two workers (the
//! projections, the saga's runner and the relay) share one database under load. The worker
//! that runs fulfilment is killed with SIGKILL mid-run, then the other is restarted (SIGTERM
//! and started again), while orders keep coming through both APIs. After it all:
//! - every order is final, and its money agrees with its outcome;
//! - no command and no stock or payment effect was applied twice;
//! - every projection equals a rebuild from zero (`projections rebuild --all`);
//! - every integration event of the log reached RabbitMQ, first arrivals in stream order
//!   (where RabbitMQ is reachable; otherwise that part says it is skipped).
//!
//! Seeded: the orders, tokens, cancels and pace follow `SCALE_SEED` (printed).

use std::sync::Arc;
use std::time::Duration;

use application::Role;
use serde_json::json;
use tests::brokers::{
    RabbitQueue, check_arrivals, integration_events, rabbitmq_url, relayed_to_the_end, report,
};
use tests::rng::{Rng, seed_from};
use tests::{ServerProcess, TestApp, test_database, text};
use tokio::sync::watch;

const BINARY: &str = env!("CARGO_BIN_EXE_domainflow");
const TMP: &str = env!("CARGO_TARGET_TMPDIR");
const SETTLE: Duration = Duration::from_secs(90);
const SKUS: [&str; 3] = ["SCALE-A", "SCALE-B", "SCALE-SCARCE"];
const TOKENS: [&str; 6] = [
    "tok_visa",
    "tok_visa",
    "tok_visa",
    "tok_chargeDeclined",
    "tok_flaky",
    "tok_timeout",
];

/// One client's orders, placed through the API processes in turn.
struct Client {
    http: reqwest::Client,
    apis: Arc<Vec<String>>,
    tokens: Arc<Vec<String>>,
}

impl Client {
    /// Places orders until `stop` turns true, cancelling some at once; their ids.
    async fn place(&self, mut rng: Rng, stop: watch::Receiver<bool>) -> Vec<String> {
        let mut orders = Vec::new();
        for i in 0.. {
            if *stop.borrow() {
                break;
            }
            let api = &self.apis[i % self.apis.len()];
            let token = rng.pick(&self.tokens);
            let body = json!({
                "currency": "BRL",
                "lines": [{
                    "sku": rng.pick(&SKUS),
                    "quantity": 1 + rng.below(3),
                    "unitPrice": "12.50",
                }],
                "paymentToken": rng.pick(&TOKENS),
            });
            // A server pushing back (429, 503) is asked again after the pause it names, as
            // a client would; anything else but 202 is a failure.
            let mut pushed_back = 0;
            let answer = loop {
                let response = self
                    .http
                    .post(format!("{api}/api/orders"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|value| value.to_str().ok()?.parse::<u64>().ok())
                    .unwrap_or(1);
                let answer: serde_json::Value = response.json().await.unwrap_or_default();
                match status {
                    202 => break answer,
                    429 | 503 if pushed_back < 30 => {
                        pushed_back += 1;
                        tokio::time::sleep(Duration::from_secs(retry_after.min(2))).await;
                    }
                    _ => panic!("placing an order: {status} {answer}"),
                }
            };
            let order = answer["orderId"].as_str().unwrap().to_owned();
            if rng.below(8) == 0 {
                let other = &self.apis[(i + 1) % self.apis.len()];
                let cancelled = self
                    .http
                    .post(format!("{other}/api/orders/{order}/cancel"))
                    .bearer_auth(token)
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap();
                assert!(
                    cancelled.status().as_u16() < 500,
                    "cancelling {order}: {}",
                    cancelled.status()
                );
            }
            orders.push(order);
            tokio::time::sleep(Duration::from_millis(15 + rng.below(40))).await;
        }
        orders
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_apis_and_two_workers_lose_nothing_through_a_kill_and_a_restart() {
    let seed = seed_from("SCALE_SEED");
    println!("scale-out seed {seed}: replay with SCALE_SEED={seed}");
    let mut rng = Rng::new(seed);
    let db = test_database().await;
    let (secret, secret_bytes) = tests::jwt_secret();
    let url = db.url.clone();
    let broker_url = rabbitmq_url();
    let queue = match RabbitQueue::bind(&broker_url).await {
        Ok(queue) => Some(queue),
        Err(error) => {
            report(
                TMP,
                &format!(
                    "broker test skipped: no RabbitMQ reachable at RABBITMQ_URL ({error}); \
                     the scale-out test runs without its relay"
                ),
                true,
            );
            None
        }
    };
    let common = [
        "--database-url",
        url.as_str(),
        "--jwt-secret",
        secret.as_str(),
        "--payment-timeout",
        "3s",
        // Four processes share one PostgreSQL with the rest of the suite.
        "--max-connections",
        "8",
    ];
    let api_args: Vec<&str> = common
        .iter()
        .copied()
        .chain(["--workers", "false"])
        .collect();
    let mut worker_args: Vec<&str> = common.to_vec();
    if queue.is_some() {
        worker_args.extend(["--broker", "rabbitmq", "--broker-url", broker_url.as_str()]);
    }
    let api_a = ServerProcess::start(BINARY, &api_args).await;
    let api_b = ServerProcess::start(BINARY, &api_args).await;
    let workers = [
        ServerProcess::start_worker(BINARY, &worker_args).await,
        ServerProcess::start_worker(BINARY, &worker_args).await,
    ];
    let app = TestApp::attach(api_a.address.clone(), db, &secret_bytes);
    for sku in SKUS {
        let units = if sku == "SCALE-SCARCE" { 20 } else { 100_000 };
        app.register_product(sku, units).await;
    }

    let client = Arc::new(Client {
        http: reqwest::Client::new(),
        apis: Arc::new(vec![api_a.address.clone(), api_b.address.clone()]),
        tokens: Arc::new(
            (0..6)
                .map(|i| app.token(&format!("customer-{i}"), Role::Customer))
                .collect(),
        ),
    });
    // Orders come through both APIs until after the restart.
    let (stop_load, load_stops) = watch::channel(false);
    let load: Vec<_> = (0..4)
        .map(|_| {
            let client = Arc::clone(&client);
            let stream = Rng::new(rng.below(u64::MAX));
            let stop = load_stops.clone();
            tokio::spawn(async move { client.place(stream, stop).await })
        })
        .collect();

    // Mid-run, the worker running fulfilment dies at once; the other takes over.
    tokio::time::sleep(Duration::from_millis(800 + rng.below(1200))).await;
    let [first, second] = workers;
    let (killed, survivor) = if runs_fulfilment(&first).await {
        (first, second)
    } else {
        (second, first)
    };
    killed.kill().await;
    println!("killed the worker running fulfilment");
    // Then the survivor is restarted: a clean stop, and a new process.
    tokio::time::sleep(Duration::from_millis(800 + rng.below(1200))).await;
    let status = survivor.terminate(Duration::from_secs(30)).await;
    assert!(status.success(), "the worker stopped with {status}");
    let restarted = ServerProcess::start_worker(BINARY, &worker_args).await;
    println!("restarted the other worker");
    tokio::time::sleep(Duration::from_millis(500 + rng.below(1000))).await;
    stop_load.send_replace(true);

    let mut orders = Vec::new();
    for task in load {
        orders.extend(task.await.unwrap());
    }
    println!("{} orders placed through two APIs", orders.len());
    for order in &orders {
        app.settled_order(order, SETTLE).await;
    }
    at_rest(&app, seed).await;

    // Every follower at the end of the log, then the read models against a rebuild.
    app.db.log_settled().await;
    caught_up(&app).await;
    let live = tests::books::read_models(&app.db.pool).await;
    let rebuilt = tests::run(
        BINARY,
        &["projections", "rebuild", "--all", "--database-url", &url],
    );
    assert!(rebuilt.status.success(), "{}", text(&rebuilt.stderr));
    let from_zero = tests::books::read_models(&app.db.pool).await;
    for (table, rows) in &live {
        assert_eq!(
            Some(rows),
            from_zero.get(table),
            "seed {seed}: {table} differs from a rebuild from zero"
        );
    }

    // The whole log, with the saga's and the clients' metadata, exported and verified
    // offline.
    let export_file = std::env::temp_dir().join(format!("scale-{}.ndjson", uuid::Uuid::new_v4()));
    let export_path = export_file.to_str().unwrap();
    let exported = tests::run(
        BINARY,
        &[
            "events",
            "export",
            "--out",
            export_path,
            "--database-url",
            &url,
        ],
    );
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let offline = tests::run(BINARY, &["verify", "--export", export_path]);
    assert!(offline.status.success(), "{}", text(&offline.stderr));
    std::fs::remove_file(&export_file).unwrap();

    if let Some(queue) = queue {
        relayed_to_the_end(&app.db.pool).await;
        let expected = integration_events(&app.db.pool).await;
        let duplicates = check_arrivals(&expected, &queue.drain().await);
        println!(
            "{} integration events arrived in stream order, {duplicates} duplicates",
            expected.len()
        );
        report(
            TMP,
            "broker test ran: scale-out with the relay on RabbitMQ",
            false,
        );
    }
    restarted.kill().await;
    api_b.kill().await;
    api_a.kill().await;
}

/// Whether `worker` holds the saga's runner (its `active` gauge is 1 there).
async fn runs_fulfilment(worker: &ServerProcess) -> bool {
    worker
        .metrics()
        .await
        .contains("domainflow_projection_active{projection=\"fulfilment\"} 1")
}

/// Waits until fulfilment is at rest (no deadline, dead letter or payment waiting) and its
/// promises hold: a compensation (a refund) may still be under way when every order is
/// final, so they are looked at again until the bound.
async fn at_rest(app: &TestApp, seed: u64) {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let why = match tests::books::unsettled(&app.db.pool).await {
            Ok(None) => match tests::books::fulfilment_promises(&app.db.pool).await {
                Ok(()) => return,
                Err(broken) => broken,
            },
            Ok(Some(why)) | Err(why) => why,
        };
        assert!(
            tokio::time::Instant::now() < deadline,
            "seed {seed}: fulfilment did not come to rest: {why}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until every follower of the log has no lag and none is parked.
async fn caught_up(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let statuses = projections::status(&app.db.pool).await.unwrap();
        if statuses
            .iter()
            .all(|s| s.lag_events == 0 && s.error.is_none())
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the followers did not catch up: {statuses:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
