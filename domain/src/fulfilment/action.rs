//! What the fulfilment policy asks the saga runner to do.

use crate::order::CancellationReason;
use crate::{CustomerId, Money, OrderId, PaymentMethod, Quantity, Sku};

/// A command to send or an effect to carry out, on the policy's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Reserve a line's stock.
    ReserveStock {
        /// The line's SKU.
        sku: Sku,
        /// For which order.
        order: OrderId,
        /// How many units.
        quantity: Quantity,
    },
    /// Record on the order that a line is reserved.
    RecordLineReserved {
        /// The order.
        order: OrderId,
        /// The line's SKU.
        sku: Sku,
    },
    /// Request the payment.
    RequestPayment {
        /// The order.
        order: OrderId,
        /// How much.
        amount: Money,
        /// The payment method, as registered with the provider.
        method: PaymentMethod,
    },
    /// Ask the payment provider to charge (keyed by the payment, so a repeat is harmless).
    ChargePayment {
        /// The order (also the payment's id).
        order: OrderId,
        /// How much.
        amount: Money,
        /// The payment method, as registered with the provider.
        method: PaymentMethod,
    },
    /// Start the clock: if the payment has not settled in time, the runner sends
    /// [`Step::PaymentDeadlinePassed`](super::Step::PaymentDeadlinePassed).
    ScheduleDeadline {
        /// The order.
        order: OrderId,
    },
    /// Record on the order that the payment succeeded.
    RecordPaymentSucceeded {
        /// The order.
        order: OrderId,
    },
    /// Turn a line's reservation into a sale.
    CommitStock {
        /// The line's SKU.
        sku: Sku,
        /// The order.
        order: OrderId,
    },
    /// Confirm the order.
    ConfirmOrder {
        /// The order.
        order: OrderId,
    },
    /// Give back a line's reservation.
    ReleaseStock {
        /// The line's SKU.
        sku: Sku,
        /// The order.
        order: OrderId,
    },
    /// Cancel the order.
    CancelOrder {
        /// The order.
        order: OrderId,
        /// Why.
        reason: CancellationReason,
    },
    /// Give up on the payment, after asking the provider what became of the charge (and
    /// recording the capture instead, when there was one).
    ExpirePayment {
        /// The order.
        order: OrderId,
    },
    /// Pay the captured amount back.
    RefundPayment {
        /// The order.
        order: OrderId,
    },
    /// Put a line's sold units back.
    ReturnStock {
        /// The line's SKU.
        sku: Sku,
        /// The order.
        order: OrderId,
        /// The units it bought.
        quantity: Quantity,
    },
    /// Open a support ticket for the customer about the order.
    OpenTicket {
        /// Whose ticket.
        customer: CustomerId,
        /// The order it is about.
        order: OrderId,
        /// Why the order failed.
        reason: CancellationReason,
    },
}
