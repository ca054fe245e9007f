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

#[test]
fn restocking_adds_a_positive_quantity() {
    let stock = given::<Stock>(ten_on_hand())
        .when(Command::Restock { quantity: qty(5) })
        .then([restocked(5)]);
    assert_eq!(stock.on_hand(), 15);
    given::<Stock>([])
        .when(Command::Restock { quantity: qty(5) })
        .then_err(Error::NotRegistered);
    given::<Stock>([registered(0), restocked(u32::MAX)])
        .when(Command::Restock { quantity: qty(1) })
        .then_err(Error::QuantityOverflow);
}

#[test]
fn reserving_what_is_available_holds_it() {
    let stock = given::<Stock>(ten_on_hand())
        .when(Command::Reserve {
            order: A,
            quantity: qty(4),
        })
        .then([reserved(A, 4)]);
    assert_eq!(
        (stock.on_hand(), stock.reserved(), stock.available()),
        (10, 4, 6)
    );
}

#[test]
fn reserving_more_than_available_is_recorded_as_a_rejection() {
    given::<Stock>([registered(0), restocked(10), reserved(A, 8)])
        .when(Command::Reserve {
            order: B,
            quantity: qty(3),
        })
        .then([Event::ReservationRejected {
            order: B,
            requested: qty(3),
            available: 2,
        }]);
}

#[test]
fn reserving_again_for_the_same_order_is_a_no_op() {
    given::<Stock>([registered(0), restocked(10), reserved(A, 4)])
        .when(Command::Reserve {
            order: A,
            quantity: qty(4),
        })
        .then([]);
}

#[test]
fn releasing_returns_exactly_what_the_order_reserved() {
    let stock = given::<Stock>([registered(0), restocked(10), reserved(A, 4), reserved(B, 3)])
        .when(Command::Release { order: A })
        .then([Event::Released {
            order: A,
            quantity: qty(4),
        }]);
    assert_eq!((stock.reserved(), stock.available()), (3, 7));
}

#[test]
fn releasing_without_a_reservation_is_a_no_op() {
    given::<Stock>(ten_on_hand())
        .when(Command::Release { order: A })
        .then([]);
    given::<Stock>([
        registered(0),
        restocked(10),
        reserved(A, 4),
        Event::Released {
            order: A,
            quantity: qty(4),
        },
    ])
    .when(Command::Release { order: A })
    .then([]);
}

#[test]
fn committing_turns_the_reservation_into_a_sale() {
    let stock = given::<Stock>([registered(0), restocked(10), reserved(A, 4)])
        .when(Command::Commit { order: A })
        .then([Event::Committed {
            order: A,
            quantity: qty(4),
        }]);
    assert_eq!(
        (stock.on_hand(), stock.reserved(), stock.available()),
        (6, 0, 6)
    );
    given::<Stock>(ten_on_hand())
        .when(Command::Commit { order: A })
        .then_err(Error::NothingReserved { order: A });
}

#[test]
fn committing_what_was_sold_or_released_is_refused() {
    let sold = Event::Committed {
        order: A,
        quantity: qty(4),
    };
    given::<Stock>([registered(0), restocked(10), reserved(A, 4), sold])
        .when(Command::Commit { order: A })
        .then_err(Error::NothingReserved { order: A });
    let released = Event::Released {
        order: A,
        quantity: qty(4),
    };
    given::<Stock>([registered(0), restocked(10), reserved(A, 4), released])
        .when(Command::Commit { order: A })
        .then_err(Error::NothingReserved { order: A });
}

#[test]
fn returning_puts_the_sold_units_back_on_hand() {
    let stock = given::<Stock>([
        registered(0),
        restocked(10),
        reserved(A, 4),
        Event::Committed {
            order: A,
            quantity: qty(4),
        },
    ])
    .when(Command::Return {
        order: A,
        quantity: qty(4),
    })
    .then([Event::Returned {
        order: A,
        quantity: qty(4),
    }]);
    assert_eq!((stock.on_hand(), stock.available()), (10, 10));
}

#[test]
fn settled_orders_leave_nothing_behind_in_the_state() {
    let mut events = vec![registered(0), restocked(1000)];
    for n in 0..1000 {
        let order = OrderId::from_u128(100 + n);
        events.push(reserved(order, 1));
        events.push(if n % 2 == 0 {
            Event::Committed {
                order,
                quantity: qty(1),
            }
        } else {
            Event::Released {
                order,
                quantity: qty(1),
            }
        });
    }
    events.push(reserved(A, 2));
    let stock = Stock::from_events(&events);
    assert_eq!(stock.to_parts().reservations.len(), 1);
    assert_eq!(stock.reservation(A), Some(qty(2)));
    assert_eq!((stock.on_hand(), stock.reserved()), (500, 2));
}

#[test]
fn low_stock_is_raised_once_when_available_first_drops_below_the_threshold() {
    let stock = given::<Stock>([registered(5), restocked(10)])
        .when(Command::Reserve {
            order: A,
            quantity: qty(6),
        })
        .then([
            reserved(A, 6),
            Event::LowStock {
                available: 4,
                threshold: 5,
            },
        ]);
    assert!(stock.is_low());
    // Still below: no second alert.
    given::<Stock>([
        registered(5),
        restocked(10),
        reserved(A, 6),
        Event::LowStock {
            available: 4,
            threshold: 5,
        },
    ])
    .when(Command::Reserve {
        order: B,
        quantity: qty(1),
    })
    .then([reserved(B, 1)]);
}

#[test]
fn low_stock_is_raised_again_after_stock_recovers() {
    let history = vec![
        registered(5),
        restocked(10),
        reserved(A, 6),
        Event::LowStock {
            available: 4,
            threshold: 5,
        },
        restocked(10),
    ];
    let stock = given::<Stock>(history.clone()).when(Command::Restock { quantity: qty(1) });
    assert!(!stock.then([restocked(1)]).is_low());
    given::<Stock>(history)
        .when(Command::Reserve {
            order: B,
            quantity: qty(10),
        })
        .then([
            reserved(B, 10),
            Event::LowStock {
                available: 4,
                threshold: 5,
            },
        ]);
}

/// A small deterministic generator, so the property runs the same sequences every time.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn counts_never_go_negative_whatever_order_the_commands_come_in() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..300 {
        let mut stock = Stock::default();
        for event in ten_on_hand() {
            stock.apply(&event);
        }
        for _ in 0..200 {
            let order = OrderId::from_u128(u128::from(rng.below(8)));
            let command = match rng.below(5) {
                0 => Command::Reserve {
                    order,
                    quantity: qty(1 + u32::try_from(rng.below(6)).unwrap()),
                },
                1 => Command::Release { order },
                2 => Command::Commit { order },
                3 => Command::Return {
                    order,
                    quantity: qty(1),
                },
                _ => Command::Restock {
                    quantity: qty(1 + u32::try_from(rng.below(3)).unwrap()),
                },
            };
            if let Ok(events) = stock.decide(command) {
                for event in &events {
                    stock.apply(event);
                }
            }
            let held: u32 = stock.reservations.values().map(|q| q.get()).sum();
            assert_eq!(
                stock.reserved(),
                held,
                "reserved is the sum of reservations"
            );
            assert!(
                stock.reserved() <= stock.on_hand(),
                "reserved exceeds on hand"
            );
        }
    }
}
