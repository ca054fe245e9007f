//! The order state laid out as plain data: the door for snapshots.

use std::collections::BTreeSet;

use super::{Line, Order, Placed, Status};
use crate::{CustomerId, Money, OrderId, Sku};

/// Every field of an [`Order`] state, public, so a snapshot can store it and restore it.
///
/// This is not a way to make a state: `from_parts` trusts what it is given, and parts that
/// did not come from [`Order::to_parts`] may break the invariants `decide` keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parts {
    /// The placed order, `None` before it is placed.
    pub placed: Option<PlacedParts>,
    /// The SKUs whose stock is recorded as reserved.
    pub reserved: BTreeSet<Sku>,
    /// Whether the payment is recorded as succeeded.
    pub paid: bool,
}

/// The placed order of a [`Parts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedParts {
    /// The order's id.
    pub id: OrderId,
    /// Who buys.
    pub customer: CustomerId,
    /// What is bought.
    pub lines: Vec<Line>,
    /// The exact sum of the line totals.
    pub total: Money,
    /// Where the order stands.
    pub status: Status,
}

impl Order {
    /// The state as plain data, for a snapshot.
    #[must_use]
    pub fn to_parts(&self) -> Parts {
        Parts {
            placed: self.placed.as_ref().map(|p| PlacedParts {
                id: p.id,
                customer: p.customer.clone(),
                lines: p.lines.clone(),
                total: p.total,
                status: p.status,
            }),
            reserved: self.reserved.clone(),
            paid: self.paid,
        }
    }

    /// The state a snapshot made with [`Order::to_parts`] describes.
    #[must_use]
    pub fn from_parts(parts: Parts) -> Self {
        Self {
            placed: parts.placed.map(|p| Placed {
                id: p.id,
                customer: p.customer,
                lines: p.lines,
                total: p.total,
                status: p.status,
            }),
            reserved: parts.reserved,
            paid: parts.paid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::{CancellationReason, Event};
    use crate::{Aggregate, Currency, Quantity, Timestamp};

    #[test]
    fn a_state_survives_the_trip_through_its_parts() {
        let brl = Currency::parse("BRL").unwrap();
        let line = |sku: &str, n, price| Line {
            sku: Sku::parse(sku).unwrap(),
            quantity: Quantity::new(n).unwrap(),
            unit_price: Money::new(price, brl),
        };
        let order = Order::from_events(&[
            Event::Placed {
                order: OrderId::from_u128(7),
                customer: CustomerId::parse("alice").unwrap(),
                currency: brl,
                lines: vec![line("MUG-1", 2, 1250), line("TEA-9", 1, 800)],
                total: Money::new(3300, brl),
                payment: crate::testing::card(),
                at: Timestamp::from_millis(1),
            },
            Event::LineReserved {
                sku: Sku::parse("MUG-1").unwrap(),
            },
            Event::Paid,
            Event::Cancelled {
                reason: CancellationReason::OutOfStock,
                at: Timestamp::from_millis(2),
            },
        ]);
        assert_eq!(
            order.status(),
            Some(Status::Cancelled(CancellationReason::OutOfStock))
        );

        assert_eq!(Order::from_parts(order.to_parts()), order);
        assert_eq!(Order::from_parts(Parts::default()), Order::default());
    }
}
