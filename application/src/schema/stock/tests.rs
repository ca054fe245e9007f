//! The stock events' wire format: round trips, upcasts and refusals.

use domain::{Currency, Quantity, Sku};
use serde_json::json;

use super::*;
use crate::schema::Upcasters;
use crate::schema::testing::{round_trip, stored};
use domain::OrderId;

const ORDER: OrderId = OrderId::from_u128(0x0192_3b4c_5d6e_7f80_9a1b_2c3d_4e5f_6a7b);

fn qty(n: u32) -> Quantity {
    Quantity::new(n).unwrap()
}

fn brl(minor: i64) -> Money {
    Money::new(minor, Currency::parse("BRL").unwrap())
}

#[test]
fn every_stock_event_round_trips_under_its_public_name() {
    let events = [
        Event::Registered {
            sku: Sku::parse("MUG-1").unwrap(),
            name: "Mug".into(),
            low_stock_threshold: 2,
            price: Some(brl(1250)),
        },
        Event::Registered {
            sku: Sku::parse("OLD-1").unwrap(),
            name: "Old mug".into(),
            low_stock_threshold: 0,
            price: None,
        },
        Event::Repriced { price: brl(1490) },
        Event::Restocked { quantity: qty(10) },
        Event::Reserved {
            order: ORDER,
            quantity: qty(3),
        },
        Event::ReservationRejected {
            order: ORDER,
            requested: qty(30),
            available: 7,
        },
        Event::Released {
            order: ORDER,
            quantity: qty(3),
        },
        Event::Committed {
            order: ORDER,
            quantity: qty(3),
        },
        Event::Returned {
            order: ORDER,
            quantity: qty(3),
        },
        Event::LowStock {
            available: 1,
            threshold: 2,
        },
    ];
    assert_eq!(
        round_trip(&events),
        [
            "ProductRegistered",
            "ProductRegistered",
            "ProductRepriced",
            "StockRestocked",
            "StockReserved",
            "StockReservationRejected",
            "StockReleased",
            "StockCommitted",
            "StockReturned",
            "LowStock",
        ]
    );
}

#[test]
fn a_reservation_is_stored_with_the_order_as_a_uuid() {
    let encoded = Event::Reserved {
        order: ORDER,
        quantity: qty(3),
    }
    .encode();
    assert_eq!(
        encoded,
        stored(
            "StockReserved",
            1,
            json!({ "orderId": "01923b4c-5d6e-7f80-9a1b-2c3d4e5f6a7b", "quantity": 3 })
        )
    );
}

#[test]
fn a_registration_is_stored_with_its_price_in_minor_units() {
    let encoded = Event::Registered {
        sku: Sku::parse("MUG-1").unwrap(),
        name: "Mug".into(),
        low_stock_threshold: 2,
        price: Some(brl(1250)),
    }
    .encode();
    assert_eq!(
        encoded,
        stored(
            "ProductRegistered",
            2,
            json!({ "sku": "MUG-1", "name": "Mug", "lowStockThreshold": 2,
                    "priceMinor": 1250, "currency": "BRL" })
        )
    );
}

#[test]
fn a_registration_stored_before_prices_reads_as_a_product_without_a_price() {
    let old = stored(
        "ProductRegistered",
        1,
        json!({ "sku": "OLD-1", "name": "Old mug", "lowStockThreshold": 3 }),
    );
    let current = Upcasters::current()
        .upcast(Event::STREAM_TYPE, old)
        .unwrap();
    assert_eq!(current.event_version, 2);
    assert_eq!(
        Event::decode(current),
        Ok(Event::Registered {
            sku: Sku::parse("OLD-1").unwrap(),
            name: "Old mug".into(),
            low_stock_threshold: 3,
            price: None,
        })
    );
}

#[test]
fn a_stored_price_needs_both_its_amount_and_its_currency() {
    let half = stored(
        "ProductRegistered",
        2,
        json!({ "sku": "MUG-1", "name": "Mug", "lowStockThreshold": 0,
                "priceMinor": 1250, "currency": null }),
    );
    assert!(matches!(Event::decode(half), Err(Error::Schema(_))));
    let bad_currency = stored(
        "ProductRepriced",
        1,
        json!({ "priceMinor": 1250, "currency": "real" }),
    );
    assert!(matches!(Event::decode(bad_currency), Err(Error::Schema(_))));
}

#[test]
fn a_stored_bad_sku_or_zero_quantity_is_a_schema_error() {
    let bad_sku = stored(
        "ProductRegistered",
        2,
        json!({ "sku": "no spaces", "name": "Mug", "lowStockThreshold": 0,
                "priceMinor": null, "currency": null }),
    );
    assert!(matches!(Event::decode(bad_sku), Err(Error::Schema(_))));
    let zero = stored("StockRestocked", 1, json!({ "quantity": 0 }));
    assert!(matches!(Event::decode(zero), Err(Error::Schema(_))));
}

#[test]
fn unknown_types_versions_and_shapes_are_schema_errors() {
    for event in [
        stored("StockVanished", 1, json!({})),
        stored("OrderPlaced", 1, json!({})),
        stored("StockRestocked", 2, json!({ "quantity": 3 })),
        stored("StockRestocked", 1, json!({ "qty": 3 })),
        stored("StockRestocked", 1, json!("3")),
        stored(
            "StockReserved",
            1,
            json!({ "orderId": "not-a-uuid", "quantity": 3 }),
        ),
    ] {
        let result = Event::decode(event.clone());
        assert!(
            matches!(result, Err(Error::Schema(_))),
            "{event:?}: {result:?}"
        );
    }
}

#[test]
fn unknown_fields_are_ignored_so_additions_need_no_new_version() {
    let event = stored(
        "StockRestocked",
        1,
        json!({ "quantity": 3, "note": "pallet 7" }),
    );
    assert_eq!(
        Event::decode(event),
        Ok(Event::Restocked { quantity: qty(3) })
    );
}
