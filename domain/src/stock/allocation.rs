//! What one order did with one SKU.

use crate::Quantity;

/// Where one order stands with one SKU's stock. Each order moves through these once, which
/// is what makes reserve, release, commit and return idempotent per order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocation {
    /// Units held for the order.
    Reserved(Quantity),
    /// The reservation was refused for lack of stock.
    Rejected,
    /// The reservation was given back.
    Released(Quantity),
    /// The reservation became a sale.
    Sold(Quantity),
    /// The sold units came back after a refund.
    Returned(Quantity),
}
