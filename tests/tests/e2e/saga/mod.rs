//! The order-fulfilment saga end to end: every outcome a client can observe (API.md, "Saga
//! outcomes"), retries, dead letters and their redrive, and a race for the last units.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admission;
mod compensation;
mod confirmation;
mod retries;

use std::time::Duration;

use serde_json::Value;
use tests::{TestApp, spawn_app_with_simulation};

const SETTLE: Duration = Duration::from_secs(30);

/// A server whose saga retries quickly, gives up on a payment after `payment_timeout`, and
/// whose provider gives up on a call after 100 ms.
async fn quick_app(payment_timeout: Duration) -> TestApp {
    let simulation = infrastructure::SimulatedProvider::new(Duration::from_millis(100));
    spawn_app_with_simulation(std::sync::Arc::new(simulation), |config| {
        config.saga.options.retry.base = Duration::from_millis(20);
        config.saga.options.retry.cap = Duration::from_millis(100);
        config.saga.options.payment_timeout = payment_timeout;
        config.saga.breaker_cooldown = Duration::from_millis(200);
    })
    .await
}

fn levels(product: &Value) -> (i64, i64, i64) {
    (
        product["onHand"].as_i64().unwrap(),
        product["reserved"].as_i64().unwrap(),
        product["available"].as_i64().unwrap(),
    )
}
