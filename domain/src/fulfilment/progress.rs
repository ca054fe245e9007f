//! How far a fulfilment has come.

use crate::order::CancellationReason;

/// The stage of one order's fulfilment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    /// The order has not been seen yet.
    #[default]
    NotStarted,
    /// Waiting for every line's stock.
    Reserving,
    /// Every line is reserved; waiting for the payment.
    Paying,
    /// Paid; the stock is being committed and the order confirmed.
    Confirming,
    /// The order is confirmed.
    Confirmed,
    /// The order was given up (or cancelled by someone) and is being compensated.
    Cancelled(CancellationReason),
}

impl Phase {
    /// Whether the fulfilment has reached an outcome (confirmed or cancelled).
    #[must_use]
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Confirmed | Self::Cancelled(_))
    }
}

/// What the saga knows of the order's payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PaymentState {
    /// Not asked for yet.
    #[default]
    NotRequested,
    /// The request was sent.
    Requested,
    /// The request is recorded and the provider has been asked to charge.
    Charging,
    /// Captured.
    Succeeded,
    /// Declined.
    Declined,
    /// Given up after the deadline or a cancel.
    Expired,
    /// Paid back.
    Refunded,
}

/// What the saga knows of one line's stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineState {
    /// Reservation asked for.
    Requested,
    /// Reserved.
    Reserved,
    /// Refused for lack of stock.
    Rejected,
    /// Reservation given back.
    Released,
    /// Paid for; the sale is asked for but not in the log yet.
    Committing,
    /// Sold.
    Committed,
    /// Sold units given back after a refund.
    Returned,
}
