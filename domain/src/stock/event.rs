//! What happens to a SKU's stock.

use crate::{Money, OrderId, Quantity, Sku};

/// Something that happened to one SKU's stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The product was registered.
    Registered {
        /// Its SKU.
        sku: Sku,
        /// Its name.
        name: String,
        /// Available stock below this is low.
        low_stock_threshold: u32,
        /// What one unit costs. `None` only in products registered before products had
        /// prices: those cannot be ordered until they are repriced.
        price: Option<Money>,
    },
    /// The product's price changed.
    Repriced {
        /// The new price.
        price: Money,
    },
    /// Units arrived.
    Restocked {
        /// How many.
        quantity: Quantity,
    },
    /// Units are held for an order.
    Reserved {
        /// The order.
        order: OrderId,
        /// How many.
        quantity: Quantity,
    },
    /// An order asked for more than was available.
    ReservationRejected {
        /// The order.
        order: OrderId,
        /// What it asked for.
        requested: Quantity,
        /// What was available.
        available: u32,
    },
    /// An order's reservation was given back.
    Released {
        /// The order.
        order: OrderId,
        /// How many units.
        quantity: Quantity,
    },
    /// An order's reservation became a sale; the units left.
    Committed {
        /// The order.
        order: OrderId,
        /// How many units.
        quantity: Quantity,
    },
    /// An order's sold units came back.
    Returned {
        /// The order.
        order: OrderId,
        /// How many units.
        quantity: Quantity,
    },
    /// Available stock dropped below the threshold.
    LowStock {
        /// Units available now.
        available: u32,
        /// The threshold.
        threshold: u32,
    },
}
