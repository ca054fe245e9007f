//! One order's saga: the steps it has taken in, from which the policy's state folds.

use domain::fulfilment::{Fulfilment, Step};
use uuid::Uuid;

use crate::event_log::Position;

/// One order's saga as stored: the steps taken in so far and the order's correlation id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saga {
    /// The order.
    pub order: Uuid,
    /// The order's correlation id.
    pub correlation_id: Uuid,
    /// The policy's inputs so far, in the order they were taken in.
    pub steps: Vec<Step>,
    /// The last event of the log taken in as a step (`Position::START` before any).
    pub position: Position,
}

impl Saga {
    /// The order, as the domain names it.
    #[must_use]
    pub fn order_id(&self) -> domain::OrderId {
        domain::OrderId::from_u128(self.order.as_u128())
    }

    /// The policy state after every step taken so far.
    #[must_use]
    pub fn current(&self) -> Fulfilment {
        self.fold(self.steps.len())
    }

    /// The policy state after the first `count` steps.
    #[must_use]
    pub fn fold(&self, count: usize) -> Fulfilment {
        let mut fulfilment = Fulfilment::default();
        for step in self.steps.iter().take(count) {
            // Replaying: the actions were carried out when the step was first taken.
            let _ = fulfilment.on(step.clone());
        }
        fulfilment
    }
}
