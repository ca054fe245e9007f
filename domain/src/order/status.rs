//! Where an order stands, and why it was cancelled.

use std::fmt;

/// The lifecycle of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Placed; stock and payment are being arranged.
    Pending,
    /// Every line is reserved and the payment succeeded.
    Confirmed,
    /// Cancelled, for the given reason.
    Cancelled(CancellationReason),
    /// Handed to the carrier.
    Shipped,
}

impl Status {
    /// The status name used on the wire: `PENDING`, `CONFIRMED`, `CANCELLED`, `SHIPPED`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Confirmed => "CONFIRMED",
            Self::Cancelled(_) => "CANCELLED",
            Self::Shipped => "SHIPPED",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an order was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CancellationReason {
    /// A line could not be reserved.
    OutOfStock,
    /// The payment provider declined the charge.
    PaymentDeclined,
    /// The payment did not settle before its deadline.
    PaymentTimeout,
    /// The customer asked.
    CustomerRequest,
}

impl CancellationReason {
    /// Every reason, for parsing and listing.
    pub const ALL: [Self; 4] = [
        Self::OutOfStock,
        Self::PaymentDeclined,
        Self::PaymentTimeout,
        Self::CustomerRequest,
    ];

    /// The reason's name on the wire, e.g. `OUT_OF_STOCK`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OutOfStock => "OUT_OF_STOCK",
            Self::PaymentDeclined => "PAYMENT_DECLINED",
            Self::PaymentTimeout => "PAYMENT_TIMEOUT",
            Self::CustomerRequest => "CUSTOMER_REQUEST",
        }
    }

    /// The reason with this wire name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for CancellationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
