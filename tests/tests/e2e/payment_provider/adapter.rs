//! The HTTP provider against the fake processor: approvals, declines, failures, refusals,
//! timeouts, pending charges, outages, the API key, and money moved once per payment.

use application::saga::{Charge, ChargeStatus, PaymentProvider, ProviderError, Registration};
use infrastructure::HttpProvider;
use tests::fake_provider::{Behaviour, FakeProvider};

use super::{CALL_TIMEOUT, brl, request};

fn adapter(fake: &FakeProvider) -> HttpProvider {
    HttpProvider::new(&fake.url(), CALL_TIMEOUT).unwrap()
}

#[tokio::test]
async fn an_approved_charge_is_captured_and_its_status_says_so() {
    let fake = FakeProvider::start().await;
    let provider = adapter(&fake);
    let charge = request(&provider, "tok_visa").await;
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
    let charge = request(&provider, "tok_chargeDeclined").await;

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
    let charge = request(&provider, "tok_visa").await;
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
    let charge = request(&provider, "tok_visa").await;
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
    let charge = request(&adapter(&fake), "tok_visa").await;
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
    let right = adapter(&fake).with_api_key("sk_test_right").unwrap();
    let charge = request(&right, "tok_visa").await;
    let wrong = adapter(&fake).with_api_key("sk_test_wrong").unwrap();

    let refused = wrong.charge(&charge).await;

    assert!(
        matches!(&refused, Err(ProviderError::Unavailable(m)) if m.contains("401")),
        "{refused:?}"
    );
    assert_eq!(fake.captures(charge.payment), 0);
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
    let charge = request(&provider, "tok_slow").await;
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
    let charge = request(&provider, "tok_slow").await;
    fake.on_token("tok_slow", Behaviour::AnswerLate(CALL_TIMEOUT / 2));

    assert_eq!(provider.charge(&charge).await, Ok(Charge::Approved));
    assert_eq!(fake.captures(charge.payment), 1);
}

#[tokio::test]
async fn a_pending_charge_is_an_unknown_outcome_and_its_status_is_pending() {
    let fake = FakeProvider::start().await;
    let provider = adapter(&fake);
    let charge = request(&provider, "tok_pending").await;
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
    let before = request(&provider, "tok_visa").await;
    let charge = request(&provider, "tok_visa").await;
    assert_eq!(provider.charge(&before).await, Ok(Charge::Approved));
    fake.go_down().await;
    let registered = provider.register("tok_visa").await;
    assert!(
        matches!(registered, Err(ProviderError::Unavailable(_))),
        "{registered:?}"
    );

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
    let charge = request(&provider, "tok_visa").await;

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
    let declined = request(&provider, "tok_chargeDeclined").await;
    provider.charge(&declined).await.unwrap();

    let refunded = provider.refund(declined.payment, brl(1250)).await;

    assert!(
        matches!(&refunded, Err(ProviderError::Unavailable(m)) if m.contains("404")),
        "{refunded:?}"
    );
    assert_eq!(fake.refunds(declined.payment), 0);
}

#[tokio::test]
async fn a_token_the_processor_refuses_is_refused_without_its_answer_quoted() {
    let fake = FakeProvider::start().await;
    let provider = adapter(&fake);
    assert_eq!(
        provider.register("tok_refused_4111").await,
        Ok(Registration::Refused)
    );
    let registered = provider
        .register("tok_visa")
        .await
        .unwrap()
        .method()
        .unwrap();
    assert!(registered.reference().starts_with("pm_"));
    fake.require_key("sk_test_right");
    let failed = provider.register("tok_visa").await;
    assert!(
        matches!(&failed, Err(ProviderError::Unavailable(m)) if m.contains("401") && !m.contains("tok_")),
        "{failed:?}"
    );
}
