//! How hard the saga tries: attempts, backoff and the payment deadline.

use std::time::Duration;

use crate::backoff::Backoff;

/// How hard the saga tries.
#[derive(Debug, Clone)]
pub struct SagaOptions {
    /// Charge attempts (each one a provider call) before the charge is dead-lettered.
    pub max_charge_attempts: u32,
    /// Attempts at a command that failed for a passing reason (a database hiccup) before it
    /// is dead-lettered.
    pub max_command_attempts: u32,
    /// The pause between attempts.
    pub retry: Backoff,
    /// How long a payment may take to settle before the order is cancelled with
    /// `PAYMENT_TIMEOUT`.
    pub payment_timeout: Duration,
    /// The longest one call to the payment provider may take before it counts as timed
    /// out (the call is dropped), so that no provider call outlives the payment deadline.
    pub provider_call_timeout: Duration,
}

impl Default for SagaOptions {
    fn default() -> Self {
        Self {
            max_charge_attempts: 5,
            max_command_attempts: 5,
            retry: Backoff {
                base: Duration::from_millis(200),
                cap: Duration::from_secs(5),
            },
            payment_timeout: Duration::from_secs(30),
            provider_call_timeout: Duration::from_secs(10),
        }
    }
}
