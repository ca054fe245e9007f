//! The outbox relay against the RabbitMQ and NATS servers of this machine (URLs from
//! `RABBITMQ_URL` and `NATS_URL`): a server relays while orders, tickets and their
//! fulfilment write the log, the broker is restarted in the middle, and a consumer then
//! finds every integration event the log holds, each under its event id, the first arrival
//! of each in its stream's order (duplicates allowed).
//!
//! Seeded: the orders, their pace and when the restart comes follow `RELAY_SEED` (printed;
//! set it to replay). Where a broker cannot be reached, its test says so and passes, unless
//! `BROKER_TESTS=required`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod nats;
mod rabbitmq;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use application::Role;
use application::integration::{Broker, IntegrationEvent};
use chrono::{DateTime, Utc};
use serde_json::json;
use tests::brokers::{Outage, Received, check_arrivals, integration_events, relayed_to_the_end};
use tests::rng::{Rng, seed_from};
use tests::{TestApp, spawn_app_with};

const TMP: &str = env!("CARGO_TARGET_TMPDIR");

/// How long the broker stays down.
const OUTAGE: Duration = Duration::from_secs(1);

/// Runs the scenario against `broker`, restarting it with `restart` (blocking) while orders
/// come in; the integration events the log holds at the end, in the log's order.
async fn relay_through_a_restart(
    broker: Arc<dyn Broker>,
    restart: fn(Duration) -> Outage,
) -> Vec<IntegrationEvent> {
    let seed = seed_from("RELAY_SEED");
    println!("relay seed {seed}: replay with RELAY_SEED={seed}");
    let mut rng = Rng::new(seed);
    let kind = broker.kind();
    let app = spawn_app_with(|config| config.broker = Some(broker)).await;
    let failures_before = relay_failures(&app, kind).await;
    let operator = app.token("operator-1", Role::Operator);
    app.register_product("RELAY-A", 1000).await;
    // Few units and a threshold: orders run it out (cancellations, refunds) and it warns.
    let scarce = json!({
        "sku": "RELAY-B", "name": "Scarce", "initialQuantity": 12,
        "lowStockThreshold": 5, "price": "12.50", "currency": "BRL",
    });
    assert_eq!(
        app.post("/api/products", Some(&operator), scarce)
            .await
            .status(),
        201
    );
    let ticket = app.open_ticket("customer-relay").await;
    app.close_ticket("customer-relay", &ticket).await;

    let before = 5 + rng.below(20);
    let mut orders = Vec::new();
    let mut restarting: Option<tokio::task::JoinHandle<Outage>> = None;
    // Orders keep coming until the broker is back, so the relay has to publish through the
    // outage.
    loop {
        if orders.len() as u64 == before {
            restarting = Some(tokio::task::spawn_blocking(move || restart(OUTAGE)));
        }
        let sku = *rng.pick(&["RELAY-A", "RELAY-A", "RELAY-B"]);
        let token = *rng.pick(&["tok_visa", "tok_visa", "tok_visa", "tok_chargeDeclined"]);
        let quantity = u32::try_from(1 + rng.below(3)).unwrap();
        let customer = format!("customer-{}", rng.below(5));
        orders.push(
            app.place_order_paid_with(&customer, &[(sku, quantity)], token)
                .await,
        );
        tokio::time::sleep(Duration::from_millis(10 + rng.below(40))).await;
        if restarting
            .as_ref()
            .is_some_and(tokio::task::JoinHandle::is_finished)
        {
            break;
        }
    }
    let (down, up) = restarting
        .expect("the restart started")
        .await
        .expect("the broker restarted");
    // A few more after it, so that a relay stuck on the old connection would show.
    for _ in 0..3 {
        orders.push(app.place_order("customer-after", "RELAY-A", 1).await);
    }
    for order in &orders {
        app.settled_order(order, Duration::from_secs(60)).await;
    }
    println!(
        "{} orders placed, the broker restarted after {before}",
        orders.len()
    );
    app.db.log_settled().await;
    relayed_to_the_end(&app.db.pool).await;
    let failures = relay_failures(&app, kind).await - failures_before;
    println!("publishing failed {failures} times around the restart of {kind}");
    let events = integration_events(&app.db.pool).await;
    // The restart fell in the middle of the run: integration events were written while the
    // broker was down, and had to be carried through the outage.
    let during = events
        .iter()
        .filter(|event| {
            let body: serde_json::Value = serde_json::from_slice(&event.body).unwrap();
            let time: DateTime<Utc> = body["time"].as_str().unwrap().parse().unwrap();
            down <= time && time <= up
        })
        .count();
    assert!(
        during > 0,
        "no integration event was written while {kind} was down"
    );
    println!("{during} integration events were written while {kind} was down");
    events
}

/// `domainflow_relay_failures_total` for `broker`, as the server's `/metrics` shows it.
async fn relay_failures(app: &TestApp, broker: &str) -> u64 {
    let text = app.get("/metrics", None, &[]).await.text().await.unwrap();
    let series = format!("domainflow_relay_failures_total{{broker=\"{broker}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(series.as_str()))
        .map_or(0, |value| value.trim().parse().unwrap())
}

/// Every expected event arrived (see [`check_arrivals`]), and the run made each kind of
/// event the scenario is meant to.
fn check(expected: &[IntegrationEvent], received: &[Received]) {
    let names: HashSet<&str> = expected.iter().map(|event| event.name).collect();
    for name in [
        "order.placed",
        "order.confirmed",
        "order.cancelled",
        "payment.authorized",
        "ticket.opened",
        "ticket.closed",
    ] {
        assert!(names.contains(name), "the run made no {name}: {names:?}");
    }
    let duplicates = check_arrivals(expected, received);
    println!(
        "{} integration events arrived in stream order, {duplicates} duplicates",
        expected.len()
    );
}
