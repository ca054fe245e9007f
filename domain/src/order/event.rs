//! What happens to an order.

use super::{CancellationReason, Line};
use crate::{Currency, CustomerId, Money, OrderId, PaymentMethod, Sku, Timestamp};

/// Something that happened to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The order was placed.
    Placed {
        /// The order's id.
        order: OrderId,
        /// Who buys.
        customer: CustomerId,
        /// The currency of every amount.
        currency: Currency,
        /// What is bought.
        lines: Vec<Line>,
        /// The exact sum of the line totals.
        total: Money,
        /// How the customer pays: a method registered with the payment provider.
        payment: PaymentMethod,
        /// When.
        at: Timestamp,
    },
    /// The stock for one line is reserved.
    LineReserved {
        /// The line's SKU.
        sku: Sku,
    },
    /// The payment succeeded.
    Paid,
    /// Every line is reserved and the payment succeeded.
    Confirmed {
        /// When.
        at: Timestamp,
    },
    /// The order was cancelled.
    Cancelled {
        /// Why.
        reason: CancellationReason,
        /// When.
        at: Timestamp,
    },
    /// The order was shipped.
    Shipped {
        /// When.
        at: Timestamp,
    },
}
