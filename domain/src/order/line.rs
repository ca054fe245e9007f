//! One line of an order.

use crate::{Money, Quantity, Sku};

/// So many units of one SKU at a unit price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// What is bought.
    pub sku: Sku,
    /// How many units.
    pub quantity: Quantity,
    /// The price of one unit.
    pub unit_price: Money,
}

impl Line {
    /// `quantity × unit_price`, or `None` if it does not fit in 64 bits.
    #[must_use]
    pub fn total(&self) -> Option<Money> {
        self.unit_price.times(self.quantity)
    }
}
