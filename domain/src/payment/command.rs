//! What can be asked of a payment.

use crate::{Money, OrderId, PaymentMethod};

/// A request to one order's payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Ask for the order's amount to be charged.
    Request {
        /// The order paid for (also the payment's id).
        order: OrderId,
        /// How much.
        amount: Money,
        /// The payment method to charge, as registered with the provider.
        method: PaymentMethod,
    },
    /// The provider authorized and captured the charge.
    RecordAuthorized,
    /// The provider declined the charge.
    RecordDeclined {
        /// The provider's reason.
        reason: String,
    },
    /// The provider failed for a passing reason; another attempt may follow.
    RecordFailure {
        /// What went wrong.
        error: String,
    },
    /// Record that the payment deadline passed before the payment settled, or before it
    /// could be requested (refused once it has settled, so a capture and a deadline that
    /// race each other have one winner).
    PassDeadline,
    /// Give up waiting for an answer (the payment deadline passed).
    Expire,
    /// Pay the captured amount back.
    Refund,
}

impl Command {
    /// The command's name, e.g. `Request`: for metrics and logs.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Request { .. } => "Request",
            Self::RecordAuthorized => "RecordAuthorized",
            Self::RecordDeclined { .. } => "RecordDeclined",
            Self::RecordFailure { .. } => "RecordFailure",
            Self::PassDeadline => "PassDeadline",
            Self::Expire => "Expire",
            Self::Refund => "Refund",
        }
    }
}
