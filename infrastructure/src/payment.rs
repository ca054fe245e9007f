//! The built-in simulated payment provider, which behaves like a card processor's test
//! tokens: `tok_visa` approves, `tok_chargeDeclined` declines, `tok_timeout` never answers
//! in time, `tok_flaky` fails twice per payment and then approves. Two more act out what
//! real networks do to a charge: `tok_captureTimeout` captures the money but the answer never
//! arrives (the call times out), and `tok_lateApproval` times out while the charge is still
//! being processed, and captures the money a moment later. Any other token is declined as an unknown payment method. A status look-up
//! tells what the provider knows of a payment's charge.
//!
//! Like a real provider it is idempotent per payment: once a charge is answered, asking
//! again for the same payment gives the same answer and charges nothing more.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use std::sync::Arc;

use application::saga::{Charge, ChargeRequest, ChargeStatus, PaymentProvider, ProviderError};
use async_trait::async_trait;
use domain::Money;
use uuid::Uuid;

/// The simulated provider. See the module documentation.
#[derive(Debug)]
pub struct SimulatedProvider {
    /// How long a `tok_timeout` charge hangs before the call gives up.
    answer_within: Duration,
    /// While true, every call fails as if the provider were down.
    outage: AtomicBool,
    ledger: Arc<Mutex<Ledger>>,
}

#[derive(Debug, Default)]
struct Ledger {
    answered: HashMap<Uuid, Charge>,
    /// Charges under way that will capture later.
    pending: std::collections::HashSet<Uuid>,
    flaky_calls: HashMap<Uuid, u32>,
    refunded: HashMap<Uuid, Money>,
}

impl SimulatedProvider {
    /// A provider whose calls give up after `answer_within`.
    #[must_use]
    pub fn new(answer_within: Duration) -> Self {
        Self {
            answer_within,
            outage: AtomicBool::new(false),
            ledger: Arc::default(),
        }
    }

    /// Takes the provider down (every call fails) or brings it back.
    pub fn set_outage(&self, down: bool) {
        self.outage.store(down, Ordering::SeqCst);
    }

    /// Whether money was captured for `payment` (refunded or not).
    #[must_use]
    pub fn captured(&self, payment: Uuid) -> bool {
        matches!(self.ledger().answered.get(&payment), Some(Charge::Approved))
    }

    /// What was refunded for `payment`, if anything.
    #[must_use]
    pub fn refunded(&self, payment: Uuid) -> Option<Money> {
        self.ledger().refunded.get(&payment).copied()
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        lock(&self.ledger)
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
    async fn charge(&self, request: &ChargeRequest) -> Result<Charge, ProviderError> {
        self.available()?;
        if let Some(answer) = self.ledger().answered.get(&request.payment) {
            return Ok(answer.clone());
        }
        let answer = match request.token.as_str() {
            "tok_visa" => Charge::Approved,
            "tok_chargeDeclined" => Charge::Declined {
                reason: "card declined".into(),
            },
            "tok_timeout" => {
                tokio::time::sleep(self.answer_within).await;
                return Err(ProviderError::TimedOut);
            }
            "tok_captureTimeout" => {
                self.ledger()
                    .answered
                    .insert(request.payment, Charge::Approved);
                tokio::time::sleep(self.answer_within).await;
                return Err(ProviderError::TimedOut);
            }
            "tok_lateApproval" => {
                if self.ledger().pending.insert(request.payment) {
                    let ledger = Arc::clone(&self.ledger);
                    let (payment, late_by) = (request.payment, self.answer_within * 2);
                    tokio::spawn(async move {
                        tokio::time::sleep(late_by).await;
                        let mut ledger = lock(&ledger);
                        ledger.pending.remove(&payment);
                        ledger.answered.insert(payment, Charge::Approved);
                    });
                }
                tokio::time::sleep(self.answer_within).await;
                return Err(ProviderError::TimedOut);
            }
            "tok_flaky" => {
                let calls = {
                    let mut ledger = self.ledger();
                    let calls = ledger.flaky_calls.entry(request.payment).or_default();
                    *calls += 1;
                    *calls
                };
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
        self.ledger()
            .answered
            .insert(request.payment, answer.clone());
        Ok(answer)
    }

    async fn status(&self, payment: Uuid) -> Result<ChargeStatus, ProviderError> {
        self.available()?;
        let ledger = self.ledger();
        Ok(match ledger.answered.get(&payment) {
            Some(Charge::Approved) => ChargeStatus::Captured,
            Some(Charge::Declined { reason }) => ChargeStatus::Declined {
                reason: reason.clone(),
            },
            None if ledger.pending.contains(&payment) => ChargeStatus::Pending,
            None => ChargeStatus::NotCharged,
        })
    }

    async fn refund(&self, payment: Uuid, amount: Money) -> Result<(), ProviderError> {
        self.available()?;
        self.ledger().refunded.insert(payment, amount);
        Ok(())
    }
}

fn lock(ledger: &Mutex<Ledger>) -> std::sync::MutexGuard<'_, Ledger> {
    ledger
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use domain::Currency;

    use super::*;

    fn request(token: &str) -> ChargeRequest {
        ChargeRequest {
            payment: Uuid::now_v7(),
            amount: Money::new(1250, Currency::parse("BRL").unwrap()),
            token: token.into(),
        }
    }

    #[tokio::test]
    async fn test_tokens_answer_as_documented() {
        let provider = SimulatedProvider::new(Duration::from_millis(10));
        assert_eq!(
            provider.charge(&request("tok_visa")).await,
            Ok(Charge::Approved)
        );
        assert!(matches!(
            provider.charge(&request("tok_chargeDeclined")).await,
            Ok(Charge::Declined { .. })
        ));
        assert_eq!(
            provider.charge(&request("tok_timeout")).await,
            Err(ProviderError::TimedOut)
        );
    }

    #[tokio::test]
    async fn a_charge_whose_answer_is_lost_is_found_by_a_status_look_up() {
        let provider = SimulatedProvider::new(Duration::from_millis(10));
        let lost = request("tok_captureTimeout");
        assert_eq!(
            provider.status(lost.payment).await,
            Ok(ChargeStatus::NotCharged)
        );
        assert_eq!(provider.charge(&lost).await, Err(ProviderError::TimedOut));
        assert_eq!(
            provider.status(lost.payment).await,
            Ok(ChargeStatus::Captured)
        );
        let late = request("tok_lateApproval");
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
        let flaky = request("tok_flaky");
        assert!(provider.charge(&flaky).await.is_err());
        assert!(provider.charge(&flaky).await.is_err());
        assert_eq!(provider.charge(&flaky).await, Ok(Charge::Approved));
        assert_eq!(provider.charge(&flaky).await, Ok(Charge::Approved));
    }

    #[tokio::test]
    async fn during_an_outage_every_call_fails_and_afterwards_charges_go_through() {
        let provider = SimulatedProvider::new(Duration::from_millis(10));
        provider.set_outage(true);
        assert!(matches!(
            provider.charge(&request("tok_visa")).await,
            Err(ProviderError::Unavailable(_))
        ));
        provider.set_outage(false);
        assert_eq!(
            provider.charge(&request("tok_visa")).await,
            Ok(Charge::Approved)
        );
    }
}
