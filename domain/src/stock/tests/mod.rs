//! The stock of one SKU under test: registration and prices, reservations through an order's
//! life, the low-stock alert, and counts that never go negative.

mod catalog;
mod invariants;
mod low_stock;
mod reservations;

use super::*;
use crate::testing::given;

fn sku() -> Sku {
    Sku::parse("MUG-1").unwrap()
}

fn qty(n: u32) -> Quantity {
    Quantity::new(n).unwrap()
}

fn brl(minor: i64) -> Money {
    Money::new(minor, crate::Currency::parse("BRL").unwrap())
}

const A: OrderId = OrderId::from_u128(1);
const B: OrderId = OrderId::from_u128(2);

fn registered(threshold: u32) -> Event {
    Event::Registered {
        sku: sku(),
        name: "Mug".into(),
        low_stock_threshold: threshold,
        price: Some(brl(1250)),
    }
}

fn restocked(n: u32) -> Event {
    Event::Restocked { quantity: qty(n) }
}

fn reserved(order: OrderId, n: u32) -> Event {
    Event::Reserved {
        order,
        quantity: qty(n),
    }
}

/// Ten on hand, low below two.
fn ten_on_hand() -> Vec<Event> {
    vec![registered(2), restocked(10)]
}
