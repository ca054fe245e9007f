//! The low-stock alert: raised once when available stock first drops below the threshold,
//! and again after the stock recovers.

use super::*;

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
