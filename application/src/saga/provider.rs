//! The payment provider port: registering payment methods, charging and refunding through
//! whoever moves the money.

use async_trait::async_trait;
use domain::{Money, PaymentMethod};
use uuid::Uuid;

/// A charge to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeRequest {
    /// The payment's id (the order's), sent as the provider's idempotency key: a repeated
    /// request for one payment never charges twice.
    pub payment: Uuid,
    /// How much.
    pub amount: Money,
    /// The provider's reference of the payment method to charge.
    pub method: String,
}

/// What the provider answered to a payment token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// Kept: the method to charge in its place.
    Registered(PaymentMethod),
    /// Refused for good: not a token the provider accepts. Nothing was kept.
    Refused,
}

impl Registration {
    /// The method registered; `None` when the token was refused.
    #[must_use]
    pub fn method(self) -> Option<PaymentMethod> {
        match self {
            Self::Registered(method) => Some(method),
            Self::Refused => None,
        }
    }
}

/// What the provider answered to a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Charge {
    /// Authorized and captured.
    Approved,
    /// Refused for good (card declined, insufficient funds).
    Declined {
        /// The provider's reason.
        reason: String,
    },
}

/// What the provider knows of one payment's charge, as a status look-up answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeStatus {
    /// No charge was captured for the payment, and none is under way: giving up on it is
    /// safe.
    NotCharged,
    /// A charge is still being processed; its outcome is not known yet.
    Pending,
    /// The money was captured (and may have been refunded since).
    Captured,
    /// The charge was declined.
    Declined {
        /// The provider's reason.
        reason: String,
    },
}

/// Why a call to the provider did not produce an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider failed or could not be reached; trying again later may work.
    #[error("payment provider unavailable: {0}")]
    Unavailable(String),
    /// No answer came in time: the charge may or may not have happened.
    #[error("payment provider did not answer in time")]
    TimedOut,
    /// The call was not made: the circuit breaker is open after repeated failures. Trying
    /// again after the given pause may get through.
    #[error("payment provider circuit open; retry in {0:?}")]
    CircuitOpen(std::time::Duration),
}

/// Whoever moves the money.
#[async_trait]
pub trait PaymentProvider: Send + Sync + std::fmt::Debug {
    /// Registers the customer's payment `token` and answers the method to keep in its
    /// place: the provider's reference, which charges name, and a fingerprint that tells
    /// methods apart without revealing them. The token is never kept by domainflow.
    ///
    /// # Errors
    /// As [`PaymentProvider::charge`].
    async fn register(&self, token: &str) -> Result<Registration, ProviderError>;

    /// Charges `request.amount` to `request.method`, idempotent per `request.payment`.
    ///
    /// # Errors
    /// [`ProviderError::Unavailable`] for a passing failure; [`ProviderError::TimedOut`]
    /// when the outcome is unknown.
    async fn charge(&self, request: &ChargeRequest) -> Result<Charge, ProviderError>;

    /// What became of the charge of `payment`: asked before the saga gives up on a payment
    /// or an operator's redrive discards a charge, so that captured money is never lost.
    ///
    /// # Errors
    /// As [`PaymentProvider::charge`].
    async fn status(&self, payment: Uuid) -> Result<ChargeStatus, ProviderError>;

    /// Pays back what `payment` captured, idempotent per payment.
    ///
    /// # Errors
    /// As [`PaymentProvider::charge`].
    async fn refund(&self, payment: Uuid, amount: Money) -> Result<(), ProviderError>;
}
