//! A product in the catalog: registered once, with a name and a price, and repriced.

use super::*;

#[test]
fn registering_records_the_name_threshold_and_initial_stock() {
    let stock = given::<Stock>([])
        .when(Command::Register {
            sku: sku(),
            name: " Mug ".into(),
            low_stock_threshold: 2,
            initial_quantity: 10,
            price: brl(1250),
        })
        .then([registered(2), restocked(10)]);
    assert_eq!((stock.on_hand(), stock.available()), (10, 10));
    assert_eq!(stock.name(), Some("Mug"));
    assert_eq!(stock.price(), Some(brl(1250)));
}

#[test]
fn a_product_needs_a_name_and_registers_once() {
    given::<Stock>([])
        .when(Command::Register {
            sku: sku(),
            name: "  ".into(),
            low_stock_threshold: 0,
            initial_quantity: 0,
            price: brl(1250),
        })
        .then_err(Error::InvalidName(crate::InvalidValue::Empty {
            field: "product name",
        }));
    given::<Stock>(ten_on_hand())
        .when(Command::Register {
            sku: sku(),
            name: "Mug".into(),
            low_stock_threshold: 0,
            initial_quantity: 0,
            price: brl(1250),
        })
        .then_err(Error::AlreadyRegistered);
}

#[test]
fn a_product_is_never_registered_for_free() {
    for price in [brl(0), brl(-1)] {
        given::<Stock>([])
            .when(Command::Register {
                sku: sku(),
                name: "Mug".into(),
                low_stock_threshold: 0,
                initial_quantity: 0,
                price,
            })
            .then_err(Error::NonPositivePrice);
    }
}

#[test]
fn repricing_changes_what_one_unit_costs() {
    let stock = given::<Stock>(ten_on_hand())
        .when(Command::Reprice { price: brl(1490) })
        .then([Event::Repriced { price: brl(1490) }]);
    assert_eq!(stock.price(), Some(brl(1490)));
    assert_eq!(stock.on_hand(), 10);
}

#[test]
fn repricing_to_the_current_price_is_a_no_op() {
    given::<Stock>(ten_on_hand())
        .when(Command::Reprice { price: brl(1250) })
        .then([]);
}

#[test]
fn repricing_needs_a_registered_product_and_a_positive_price() {
    given::<Stock>([])
        .when(Command::Reprice { price: brl(1490) })
        .then_err(Error::NotRegistered);
    given::<Stock>(ten_on_hand())
        .when(Command::Reprice { price: brl(0) })
        .then_err(Error::NonPositivePrice);
}

#[test]
fn a_product_registered_before_prices_has_none_until_repriced() {
    let unpriced = Event::Registered {
        sku: sku(),
        name: "Mug".into(),
        low_stock_threshold: 0,
        price: None,
    };
    let usd = Money::new(300, crate::Currency::parse("USD").unwrap());
    let stock = given::<Stock>([unpriced.clone()])
        .when(Command::Reprice { price: usd })
        .then([Event::Repriced { price: usd }]);
    assert_eq!(stock.price(), Some(usd));
    assert_eq!(Stock::from_events(&[unpriced]).price(), None);
}
