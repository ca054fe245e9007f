//! What happens to a payment.

use crate::{Money, OrderId, PaymentMethod};

/// Something that happened to one order's payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A charge was requested.
    Requested {
        /// The order paid for.
        order: OrderId,
        /// How much.
        amount: Money,
        /// The payment method to charge, as registered with the provider.
        method: PaymentMethod,
    },
    /// The charge was authorized and captured.
    Authorized {
        /// The captured amount.
        amount: Money,
        /// Which attempt this was (1-based).
        attempt: u32,
    },
    /// The charge was declined.
    Declined {
        /// The provider's reason.
        reason: String,
        /// Which attempt this was.
        attempt: u32,
    },
    /// An attempt failed for a passing reason.
    FailedTransiently {
        /// What went wrong.
        error: String,
        /// Which attempt this was.
        attempt: u32,
    },
    /// The payment's deadline passed before it settled: the order is given up. The
    /// payment itself still waits for the provider's last word (a capture that arrives now
    /// is recorded and refunded).
    DeadlinePassed,
    /// No answer came in time; the payment was given up.
    Expired,
    /// The captured amount was paid back.
    Refunded {
        /// How much.
        amount: Money,
    },
}
