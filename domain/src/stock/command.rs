//! What can be asked of a SKU's stock.

use crate::{Money, OrderId, Quantity, Sku};

/// A request to one SKU's stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Register the product.
    Register {
        /// The product's SKU (also the stream's id).
        sku: Sku,
        /// Its name.
        name: String,
        /// Available stock below this raises a low-stock alert.
        low_stock_threshold: u32,
        /// Units on hand from the start (may be zero).
        initial_quantity: u32,
        /// What one unit costs, in the product's currency.
        price: Money,
    },
    /// Change what one unit costs; orders placed from then on are charged the new price.
    Reprice {
        /// The new price, in any currency.
        price: Money,
    },
    /// Add units on hand.
    Restock {
        /// How many.
        quantity: Quantity,
    },
    /// Hold units for an order.
    Reserve {
        /// For which order.
        order: OrderId,
        /// How many.
        quantity: Quantity,
    },
    /// Give back what an order reserved (compensation).
    Release {
        /// Which order.
        order: OrderId,
    },
    /// Turn an order's reservation into a sale.
    Commit {
        /// Which order.
        order: OrderId,
    },
    /// Put an order's sold units back after a refund.
    Return {
        /// Which order.
        order: OrderId,
        /// How many units it bought.
        quantity: Quantity,
    },
}

impl Command {
    /// The command's name, e.g. `Register`: for metrics and logs.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Register { .. } => "Register",
            Self::Reprice { .. } => "Reprice",
            Self::Restock { .. } => "Restock",
            Self::Reserve { .. } => "Reserve",
            Self::Release { .. } => "Release",
            Self::Commit { .. } => "Commit",
            Self::Return { .. } => "Return",
        }
    }
}
