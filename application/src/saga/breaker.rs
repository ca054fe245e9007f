//! A circuit breaker in front of the payment provider: after repeated failures it stops
//! calling for a while, then lets one probe through to see whether the provider is back.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use domain::Money;
use uuid::Uuid;

use super::provider::{
    Charge, ChargeRequest, ChargeStatus, PaymentProvider, ProviderError, Registration,
};

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls fail at once, without reaching the provider.
    Open,
    /// One probe call is let through; its outcome closes or opens the breaker.
    HalfOpen,
}

impl BreakerState {
    /// The state's name for metrics and logs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug)]
enum Inner {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

/// A [`PaymentProvider`] that wraps another behind a circuit breaker.
#[derive(Debug)]
pub struct CircuitBreaker {
    provider: Arc<dyn PaymentProvider>,
    threshold: u32,
    cooldown: Duration,
    inner: Mutex<Inner>,
}

impl CircuitBreaker {
    /// Opens after `threshold` failures in a row and stays open for `cooldown`.
    #[must_use]
    pub fn new(provider: Arc<dyn PaymentProvider>, threshold: u32, cooldown: Duration) -> Self {
        Self {
            provider,
            threshold: threshold.max(1),
            cooldown,
            inner: Mutex::new(Inner::Closed { failures: 0 }),
        }
    }

    /// Where the breaker stands now.
    #[must_use]
    pub fn state(&self) -> BreakerState {
        match &*self.lock() {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { until } if Instant::now() < *until => BreakerState::Open,
            Inner::Open { .. } | Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the state half-written.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether a call may go through now (and, half-open, marks the probe as taken: the
    /// permit hands the probe back if the call is dropped before its outcome is counted).
    fn admit(&self) -> Result<Permit<'_>, ProviderError> {
        let mut inner = self.lock();
        match &*inner {
            Inner::Closed { .. } => Ok(Permit {
                breaker: self,
                probe: false,
            }),
            Inner::Open { until } if Instant::now() < *until => Err(ProviderError::CircuitOpen(
                until.saturating_duration_since(Instant::now()),
            )),
            Inner::Open { .. } | Inner::HalfOpen { probing: false } => {
                *inner = Inner::HalfOpen { probing: true };
                Ok(Permit {
                    breaker: self,
                    probe: true,
                })
            }
            // Someone else's probe is on its way: ask again shortly.
            Inner::HalfOpen { probing: true } => Err(ProviderError::CircuitOpen(
                (self.cooldown / 10).max(Duration::from_millis(10)),
            )),
        }
    }

    /// Counts an outcome. Only failures of the provider itself count against it: a call
    /// that got no answer in time says nothing certain (the charge may have gone through),
    /// and a card's own timeout must not stop everyone else's payments.
    fn record<T>(&self, mut permit: Permit<'_>, outcome: &Result<T, ProviderError>) {
        permit.probe = false;
        let mut inner = self.lock();
        match (outcome, &*inner) {
            (Ok(_), _) => *inner = Inner::Closed { failures: 0 },
            (Err(ProviderError::TimedOut), Inner::HalfOpen { .. }) => {
                *inner = Inner::HalfOpen { probing: false };
            }
            (Err(ProviderError::TimedOut), _) | (Err(_), Inner::Open { .. }) => {}
            (Err(_), Inner::Closed { failures }) if failures + 1 < self.threshold => {
                *inner = Inner::Closed {
                    failures: failures + 1,
                };
            }
            (Err(_), Inner::Closed { .. } | Inner::HalfOpen { .. }) => {
                tracing::warn!(cooldown = ?self.cooldown, "payment provider circuit opened");
                *inner = Inner::Open {
                    until: Instant::now() + self.cooldown,
                };
            }
        }
    }
}

/// A call let through. A probe whose call is dropped unanswered (its caller went away)
/// hands the probe back, so the next call can probe instead of waiting forever.
struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    probe: bool,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.probe {
            let mut inner = self.breaker.lock();
            if let Inner::HalfOpen { probing: true } = &*inner {
                *inner = Inner::HalfOpen { probing: false };
            }
        }
    }
}

#[async_trait]
impl PaymentProvider for CircuitBreaker {
    async fn register(&self, token: &str) -> Result<Registration, ProviderError> {
        let permit = self.admit()?;
        let outcome = self.provider.register(token).await;
        self.record(permit, &outcome);
        outcome
    }

    async fn charge(&self, request: &ChargeRequest) -> Result<Charge, ProviderError> {
        let permit = self.admit()?;
        let outcome = self.provider.charge(request).await;
        self.record(permit, &outcome);
        outcome
    }

    async fn status(&self, payment: Uuid) -> Result<ChargeStatus, ProviderError> {
        let permit = self.admit()?;
        let outcome = self.provider.status(payment).await;
        self.record(permit, &outcome);
        outcome
    }

    async fn refund(&self, payment: Uuid, amount: Money) -> Result<(), ProviderError> {
        let permit = self.admit()?;
        let outcome = self.provider.refund(payment, amount).await;
        self.record(permit, &outcome);
        outcome
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

    use domain::Currency;

    use super::*;

    #[derive(Debug, Default)]
    struct Switch {
        down: AtomicBool,
        hang: AtomicBool,
        calls: AtomicU32,
    }

    #[async_trait]
    impl PaymentProvider for Switch {
        async fn register(&self, _: &str) -> Result<Registration, ProviderError> {
            Ok(Registration::Refused)
        }

        async fn charge(&self, _: &ChargeRequest) -> Result<Charge, ProviderError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.hang.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
            }
            if self.down.load(Ordering::SeqCst) {
                Err(ProviderError::Unavailable("down".into()))
            } else {
                Ok(Charge::Approved)
            }
        }

        async fn status(&self, _: Uuid) -> Result<ChargeStatus, ProviderError> {
            Ok(ChargeStatus::NotCharged)
        }

        async fn refund(&self, _: Uuid, _: Money) -> Result<(), ProviderError> {
            Ok(())
        }
    }

    fn request() -> ChargeRequest {
        ChargeRequest {
            payment: Uuid::nil(),
            amount: Money::new(100, Currency::parse("EUR").unwrap()),
            method: "pm_1".into(),
        }
    }

    #[tokio::test]
    async fn repeated_failures_open_the_circuit_and_calls_stop_reaching_the_provider() {
        let switch = Arc::new(Switch::default());
        let breaker = CircuitBreaker::new(switch.clone(), 3, Duration::from_secs(60));
        switch.down.store(true, Ordering::SeqCst);
        for _ in 0..3 {
            assert!(breaker.charge(&request()).await.is_err());
        }
        assert_eq!(breaker.state(), BreakerState::Open);
        assert!(breaker.charge(&request()).await.is_err());
        assert_eq!(switch.calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn after_the_cooldown_one_successful_probe_closes_the_circuit() {
        let switch = Arc::new(Switch::default());
        let breaker = CircuitBreaker::new(switch.clone(), 1, Duration::from_millis(20));
        switch.down.store(true, Ordering::SeqCst);
        assert!(breaker.charge(&request()).await.is_err());
        assert_eq!(breaker.state(), BreakerState::Open);
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        switch.down.store(false, Ordering::SeqCst);
        assert_eq!(breaker.charge(&request()).await, Ok(Charge::Approved));
        assert_eq!(breaker.state(), BreakerState::Closed);
    }

    #[tokio::test]
    async fn a_failed_probe_opens_the_circuit_again() {
        let switch = Arc::new(Switch::default());
        let breaker = CircuitBreaker::new(switch.clone(), 1, Duration::from_millis(20));
        switch.down.store(true, Ordering::SeqCst);
        assert!(breaker.charge(&request()).await.is_err());
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(breaker.charge(&request()).await.is_err());
        assert_eq!(breaker.state(), BreakerState::Open);
    }

    #[tokio::test]
    async fn a_probe_whose_caller_went_away_lets_the_next_call_probe() {
        let switch = Arc::new(Switch::default());
        let breaker = CircuitBreaker::new(switch.clone(), 1, Duration::from_millis(20));
        switch.down.store(true, Ordering::SeqCst);
        assert!(breaker.charge(&request()).await.is_err());
        tokio::time::sleep(Duration::from_millis(30)).await;
        switch.hang.store(true, Ordering::SeqCst);
        let dropped =
            tokio::time::timeout(Duration::from_millis(20), breaker.charge(&request())).await;
        assert!(dropped.is_err(), "the probe hangs and its caller gives up");
        switch.hang.store(false, Ordering::SeqCst);
        switch.down.store(false, Ordering::SeqCst);
        assert_eq!(breaker.charge(&request()).await, Ok(Charge::Approved));
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert_eq!(switch.calls.load(Ordering::SeqCst), 3);
    }
}
