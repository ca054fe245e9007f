//! Why the saga acts, and what came of an action.

use domain::{OrderId, Sku};
use uuid::Uuid;

/// Why the saga is acting: the order, its causal chain, and the event that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// The order.
    pub order: OrderId,
    /// The order's correlation id (its customer's first command).
    pub correlation_id: Uuid,
    /// The event the saga reacts to (none for a deadline).
    pub causation_id: Option<Uuid>,
    /// The charge attempt a `ChargePayment` makes (1 for the first).
    pub charge_attempt: u32,
}

/// What the runner must do after an action was carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing more.
    Done,
    /// Start the payment deadline.
    ScheduleDeadline,
    /// The line's SKU names no registered product, so it can never be reserved: the
    /// runner takes this as the line's rejection (there is no stock event to say so).
    LineUnavailable(Sku),
}

/// An action the saga gave up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The last error.
    pub error: String,
    /// How many attempts were made.
    pub attempts: u32,
}
