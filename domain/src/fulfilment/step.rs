//! What the fulfilment policy reacts to.

use crate::order::CancellationReason;
use crate::{CustomerId, Money, OrderId, PaymentMethod, Quantity, Sku};

/// Something that happened to an order, one of its stock lines or its payment, as the saga
/// sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The order was placed.
    Placed {
        /// The order.
        order: OrderId,
        /// Whose order it is.
        customer: CustomerId,
        /// Each line's SKU and quantity.
        lines: Vec<(Sku, Quantity)>,
        /// What to charge.
        total: Money,
        /// How to charge: the method registered with the provider.
        payment: PaymentMethod,
    },
    /// A line's stock was reserved.
    StockReserved {
        /// The line.
        sku: Sku,
    },
    /// A line's reservation was refused for lack of stock.
    StockRejected {
        /// The line.
        sku: Sku,
    },
    /// A line's reservation became a sale.
    StockCommitted {
        /// The line.
        sku: Sku,
    },
    /// The payment request was recorded.
    PaymentRequested,
    /// An attempt to charge failed for a passing reason.
    PaymentFailed {
        /// Which attempt (1-based), so a repeat is recognised.
        attempt: u32,
    },
    /// The charge was authorized.
    PaymentAuthorized,
    /// The charge was declined.
    PaymentDeclined,
    /// The payment did not settle before its deadline.
    PaymentDeadlinePassed,
    /// The order was confirmed.
    OrderConfirmed,
    /// The order was cancelled.
    OrderCancelled {
        /// Why.
        reason: CancellationReason,
    },
}
