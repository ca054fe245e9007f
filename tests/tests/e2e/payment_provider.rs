#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The payment provider over HTTP, for real: first the adapter against a fake card
//! processor on a real port (each behaviour of the wire contract, idempotency), then the
//! whole server charging through it with the settings `serve` builds (approved, declined,
//! an answer lost after the capture, with and without a cancel meanwhile, a refund after a
//! customer's cancel). Last, the simulation with its ledger in the database, as `serve`
//! runs it: what one instance charged, the next one (a restart, a CLI redrive) knows.

use std::time::Duration;

use application::Role;
use application::saga::{Charge, ChargeRequest, ChargeStatus, PaymentProvider, ProviderError};
use domain::{Currency, Money};
use infrastructure::{HttpProvider, SimulatedProvider};
use interface::{ProviderKind, ProviderSettings, SagaConfig};
use serde_json::json;
use tests::fake_provider::{Behaviour, FakeProvider};
use tests::{TestApp, expect, spawn_app_with};
use uuid::Uuid;

const CALL_TIMEOUT: Duration = Duration::from_millis(300);
const SETTLE: Duration = Duration::from_secs(30);

fn adapter(fake: &FakeProvider) -> HttpProvider {
    HttpProvider::new(&fake.url(), CALL_TIMEOUT).unwrap()
}

fn request(token: &str) -> ChargeRequest {
    ChargeRequest {
        payment: Uuid::now_v7(),
        amount: Money::new(1250, Currency::parse("BRL").unwrap()),
        token: token.into(),
    }
}

fn brl(minor: i64) -> Money {
    Money::new(minor, Currency::parse("BRL").unwrap())
}

#[tokio::test]
async fn an_approved_charge_is_captured_and_its_status_says_so() {
    let fake = FakeProvider::start().await;
    let provider = adapter(&fake);
    let charge = request("tok_visa");
    assert_eq!(
        provider.status(charge.payment).await,
        Ok(ChargeStatus::NotCharged)
    );

    assert_eq!(provider.charge(&charge).await, Ok(Charge::Approved));

    assert_eq!(fake.captures(charge.payment), 1);
    assert_eq!(fake.captured_amount(charge.payment), Some(1250));
    assert_eq!(
        provider.status(charge.payment).await,
        Ok(ChargeStatus::Captured)
    );
}

#[tokio::test]
async fn a_declined_charge_is_a_decline_with_the_processors_reason() {
    let fake = FakeProvider::start().await;
    let provider = adapter(&fake);
    let charge = request("tok_chargeDeclined");

    let answer = provider.charge(&charge).await;

    assert_eq!(
        answer,
        Ok(Charge::Declined {
            reason: "card declined".into()
        })
    );
    assert_eq!(fake.captures(charge.payment), 0);
    assert!(matches!(
        provider.status(charge.payment).await,
        Ok(ChargeStatus::Declined { .. })
    ));
}

#[tokio::test]
async fn a_processor_failure_is_a_passing_failure_and_a_retry_after_it_captures_once() {
    let fake = FakeProvider::start().await;
    let provider = adapter(&fake);
    let charge = request("tok_visa");
    fake.on_every_charge(Some(Behaviour::Fail));

    let failed = provider.charge(&charge).await;
    let looked_up = provider.status(charge.payment).await;

    assert!(
        matches!(&failed, Err(ProviderError::Unavailable(m)) if m.contains("500")),
        "{failed:?}"
    );
    assert!(
        matches!(looked_up, Err(ProviderError::Unavailable(_))),
        "{looked_up:?}"
    );
    fake.on_every_charge(None);
    assert_eq!(provider.charge(&charge).await, Ok(Charge::Approved));
    assert_eq!(fake.captures(charge.payment), 1);
}

#[tokio::test]
async fn a_refused_request_is_a_passing_failure_naming_the_complaint_never_a_decline() {
    let fake = FakeProvider::start().await;
    let provider = adapter(&fake);
    let charge = request("tok_visa");
    fake.on_every_charge(Some(Behaviour::Refuse));

    let refused = provider.charge(&charge).await;

    assert!(
        matches!(&refused, Err(ProviderError::Unavailable(m))
            if m.contains("400") && m.contains("unknown API key")),
        "{refused:?}"
    );
    assert_eq!(fake.captures(charge.payment), 0);
}

#[tokio::test]
async fn a_wrong_base_url_is_never_taken_for_a_payment_that_was_not_charged() {
    let fake = FakeProvider::start().await;
    let charge = request("tok_visa");
    adapter(&fake).charge(&charge).await.unwrap();
    let misconfigured = HttpProvider::new(&format!("{}/wrong", fake.url()), CALL_TIMEOUT).unwrap();

    let looked_up = misconfigured.status(charge.payment).await;

    assert!(
        matches!(&looked_up, Err(ProviderError::Unavailable(m)) if m.contains("404")),
        "{looked_up:?}"
    );
}

#[tokio::test]
async fn every_call_carries_the_api_key_and_a_wrong_one_is_refused_not_declined() {
    let fake = FakeProvider::start().await;
    fake.require_key("sk_test_right");
    let charge = request("tok_visa");
    let wrong = adapter(&fake).with_api_key("sk_test_wrong").unwrap();

    let refused = wrong.charge(&charge).await;

    assert!(
        matches!(&refused, Err(ProviderError::Unavailable(m)) if m.contains("401")),
        "{refused:?}"
    );
    assert_eq!(fake.captures(charge.payment), 0);
    let right = adapter(&fake).with_api_key("sk_test_right").unwrap();
    assert_eq!(right.charge(&charge).await, Ok(Charge::Approved));
    assert_eq!(
        right.status(charge.payment).await,
        Ok(ChargeStatus::Captured)
    );
    assert_eq!(right.refund(charge.payment, brl(1250)).await, Ok(()));
    assert_eq!(fake.refunds(charge.payment), 1);
}

#[tokio::test]
async fn a_capture_whose_answer_comes_too_late_times_out_and_a_status_look_up_finds_it() {
    let fake = FakeProvider::start().await;
    let provider = adapter(&fake);
    let charge = request("tok_slow");
    fake.on_token("tok_slow", Behaviour::CaptureThenDelay(CALL_TIMEOUT * 5));
    let started = tokio::time::Instant::now();

    let answer = provider.charge(&charge).await;

    assert_eq!(answer, Err(ProviderError::TimedOut));
    assert!(
        started.elapsed() < CALL_TIMEOUT * 3,
        "gave up after {:?}",
        started.elapsed()
    );
    assert_eq!(
        provider.status(charge.payment).await,
        Ok(ChargeStatus::Captured)
    );
    // Asking again answers the first outcome at once and captures nothing more.
    assert_eq!(provider.charge(&charge).await, Ok(Charge::Approved));
    assert_eq!(fake.captures(charge.payment), 1);
}

#[tokio::test]
async fn an_answer_that_comes_late_but_within_the_timeout_is_an_approval() {
    let fake = FakeProvider::start().await;
    let provider = adapter(&fake);
    let charge = request("tok_slow");
    fake.on_token("tok_slow", Behaviour::AnswerLate(CALL_TIMEOUT / 2));

    assert_eq!(provider.charge(&charge).await, Ok(Charge::Approved));
    assert_eq!(fake.captures(charge.payment), 1);
}

#[tokio::test]
async fn a_pending_charge_is_an_unknown_outcome_and_its_status_is_pending() {
    let fake = FakeProvider::start().await;
    let provider = adapter(&fake);
    let charge = request("tok_pending");
    fake.on_token("tok_pending", Behaviour::Pending);

    assert_eq!(provider.charge(&charge).await, Err(ProviderError::TimedOut));
    assert_eq!(
        provider.status(charge.payment).await,
        Ok(ChargeStatus::Pending)
    );
    assert_eq!(fake.captures(charge.payment), 0);
}

#[tokio::test]
async fn a_processor_that_is_down_is_unavailable_until_it_comes_back() {
    let fake = FakeProvider::start().await;
    let provider = adapter(&fake);
    let before = request("tok_visa");
    assert_eq!(provider.charge(&before).await, Ok(Charge::Approved));
    fake.go_down().await;
    let charge = request("tok_visa");

    let failed = provider.charge(&charge).await;
    let looked_up = provider.status(before.payment).await;
    let refunded = provider.refund(before.payment, brl(1250)).await;

    assert!(
        matches!(failed, Err(ProviderError::Unavailable(_))),
        "{failed:?}"
    );
    assert!(
        matches!(looked_up, Err(ProviderError::Unavailable(_))),
        "{looked_up:?}"
    );
    assert!(
        matches!(refunded, Err(ProviderError::Unavailable(_))),
        "{refunded:?}"
    );
    fake.come_up().await;
    assert_eq!(provider.charge(&charge).await, Ok(Charge::Approved));
    assert_eq!(fake.charge_calls(charge.payment), 1);
    assert_eq!(fake.refunds(before.payment), 0);
}

#[tokio::test]
async fn charging_one_payment_twice_captures_once_and_refunding_twice_pays_back_once() {
    let fake = FakeProvider::start().await;
    let provider = adapter(&fake);
    let charge = request("tok_visa");

    let (first, second) = tokio::join!(provider.charge(&charge), provider.charge(&charge));
    let third = provider.charge(&charge).await;

    assert_eq!(
        [first, second, third],
        [
            Ok(Charge::Approved),
            Ok(Charge::Approved),
            Ok(Charge::Approved)
        ]
    );
    assert_eq!(fake.charge_calls(charge.payment), 3);
    assert_eq!(fake.captures(charge.payment), 1);

    assert_eq!(provider.refund(charge.payment, brl(1250)).await, Ok(()));
    assert_eq!(provider.refund(charge.payment, brl(1250)).await, Ok(()));
    assert_eq!(fake.refunds(charge.payment), 1);
    assert_eq!(fake.refunded_amount(charge.payment), Some(1250));
    // A refunded charge was captured all the same.
    assert_eq!(
        provider.status(charge.payment).await,
        Ok(ChargeStatus::Captured)
    );
}

#[tokio::test]
async fn refunding_a_payment_that_was_never_captured_fails_without_moving_money() {
    let fake = FakeProvider::start().await;
    let provider = adapter(&fake);
    let declined = request("tok_chargeDeclined");
    provider.charge(&declined).await.unwrap();

    let refunded = provider.refund(declined.payment, brl(1250)).await;

    assert!(
        matches!(&refunded, Err(ProviderError::Unavailable(m)) if m.contains("404")),
        "{refunded:?}"
    );
    assert_eq!(fake.refunds(declined.payment), 0);
}

/// The server charging through `fake` with the settings `serve` would build, a short
/// per-call timeout, quick retries and a `payment_timeout` deadline.
async fn app_paying_through(fake: &FakeProvider, payment_timeout: Duration) -> TestApp {
    let settings = ProviderSettings {
        kind: ProviderKind::Http,
        url: Some(fake.url()),
        timeout: CALL_TIMEOUT,
        key: None,
    };
    let mut saga = SagaConfig::with_provider(&settings, None).unwrap();
    saga.options.retry.base = Duration::from_millis(20);
    saga.options.retry.cap = Duration::from_millis(100);
    saga.options.payment_timeout = payment_timeout;
    saga.breaker_cooldown = Duration::from_millis(200);
    spawn_app_with(move |config| config.saga = saga).await
}

fn id(order: &str) -> Uuid {
    Uuid::parse_str(order).unwrap()
}

#[tokio::test]
async fn an_order_paid_through_the_http_provider_is_confirmed_with_one_capture() {
    let fake = FakeProvider::start().await;
    let app = app_paying_through(&fake, Duration::from_secs(30)).await;
    app.register_product("MUG-1", 5).await;

    let order = app
        .place_order_paid_with("ana", &[("MUG-1", 2)], "tok_visa")
        .await;

    let settled = app.settled_order(&order, SETTLE).await;
    assert_eq!(settled["status"], "CONFIRMED", "{settled}");
    assert_eq!(settled["payment"]["status"], "SUCCEEDED", "{settled}");
    assert_eq!(fake.captures(id(&order)), 1);
    assert_eq!(fake.captured_amount(id(&order)), Some(2500));
    assert_eq!(app.product("MUG-1").await["onHand"], 3);
}

#[tokio::test]
async fn an_order_declined_by_the_http_provider_is_cancelled_without_a_capture() {
    let fake = FakeProvider::start().await;
    let app = app_paying_through(&fake, Duration::from_secs(30)).await;
    app.register_product("MUG-1", 5).await;

    let order = app
        .place_order_paid_with("bea", &[("MUG-1", 1)], "tok_chargeDeclined")
        .await;

    let settled = app.settled_order(&order, SETTLE).await;
    assert_eq!(settled["status"], "CANCELLED", "{settled}");
    assert_eq!(
        settled["cancellationReason"], "PAYMENT_DECLINED",
        "{settled}"
    );
    assert_eq!(fake.captures(id(&order)), 0);
    assert_eq!(app.product("MUG-1").await["available"], 5);
}

#[tokio::test]
async fn a_capture_whose_answer_is_lost_is_found_at_the_payment_deadline() {
    let fake = FakeProvider::start().await;
    fake.on_token(
        "tok_slow",
        Behaviour::CaptureThenDelay(Duration::from_secs(3)),
    );
    let app = app_paying_through(&fake, Duration::from_millis(1500)).await;
    app.register_product("MUG-1", 5).await;

    let order = app
        .place_order_paid_with("cid", &[("MUG-1", 1)], "tok_slow")
        .await;

    // The deadline's status look-up finds the capture and keeps the order.
    let settled = app.settled_order(&order, SETTLE).await;
    assert_eq!(settled["status"], "CONFIRMED", "{settled}");
    assert_eq!(settled["payment"]["status"], "SUCCEEDED", "{settled}");
    assert_eq!(fake.captures(id(&order)), 1);
    assert_eq!(fake.refunds(id(&order)), 0);
}

#[tokio::test]
async fn a_lost_capture_of_an_order_cancelled_meanwhile_is_refunded_once() {
    let fake = FakeProvider::start().await;
    fake.on_token(
        "tok_slow",
        Behaviour::CaptureThenDelay(Duration::from_secs(3)),
    );
    let app = app_paying_through(&fake, Duration::from_millis(1500)).await;
    app.register_product("MUG-1", 5).await;
    let order = app
        .place_order_paid_with("eve", &[("MUG-1", 2)], "tok_slow")
        .await;
    let deadline = tokio::time::Instant::now() + SETTLE;
    while fake.captures(id(&order)) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "never charged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let customer = app.token("eve", Role::Customer);
    expect(
        app.post(
            &format!("/api/orders/{order}/cancel"),
            Some(&customer),
            json!({ "reason": "CUSTOMER_REQUEST" }),
        )
        .await,
        202,
    )
    .await;

    let settled = app.settled_order(&order, SETTLE).await;
    assert_eq!(settled["status"], "CANCELLED", "{settled}");
    assert_eq!(
        settled["cancellationReason"], "CUSTOMER_REQUEST",
        "{settled}"
    );
    let refunded = refunded_order(&app, &order).await;
    assert_eq!(refunded["payment"]["status"], "REFUNDED", "{refunded}");
    assert_eq!(fake.captures(id(&order)), 1);
    assert_eq!(fake.refunds(id(&order)), 1);
    assert_eq!(fake.refunded_amount(id(&order)), Some(2500));
    assert_eq!(app.product("MUG-1").await["available"], 5);
}

/// Waits until the payment of `order` shows REFUNDED; the order read model.
async fn refunded_order(app: &TestApp, order: &str) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let seen = app.order(order).await;
        if seen["payment"]["status"] == "REFUNDED" {
            return seen;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not refunded: {seen}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_confirmed_order_cancelled_by_its_customer_is_refunded_once_at_the_provider() {
    let fake = FakeProvider::start().await;
    let app = app_paying_through(&fake, Duration::from_secs(30)).await;
    app.register_product("MUG-1", 5).await;
    let order = app
        .place_order_paid_with("dee", &[("MUG-1", 3)], "tok_visa")
        .await;
    app.confirm_order(&order).await;

    let customer = app.token("dee", Role::Customer);
    let path = format!("/api/orders/{order}/cancel");
    expect(
        app.post(
            &path,
            Some(&customer),
            json!({ "reason": "CUSTOMER_REQUEST" }),
        )
        .await,
        202,
    )
    .await;

    let refunded = refunded_order(&app, &order).await;
    assert_eq!(refunded["status"], "CANCELLED", "{refunded}");
    assert_eq!(fake.captures(id(&order)), 1);
    assert_eq!(fake.refunds(id(&order)), 1);
    assert_eq!(fake.refunded_amount(id(&order)), Some(3750));
}

fn simulation_over(db: &tests::TestDatabase) -> SimulatedProvider {
    SimulatedProvider::persistent(db.pool.clone(), Duration::from_millis(50))
}

#[tokio::test]
async fn the_simulations_ledger_in_the_database_outlives_the_provider_that_wrote_it() {
    let db = tests::test_database().await;
    let visa = request("tok_visa");
    let declined = request("tok_chargeDeclined");
    let flaky = request("tok_flaky");
    {
        let before = simulation_over(&db);
        assert_eq!(before.charge(&visa).await, Ok(Charge::Approved));
        assert!(matches!(
            before.charge(&declined).await,
            Ok(Charge::Declined { .. })
        ));
        assert!(before.charge(&flaky).await.is_err());
    }

    // A restarted server (or the CLI's redrive) finds every charge where it was left.
    let after = simulation_over(&db);
    assert_eq!(after.status(visa.payment).await, Ok(ChargeStatus::Captured));
    assert_eq!(
        after.status(declined.payment).await,
        Ok(ChargeStatus::Declined {
            reason: "card declined".into()
        })
    );
    let other_card = ChargeRequest {
        token: "tok_chargeDeclined".into(),
        ..visa.clone()
    };
    assert_eq!(after.charge(&other_card).await, Ok(Charge::Approved));
    assert!(
        after.charge(&flaky).await.is_err(),
        "the second call still fails"
    );
    assert_eq!(after.charge(&flaky).await, Ok(Charge::Approved));
    assert_eq!(
        after.status(request("tok_visa").payment).await,
        Ok(ChargeStatus::NotCharged)
    );

    assert_eq!(after.refund(visa.payment, brl(1250)).await, Ok(()));
    assert_eq!(after.refund(visa.payment, brl(999)).await, Ok(()));
    let refunded: (Option<i64>, Option<String>) = sqlx::query_as(
        "SELECT refunded_minor, refunded_currency FROM simulated_payments WHERE payment_id = $1",
    )
    .bind(visa.payment)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(refunded, (Some(1250), Some("BRL".into())));
    assert_eq!(after.status(visa.payment).await, Ok(ChargeStatus::Captured));
}

#[tokio::test]
async fn a_late_approval_in_the_database_is_pending_until_it_captures_and_a_lost_answer_is_found() {
    let db = tests::test_database().await;
    // A late approval captures twice the call timeout after its first call.
    let answer_within = Duration::from_millis(300);
    let first = SimulatedProvider::persistent(db.pool.clone(), answer_within);
    let lost = request("tok_captureTimeout");
    let late = request("tok_lateApproval");

    assert_eq!(first.charge(&lost).await, Err(ProviderError::TimedOut));
    assert_eq!(first.charge(&late).await, Err(ProviderError::TimedOut));

    let second = SimulatedProvider::persistent(db.pool.clone(), answer_within);
    assert_eq!(
        second.status(lost.payment).await,
        Ok(ChargeStatus::Captured)
    );
    assert_eq!(second.status(late.payment).await, Ok(ChargeStatus::Pending));
    tokio::time::sleep(answer_within * 2).await;
    assert_eq!(
        second.status(late.payment).await,
        Ok(ChargeStatus::Captured)
    );
    assert_eq!(second.charge(&late).await, Ok(Charge::Approved));
}

#[tokio::test]
async fn the_simulation_in_the_database_fails_as_unavailable_during_an_outage() {
    let db = tests::test_database().await;
    let provider = simulation_over(&db);
    provider.set_outage(true);
    let charge = request("tok_visa");
    assert!(matches!(
        provider.charge(&charge).await,
        Err(ProviderError::Unavailable(_))
    ));
    provider.set_outage(false);
    assert_eq!(
        provider.status(charge.payment).await,
        Ok(ChargeStatus::NotCharged)
    );
}
