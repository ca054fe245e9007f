//! What can be asked of an order.

use super::{CancellationReason, Line};
use crate::{Currency, CustomerId, OrderId, PaymentMethod, Sku, Timestamp};

/// A request to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Place a new order.
    Place {
        /// The new order's id.
        order: OrderId,
        /// Who buys.
        customer: CustomerId,
        /// The one currency of every line.
        currency: Currency,
        /// What is bought.
        lines: Vec<Line>,
        /// How the customer pays: a method registered with the payment provider.
        payment: PaymentMethod,
        /// When.
        at: Timestamp,
    },
    /// Record that the stock of one line is reserved.
    RecordLineReserved {
        /// The line's SKU.
        sku: Sku,
    },
    /// Record that the payment succeeded.
    RecordPaymentSucceeded,
    /// Confirm the order: every line reserved and paid.
    Confirm {
        /// When.
        at: Timestamp,
    },
    /// Cancel the order.
    Cancel {
        /// Why.
        reason: CancellationReason,
        /// When.
        at: Timestamp,
    },
    /// Ship a confirmed order.
    Ship {
        /// When.
        at: Timestamp,
    },
}

impl Command {
    /// The command's name, e.g. `Place`: for metrics and logs.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Place { .. } => "Place",
            Self::RecordLineReserved { .. } => "RecordLineReserved",
            Self::RecordPaymentSucceeded => "RecordPaymentSucceeded",
            Self::Confirm { .. } => "Confirm",
            Self::Cancel { .. } => "Cancel",
            Self::Ship { .. } => "Ship",
        }
    }
}
