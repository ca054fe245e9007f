//! The built-in simulated payment provider, which behaves like a card processor's test
//! tokens: `tok_visa` approves, `tok_chargeDeclined` declines, `tok_timeout` never answers
//! in time, `tok_flaky` fails twice per payment and then approves. Any other token is
//! declined as an unknown payment method.
//!
//! Like a real provider it is idempotent per payment: once a charge is answered, asking
//! again for the same payment gives the same answer and charges nothing more.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use application::saga::{Charge, ChargeRequest, PaymentProvider, ProviderError};
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
    ledger: Mutex<Ledger>,
}

#[derive(Debug, Default)]
struct Ledger {
    answered: HashMap<Uuid, Charge>,
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
            ledger: Mutex::default(),
        }
    }

    /// Takes the provider down (every call fails) or brings it back.
    pub fn set_outage(&self, down: bool) {
        self.outage.store(down, Ordering::SeqCst);
    }

    /// What was refunded for `payment`, if anything.
    #[must_use]
    pub fn refunded(&self, payment: Uuid) -> Option<Money> {
        self.ledger().refunded.get(&payment).copied()
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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

    async fn refund(&self, payment: Uuid, amount: Money) -> Result<(), ProviderError> {
        self.available()?;
        self.ledger().refunded.insert(payment, amount);
        Ok(())
    }
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
