//! The stock state laid out as plain data: the door for snapshots.

use std::collections::BTreeMap;

use super::{Product, Stock};
use crate::{Money, OrderId, Quantity, Sku};

/// Every field of a [`Stock`] state, public, so a snapshot can store it and restore it.
///
/// This is not a way to make a state: `from_parts` trusts what it is given, and parts that
/// did not come from [`Stock::to_parts`] may break the invariants `decide` keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parts {
    /// The registered product, `None` before registration.
    pub product: Option<ProductParts>,
    /// Units physically in stock.
    pub on_hand: u32,
    /// Units held for orders: the sum of the open reservations.
    pub reserved: u32,
    /// Whether the low-stock alert is raised.
    pub low: bool,
    /// The open reservations: the units each order holds.
    pub reservations: BTreeMap<OrderId, Quantity>,
}

/// The registered product of a [`Parts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductParts {
    /// Its SKU.
    pub sku: Sku,
    /// Its name.
    pub name: String,
    /// Available stock below this is low.
    pub low_stock_threshold: u32,
    /// What one unit costs, if the product has a price.
    pub price: Option<Money>,
}

impl Stock {
    /// The state as plain data, for a snapshot.
    #[must_use]
    pub fn to_parts(&self) -> Parts {
        Parts {
            product: self.product.as_ref().map(|p| ProductParts {
                sku: p.sku.clone(),
                name: p.name.clone(),
                low_stock_threshold: p.low_stock_threshold,
                price: p.price,
            }),
            on_hand: self.on_hand,
            reserved: self.reserved,
            low: self.low,
            reservations: self.reservations.clone(),
        }
    }

    /// The state a snapshot made with [`Stock::to_parts`] describes.
    #[must_use]
    pub fn from_parts(parts: Parts) -> Self {
        Self {
            product: parts.product.map(|p| Product {
                sku: p.sku,
                name: p.name,
                low_stock_threshold: p.low_stock_threshold,
                price: p.price,
            }),
            on_hand: parts.on_hand,
            reserved: parts.reserved,
            low: parts.low,
            reservations: parts.reservations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Aggregate;
    use crate::stock::Event;

    #[test]
    fn a_state_survives_the_trip_through_its_parts() {
        let qty = |n| Quantity::new(n).unwrap();
        let (a, b, c) = (
            OrderId::from_u128(1),
            OrderId::from_u128(2),
            OrderId::from_u128(3),
        );
        let stock = Stock::from_events(&[
            Event::Registered {
                sku: Sku::parse("MUG-1").unwrap(),
                name: "Mug".into(),
                low_stock_threshold: 5,
                price: Some(crate::Money::new(
                    1250,
                    crate::Currency::parse("BRL").unwrap(),
                )),
            },
            Event::Restocked { quantity: qty(6) },
            Event::Reserved {
                order: a,
                quantity: qty(2),
            },
            Event::LowStock {
                available: 4,
                threshold: 5,
            },
            Event::Reserved {
                order: b,
                quantity: qty(1),
            },
            Event::Committed {
                order: b,
                quantity: qty(1),
            },
            Event::ReservationRejected {
                order: c,
                requested: qty(9),
                available: 3,
            },
        ]);
        assert!(stock.is_low() && stock.reserved() == 2);

        assert_eq!(Stock::from_parts(stock.to_parts()), stock);
        assert_eq!(Stock::from_parts(Parts::default()), Stock::default());
    }
}
