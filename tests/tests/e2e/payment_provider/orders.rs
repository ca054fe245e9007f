//! Orders paid through the HTTP provider: confirmed with one capture, cancelled on a decline,
//! a lost capture found at the deadline, and refunds made once.

use std::time::Duration;

use application::Role;
use application::saga::{Charge, ChargeRequest, PaymentProvider};
use infrastructure::HttpProvider;
use interface::{ProviderKind, ProviderSettings, SagaConfig};
use serde_json::json;
use tests::fake_provider::{Behaviour, FakeProvider};
use tests::{TestApp, expect, spawn_app_with};
use uuid::Uuid;

use super::CALL_TIMEOUT;

const SETTLE: Duration = Duration::from_secs(30);

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

#[tokio::test]
async fn an_order_placed_while_tokens_were_kept_is_never_charged_and_a_charge_made_before_stands() {
    let fake = FakeProvider::start().await;
    let app = app_paying_through(&fake, Duration::from_secs(2)).await;
    app.register_product("MUG-1", 5).await;
    // Orders an older version placed, keeping the token in the event: one never charged,
    // one whose charge the provider captured before the upgrade.
    let (never, before) = (Uuid::now_v7(), Uuid::now_v7());
    fake.on_every_charge(Some(Behaviour::Approve));
    let charged = ChargeRequest {
        payment: before,
        amount: domain::Money::new(1250, domain::Currency::parse("BRL").unwrap()),
        method: HttpProvider::new(&fake.url(), CALL_TIMEOUT)
            .unwrap()
            .register("tok_visa")
            .await
            .unwrap()
            .method()
            .unwrap()
            .reference()
            .to_owned(),
    };
    let adapter = HttpProvider::new(&fake.url(), CALL_TIMEOUT).unwrap();
    assert_eq!(adapter.charge(&charged).await, Ok(Charge::Approved));
    fake.on_every_charge(None);
    for order in [never, before] {
        tests::legacy::append_placed_v1(&app.db.pool, order, "MUG-1", 1250, "tok_keptInTheLog")
            .await;
    }

    // Not charged: the payment deadline asks the provider again, and gives up.
    let never_settled = app.settled_order(&never.to_string(), SETTLE).await;
    assert_eq!(never_settled["status"], "CANCELLED", "{never_settled}");
    assert_eq!(never_settled["cancellationReason"], "PAYMENT_TIMEOUT");
    assert_eq!(
        fake.charge_calls(never),
        0,
        "no charge of a redacted method is sent"
    );
    let before_settled = app.settled_order(&before.to_string(), SETTLE).await;
    assert_eq!(before_settled["status"], "CONFIRMED", "{before_settled}");
    assert_eq!(
        fake.captures(before),
        1,
        "the charge made before the upgrade stands"
    );
    assert_eq!(app.product("MUG-1").await["onHand"], 4);
}

#[tokio::test]
async fn a_token_the_provider_refuses_refuses_the_order_without_quoting_the_token() {
    let fake = FakeProvider::start().await;
    let app = app_paying_through(&fake, Duration::from_secs(30)).await;
    app.register_product("MUG-1", 5).await;
    let customer = app.token("ivy", Role::Customer);
    let body = json!({
        "currency": "BRL",
        "lines": [{ "sku": "MUG-1", "quantity": 1 }],
        "paymentToken": "tok_refused_4111",
    });
    let refused = tests::problem(
        app.post("/api/orders", Some(&customer), body).await,
        422,
        "VALIDATION",
    )
    .await;
    assert!(!refused.to_string().contains("4111"), "{refused}");
    assert_eq!(app.orders_placed().await, 0);
}
