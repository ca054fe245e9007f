//! The built-in simulated payment provider, which behaves like a card processor's test
//! tokens: `tok_visa` approves, `tok_chargeDeclined` declines, `tok_timeout` never answers
//! in time, `tok_flaky` fails twice per payment and then approves. Two more act out what
//! real networks do to a charge: `tok_captureTimeout` captures the money but the answer never
//! arrives (the call times out), and `tok_lateApproval` times out while the charge is still
//! being processed, and captures the money a moment later (twice the call timeout after
//! the first call). Any other token is declined as an unknown payment method. A status
//! look-up tells what the provider knows of a payment's charge.
//!
//! A token is registered first ([`PaymentProvider::register`]): the provider keeps it in its
//! vault and answers a reference (`pm_…`) and a fingerprint, which is all domainflow keeps.
//! A charge names the reference; one the vault does not know is declined as an unknown
//! payment method.
//!
//! Like a real provider it is idempotent per payment: once a charge is answered, asking
//! again for the same payment gives the same answer and charges nothing more. Its ledger is
//! kept in memory ([`SimulatedProvider::new`]) or in PostgreSQL
//! ([`SimulatedProvider::persistent`]), where a restart or an operator's redrive from the
//! CLI finds the charges already made.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use application::saga::{
    Charge, ChargeRequest, ChargeStatus, PaymentProvider, ProviderError, Registration,
};
use async_trait::async_trait;
use domain::Money;
use sqlx::PgPool;
use uuid::Uuid;

mod ledger;
mod vault;

use ledger::{Known, Ledger};
use vault::Vault;

/// The simulated provider. See the module documentation.
#[derive(Debug)]
pub struct SimulatedProvider {
    /// How long a `tok_timeout` charge hangs before the call gives up.
    answer_within: Duration,
    /// While true, every payment call fails as if the provider were down.
    outage: AtomicBool,
    ledger: Ledger,
    vault: Vault,
}

impl SimulatedProvider {
    /// A provider whose calls give up after `answer_within`, with its ledger in memory:
    /// forgotten when the process ends.
    #[must_use]
    pub fn new(answer_within: Duration) -> Self {
        Self {
            answer_within,
            outage: AtomicBool::new(false),
            ledger: Ledger::memory(),
            vault: Vault::memory(),
        }
    }

    /// A provider whose calls give up after `answer_within`, with its ledger in the
    /// database behind `pool` (tables `simulated_payments` and `simulated_payment_methods`):
    /// every process on that database
    /// sees the same charges, across restarts. A call fails as
    /// [`ProviderError::Unavailable`] while the database cannot be reached.
    #[must_use]
    pub fn persistent(pool: PgPool, answer_within: Duration) -> Self {
        Self {
            answer_within,
            outage: AtomicBool::new(false),
            ledger: Ledger::Postgres(pool.clone()),
            vault: Vault::Postgres(pool),
        }
    }

    /// A provider whose calls give up after 2 s, with its ledger in memory: what the
    /// command side registers tokens with in tests and benchmarks.
    #[must_use]
    pub fn simulation() -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self::new(Duration::from_secs(2)))
    }

    /// Takes the provider's payments down (every charge, status look-up and refund fails)
    /// or brings them back. Registering a token goes on working: a processor's vault is
    /// usually a service of its own, and a test of a payment outage needs orders to pay.
    pub fn set_outage(&self, down: bool) {
        self.outage.store(down, Ordering::SeqCst);
    }

    /// Whether money was captured for `payment` (refunded or not). Reads an in-memory
    /// ledger only: always false for a [`SimulatedProvider::persistent`] one, which
    /// [`PaymentProvider::status`] reads.
    #[must_use]
    pub fn captured(&self, payment: Uuid) -> bool {
        self.ledger.known_now(payment) == Some(Known::Answered(Charge::Approved))
    }

    /// What was refunded for `payment`, if anything. Reads an in-memory ledger only:
    /// always `None` for a [`SimulatedProvider::persistent`] one.
    #[must_use]
    pub fn refunded(&self, payment: Uuid) -> Option<Money> {
        self.ledger.refunded_now(payment)
    }

    fn available(&self) -> Result<(), ProviderError> {
        if self.outage.load(Ordering::SeqCst) {
            Err(ProviderError::Unavailable(
                "simulated outage: the provider is down".into(),
            ))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl PaymentProvider for SimulatedProvider {
    /// Registers any token: an unknown one is declined when charged, as a card processor's
    /// test mode does.
    async fn register(&self, token: &str) -> Result<Registration, ProviderError> {
        self.vault
            .register(token)
            .await
            .map(Registration::Registered)
    }

    async fn charge(&self, request: &ChargeRequest) -> Result<Charge, ProviderError> {
        self.available()?;
        if let Known::Answered(answer) = self.ledger.known(request.payment).await? {
            return Ok(answer);
        }
        let token = self.vault.token(&request.method).await?;
        let answer = match token.as_deref().unwrap_or_default() {
            "tok_visa" => Charge::Approved,
            "tok_chargeDeclined" => Charge::Declined {
                reason: "card declined".into(),
            },
            "tok_timeout" => {
                tokio::time::sleep(self.answer_within).await;
                return Err(ProviderError::TimedOut);
            }
            "tok_captureTimeout" => {
                self.ledger
                    .answer(request.payment, Charge::Approved)
                    .await?;
                tokio::time::sleep(self.answer_within).await;
                return Err(ProviderError::TimedOut);
            }
            "tok_lateApproval" => {
                self.ledger
                    .begin_pending(request.payment, self.answer_within * 2)
                    .await?;
                tokio::time::sleep(self.answer_within).await;
                return Err(ProviderError::TimedOut);
            }
            "tok_flaky" => {
                let calls = self.ledger.flaky_call(request.payment).await?;
                if calls <= 2 {
                    return Err(ProviderError::Unavailable(format!(
                        "simulated transient failure (call {calls})"
                    )));
                }
                Charge::Approved
            }
            _ => Charge::Declined {
                reason: "unknown payment method".into(),
            },
        };
        self.ledger.answer(request.payment, answer).await
    }

    async fn status(&self, payment: Uuid) -> Result<ChargeStatus, ProviderError> {
        self.available()?;
        Ok(match self.ledger.known(payment).await? {
            Known::Answered(Charge::Approved) => ChargeStatus::Captured,
            Known::Answered(Charge::Declined { reason }) => ChargeStatus::Declined { reason },
            Known::Pending => ChargeStatus::Pending,
            Known::Nothing => ChargeStatus::NotCharged,
        })
    }

    async fn refund(&self, payment: Uuid, amount: Money) -> Result<(), ProviderError> {
        self.available()?;
        self.ledger.refund(payment, amount).await
    }
}

#[cfg(test)]
mod tests {
    use domain::Currency;

    use super::*;

    async fn request(provider: &SimulatedProvider, token: &str) -> ChargeRequest {
        let method = provider.register(token).await.unwrap().method().unwrap();
        assert!(!method.reference().contains(token) && !method.fingerprint().contains(token));
        ChargeRequest {
            payment: Uuid::now_v7(),
            amount: Money::new(1250, Currency::parse("BRL").unwrap()),
            method: method.reference().to_owned(),
        }
    }

    #[tokio::test]
    async fn a_token_is_told_apart_by_its_fingerprint_and_unknown_references_decline() {
        let provider = SimulatedProvider::new(Duration::from_millis(10));
        let visa = provider
            .register("tok_visa")
            .await
            .unwrap()
            .method()
            .unwrap();
        let again = provider
            .register("tok_visa")
            .await
            .unwrap()
            .method()
            .unwrap();
        let other = provider
            .register("tok_chargeDeclined")
            .await
            .unwrap()
            .method()
            .unwrap();
        assert_ne!(visa.reference(), again.reference());
        assert_eq!(visa.fingerprint(), again.fingerprint());
        assert_ne!(visa.fingerprint(), other.fingerprint());
        let unknown = ChargeRequest {
            payment: Uuid::now_v7(),
            amount: Money::new(1250, Currency::parse("BRL").unwrap()),
            method: application::schema::REDACTED.into(),
        };
        assert!(matches!(
            provider.charge(&unknown).await,
            Ok(Charge::Declined { .. })
        ));
    }

    #[tokio::test]
    async fn test_tokens_answer_as_documented() {
        let provider = SimulatedProvider::new(Duration::from_millis(10));
        assert_eq!(
            provider.charge(&request(&provider, "tok_visa").await).await,
            Ok(Charge::Approved)
        );
        assert!(matches!(
            provider
                .charge(&request(&provider, "tok_chargeDeclined").await)
                .await,
            Ok(Charge::Declined { .. })
        ));
        assert_eq!(
            provider
                .charge(&request(&provider, "tok_timeout").await)
                .await,
            Err(ProviderError::TimedOut)
        );
    }

    #[tokio::test]
    async fn a_charge_whose_answer_is_lost_is_found_by_a_status_look_up() {
        let provider = SimulatedProvider::new(Duration::from_millis(10));
        let lost = request(&provider, "tok_captureTimeout").await;
        assert_eq!(
            provider.status(lost.payment).await,
            Ok(ChargeStatus::NotCharged)
        );
        assert_eq!(provider.charge(&lost).await, Err(ProviderError::TimedOut));
        assert_eq!(
            provider.status(lost.payment).await,
            Ok(ChargeStatus::Captured)
        );
        let late = request(&provider, "tok_lateApproval").await;
        assert_eq!(provider.charge(&late).await, Err(ProviderError::TimedOut));
        assert_eq!(
            provider.status(late.payment).await,
            Ok(ChargeStatus::Pending)
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(
            provider.status(late.payment).await,
            Ok(ChargeStatus::Captured)
        );
    }

    #[tokio::test]
    async fn a_flaky_payment_fails_twice_then_approves_and_stays_approved() {
        let provider = SimulatedProvider::new(Duration::from_millis(10));
        let flaky = request(&provider, "tok_flaky").await;
        assert!(provider.charge(&flaky).await.is_err());
        assert!(provider.charge(&flaky).await.is_err());
        assert_eq!(provider.charge(&flaky).await, Ok(Charge::Approved));
        assert_eq!(provider.charge(&flaky).await, Ok(Charge::Approved));
    }

    #[tokio::test]
    async fn during_an_outage_every_call_fails_and_afterwards_charges_go_through() {
        let provider = SimulatedProvider::new(Duration::from_millis(10));
        let visa = request(&provider, "tok_visa").await;
        provider.set_outage(true);
        assert!(provider.register("tok_visa").await.is_ok());
        assert!(matches!(
            provider.charge(&visa).await,
            Err(ProviderError::Unavailable(_))
        ));
        provider.set_outage(false);
        assert_eq!(provider.charge(&visa).await, Ok(Charge::Approved));
    }
}
