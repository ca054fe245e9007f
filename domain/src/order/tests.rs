use super::*;
use crate::testing::given;
use crate::{Quantity, Timestamp};

fn brl() -> Currency {
    Currency::parse("BRL").unwrap()
}

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

fn line(s: &str, quantity: u32, price_minor: i64) -> Line {
    Line {
        sku: sku(s),
        quantity: Quantity::new(quantity).unwrap(),
        unit_price: Money::new(price_minor, brl()),
    }
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

const ORDER: OrderId = OrderId::from_u128(7);

fn place(lines: Vec<Line>) -> Command {
    Command::Place {
        order: ORDER,
        customer: CustomerId::parse("alice").unwrap(),
        currency: brl(),
        lines,
        payment: crate::testing::card(),
        at: at(1),
    }
}

fn placed(lines: Vec<Line>) -> Event {
    let total = lines
        .iter()
        .map(|l| l.total().unwrap().minor())
        .sum::<i64>();
    Event::Placed {
        order: ORDER,
        customer: CustomerId::parse("alice").unwrap(),
        currency: brl(),
        lines,
        total: Money::new(total, brl()),
        payment: crate::testing::card(),
        at: at(1),
    }
}

fn two_lines() -> Vec<Line> {
    vec![line("A", 2, 1250), line("B", 1, 99)]
}

fn reserved(s: &str) -> Event {
    Event::LineReserved { sku: sku(s) }
}

fn confirmed_history() -> Vec<Event> {
    vec![
        placed(two_lines()),
        reserved("A"),
        reserved("B"),
        Event::Paid,
        Event::Confirmed { at: at(2) },
    ]
}

#[test]
fn placing_an_order_totals_its_lines_exactly() {
    let order = given::<Order>([])
        .when(place(two_lines()))
        .then([Event::Placed {
            order: ORDER,
            customer: CustomerId::parse("alice").unwrap(),
            currency: brl(),
            lines: two_lines(),
            total: Money::new(2 * 1250 + 99, brl()),
            payment: crate::testing::card(),
            at: at(1),
        }]);
    assert_eq!(order.status(), Some(Status::Pending));
}

#[test]
fn placing_needs_a_customer() {
    assert!(CustomerId::parse("").is_err());
}

#[test]
fn placing_needs_at_least_one_line() {
    given::<Order>([])
        .when(place(vec![]))
        .then_err(Error::NoLines);
}

#[test]
fn a_line_quantity_must_be_positive() {
    assert!(Quantity::new(0).is_err());
}

#[test]
fn a_unit_price_must_be_positive() {
    given::<Order>([])
        .when(place(vec![line("A", 1, 0)]))
        .then_err(Error::NonPositivePrice { sku: sku("A") });
    given::<Order>([])
        .when(place(vec![line("A", 1, -5)]))
        .then_err(Error::NonPositivePrice { sku: sku("A") });
}

#[test]
fn every_line_is_priced_in_the_order_currency() {
    let usd = Currency::parse("USD").unwrap();
    let mut lines = two_lines();
    lines[1].unit_price = Money::new(99, usd);
    given::<Order>([])
        .when(place(lines))
        .then_err(Error::CurrencyMismatch {
            expected: brl(),
            found: usd,
        });
}

#[test]
fn an_order_has_at_most_one_hundred_lines() {
    let lines = |n: usize| (0..n).map(|i| line(&format!("S{i}"), 1, 1)).collect();
    given::<Order>([])
        .when(place(lines(100)))
        .then([placed(lines(100))]);
    given::<Order>([])
        .when(place(lines(101)))
        .then_err(Error::TooManyLines {
            count: 101,
            max: 100,
        });
}

#[test]
fn totals_that_do_not_fit_are_rejected() {
    given::<Order>([])
        .when(place(vec![line("A", 2, i64::MAX / 2 + 1)]))
        .then_err(Error::AmountOverflow);
    given::<Order>([])
        .when(place(vec![line("A", 1, i64::MAX), line("B", 1, 1)]))
        .then_err(Error::AmountOverflow);
}

#[test]
fn a_sku_appears_on_one_line_only() {
    given::<Order>([])
        .when(place(vec![line("A", 1, 1), line("A", 2, 1)]))
        .then_err(Error::DuplicateSku { sku: sku("A") });
}

#[test]
fn an_order_is_placed_once() {
    given::<Order>([placed(two_lines())])
        .when(place(two_lines()))
        .then_err(Error::AlreadyPlaced);
}

#[test]
fn reservations_are_recorded_line_by_line_once() {
    given::<Order>([placed(two_lines())])
        .when(Command::RecordLineReserved { sku: sku("A") })
        .then([reserved("A")]);
    given::<Order>([placed(two_lines()), reserved("A")])
        .when(Command::RecordLineReserved { sku: sku("A") })
        .then([]);
    given::<Order>([placed(two_lines())])
        .when(Command::RecordLineReserved { sku: sku("Z") })
        .then_err(Error::UnknownLine { sku: sku("Z") });
}

#[test]
fn an_order_is_confirmed_only_when_every_line_is_reserved_and_paid() {
    given::<Order>([placed(two_lines()), reserved("A"), Event::Paid])
        .when(Command::Confirm { at: at(2) })
        .then_err(Error::NotFullyReserved { missing: 1 });
    given::<Order>([placed(two_lines()), reserved("A"), reserved("B")])
        .when(Command::Confirm { at: at(2) })
        .then_err(Error::NotPaid);
    let order = given::<Order>([
        placed(two_lines()),
        reserved("A"),
        reserved("B"),
        Event::Paid,
    ])
    .when(Command::Confirm { at: at(2) })
    .then([Event::Confirmed { at: at(2) }]);
    assert_eq!(order.status(), Some(Status::Confirmed));
}

#[test]
fn the_saga_cancels_a_pending_order_with_its_reason() {
    for reason in [
        CancellationReason::OutOfStock,
        CancellationReason::PaymentDeclined,
        CancellationReason::PaymentTimeout,
    ] {
        let order = given::<Order>([placed(two_lines())])
            .when(Command::Cancel { reason, at: at(3) })
            .then([Event::Cancelled { reason, at: at(3) }]);
        assert_eq!(order.status(), Some(Status::Cancelled(reason)));
    }
}

#[test]
fn a_customer_may_cancel_until_the_order_ships() {
    let reason = CancellationReason::CustomerRequest;
    given::<Order>([placed(two_lines())])
        .when(Command::Cancel { reason, at: at(3) })
        .then([Event::Cancelled { reason, at: at(3) }]);
    given::<Order>(confirmed_history())
        .when(Command::Cancel { reason, at: at(3) })
        .then([Event::Cancelled { reason, at: at(3) }]);
    let mut shipped = confirmed_history();
    shipped.push(Event::Shipped { at: at(4) });
    given::<Order>(shipped)
        .when(Command::Cancel { reason, at: at(5) })
        .then_err(Error::AlreadyShipped);
}

#[test]
fn a_confirmed_order_is_not_cancelled_for_stock_or_payment() {
    given::<Order>(confirmed_history())
        .when(Command::Cancel {
            reason: CancellationReason::PaymentTimeout,
            at: at(3),
        })
        .then_err(Error::AlreadyConfirmed);
}

#[test]
fn cancelling_twice_is_an_error() {
    given::<Order>([
        placed(two_lines()),
        Event::Cancelled {
            reason: CancellationReason::OutOfStock,
            at: at(2),
        },
    ])
    .when(Command::Cancel {
        reason: CancellationReason::CustomerRequest,
        at: at(3),
    })
    .then_err(Error::AlreadyCancelled);
}

#[test]
fn only_a_confirmed_order_ships() {
    let order = given::<Order>(confirmed_history())
        .when(Command::Ship { at: at(4) })
        .then([Event::Shipped { at: at(4) }]);
    assert_eq!(order.status(), Some(Status::Shipped));
    given::<Order>([placed(two_lines())])
        .when(Command::Ship { at: at(4) })
        .then_err(Error::NotConfirmed);
}

#[test]
fn shipping_a_cancelled_order_is_an_error() {
    given::<Order>([
        placed(two_lines()),
        Event::Cancelled {
            reason: CancellationReason::CustomerRequest,
            at: at(2),
        },
    ])
    .when(Command::Ship { at: at(4) })
    .then_err(Error::AlreadyCancelled);
}

#[test]
fn events_out_of_their_legal_order_are_errors_naming_the_situation() {
    given::<Order>([])
        .when(Command::RecordLineReserved { sku: sku("A") })
        .then_err(Error::NotPlaced);
    given::<Order>([])
        .when(Command::Confirm { at: at(1) })
        .then_err(Error::NotPlaced);
    given::<Order>(confirmed_history())
        .when(Command::RecordPaymentSucceeded)
        .then_err(Error::AlreadyConfirmed);
    given::<Order>([
        placed(two_lines()),
        Event::Cancelled {
            reason: CancellationReason::OutOfStock,
            at: at(2),
        },
    ])
    .when(Command::RecordLineReserved { sku: sku("A") })
    .then_err(Error::AlreadyCancelled);
    given::<Order>(confirmed_history())
        .when(Command::Confirm { at: at(5) })
        .then_err(Error::AlreadyConfirmed);
}

#[test]
fn errors_read_as_sentences() {
    assert_eq!(
        Error::TooManyLines {
            count: 101,
            max: 100
        }
        .to_string(),
        "an order may have at most 100 lines, this one has 101"
    );
}
