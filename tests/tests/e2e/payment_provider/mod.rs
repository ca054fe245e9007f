//! The payment provider over HTTP, for real: first the adapter against a fake card
//! processor on a real port (each behaviour of the wire contract, idempotency), then the
//! whole server charging through it with the settings `serve` builds (approved, declined,
//! an answer lost after the capture, with and without a cancel meanwhile, a refund after a
//! customer's cancel). Last, the simulation with its ledger in the database, as `serve`
//! runs it: what one instance charged, the next one (a restart, a CLI redrive) knows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod adapter;
mod orders;
mod simulation;

use std::time::Duration;

use application::saga::{ChargeRequest, PaymentProvider};
use domain::{Currency, Money};
use uuid::Uuid;

const CALL_TIMEOUT: Duration = Duration::from_millis(300);

/// A charge of 12.50 BRL to `token`, registered with `provider` first.
async fn request(provider: &impl PaymentProvider, token: &str) -> ChargeRequest {
    let method = provider.register(token).await.unwrap().method().unwrap();
    ChargeRequest {
        payment: Uuid::now_v7(),
        amount: Money::new(1250, Currency::parse("BRL").unwrap()),
        method: method.reference().to_owned(),
    }
}

fn brl(minor: i64) -> Money {
    Money::new(minor, Currency::parse("BRL").unwrap())
}
