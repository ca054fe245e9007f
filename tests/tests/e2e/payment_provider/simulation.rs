//! The simulated provider's ledger in the database: it outlives the provider that wrote it,
//! keeps late approvals pending until they capture, and is unavailable during an outage.

use std::time::Duration;

use application::saga::{Charge, ChargeRequest, ChargeStatus, PaymentProvider, ProviderError};
use infrastructure::SimulatedProvider;

use super::{brl, request};

fn simulation_over(db: &tests::TestDatabase) -> SimulatedProvider {
    SimulatedProvider::persistent(db.pool.clone(), Duration::from_millis(50))
}

#[tokio::test]
async fn the_simulations_ledger_in_the_database_outlives_the_provider_that_wrote_it() {
    let db = tests::test_database().await;
    let visa = request(&simulation_over(&db), "tok_visa").await;
    let declined = request(&simulation_over(&db), "tok_chargeDeclined").await;
    let flaky = request(&simulation_over(&db), "tok_flaky").await;
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
        method: request(&after, "tok_chargeDeclined").await.method,
        ..visa.clone()
    };
    assert_eq!(after.charge(&other_card).await, Ok(Charge::Approved));
    assert!(
        after.charge(&flaky).await.is_err(),
        "the second call still fails"
    );
    assert_eq!(after.charge(&flaky).await, Ok(Charge::Approved));
    assert_eq!(
        after
            .status(request(&after, "tok_visa").await.payment)
            .await,
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
    let lost = request(&first, "tok_captureTimeout").await;
    let late = request(&first, "tok_lateApproval").await;

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
    let charge = request(&provider, "tok_visa").await;
    provider.set_outage(true);
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
