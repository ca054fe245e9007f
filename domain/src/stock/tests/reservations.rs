//! Stock through an order's life: restocked, reserved, released, committed as a sale and
//! returned, with repeats recognised and nothing left behind once orders settle.

use super::*;

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
