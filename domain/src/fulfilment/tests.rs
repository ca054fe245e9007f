use super::*;
use crate::Currency;

const ORDER: OrderId = OrderId::from_u128(42);

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

fn total() -> Money {
    Money::new(5000, Currency::parse("BRL").unwrap())
}

fn placed() -> Step {
    Step::Placed {
        order: ORDER,
        customer: CustomerId::parse("alice").unwrap(),
        lines: vec![
            (sku("A"), Quantity::new(2).unwrap()),
            (sku("B"), Quantity::new(1).unwrap()),
        ],
        total: total(),
        payment: crate::testing::card(),
    }
}

fn reserved(s: &str) -> Step {
    Step::StockReserved { sku: sku(s) }
}

fn charge() -> Action {
    Action::ChargePayment {
        order: ORDER,
        amount: total(),
        method: crate::testing::card(),
    }
}

fn commit(s: &str) -> Action {
    Action::CommitStock {
        sku: sku(s),
        order: ORDER,
    }
}

fn committed(s: &str) -> Step {
    Step::StockCommitted { sku: sku(s) }
}

fn give_back(s: &str, n: u32) -> Action {
    Action::ReturnStock {
        sku: sku(s),
        order: ORDER,
        quantity: Quantity::new(n).unwrap(),
    }
}

fn cancelled_by_customer() -> Step {
    Step::OrderCancelled {
        reason: CancellationReason::CustomerRequest,
    }
}

fn release(s: &str) -> Action {
    Action::ReleaseStock {
        sku: sku(s),
        order: ORDER,
    }
}

/// Feeds the steps that already happened, dropping their actions.
fn given(steps: impl IntoIterator<Item = Step>) -> Fulfilment {
    let mut saga = Fulfilment::default();
    for step in steps {
        saga.on(step);
    }
    saga
}

fn paying() -> Vec<Step> {
    vec![
        placed(),
        reserved("A"),
        reserved("B"),
        Step::PaymentRequested,
    ]
}

#[test]
fn placing_reserves_each_line() {
    assert_eq!(
        given([]).on(placed()),
        vec![
            Action::ReserveStock {
                sku: sku("A"),
                order: ORDER,
                quantity: Quantity::new(2).unwrap()
            },
            Action::ReserveStock {
                sku: sku("B"),
                order: ORDER,
                quantity: Quantity::new(1).unwrap()
            },
        ]
    );
}

#[test]
fn each_reservation_is_recorded_on_the_order() {
    assert_eq!(
        given([placed()]).on(reserved("A")),
        vec![Action::RecordLineReserved {
            order: ORDER,
            sku: sku("A")
        }]
    );
}

#[test]
fn when_every_line_is_reserved_the_payment_is_requested_under_a_deadline() {
    let mut saga = given([placed(), reserved("A")]);
    assert_eq!(
        saga.on(reserved("B")),
        vec![
            Action::RecordLineReserved {
                order: ORDER,
                sku: sku("B")
            },
            Action::ScheduleDeadline { order: ORDER },
            Action::RequestPayment {
                order: ORDER,
                amount: total(),
                method: crate::testing::card()
            },
        ]
    );
    assert_eq!(saga.phase(), Phase::Paying);
}

#[test]
fn a_recorded_payment_request_is_charged() {
    let mut saga = given([placed(), reserved("A"), reserved("B")]);
    assert_eq!(saga.on(Step::PaymentRequested), vec![charge()]);
}

#[test]
fn a_succeeded_payment_commits_every_line_and_confirms_once_every_sale_is_in_the_log() {
    let mut saga = given(paying());
    assert_eq!(
        saga.on(Step::PaymentAuthorized),
        vec![
            Action::RecordPaymentSucceeded { order: ORDER },
            commit("A"),
            commit("B"),
        ]
    );
    assert_eq!(saga.on(committed("A")), vec![]);
    assert_eq!(
        saga.on(committed("B")),
        vec![Action::ConfirmOrder { order: ORDER }]
    );
    assert_eq!(saga.on(committed("B")), vec![]);
    saga.on(Step::OrderConfirmed);
    assert_eq!(saga.phase(), Phase::Confirmed);
    assert!(saga.phase().is_final());
}

#[test]
fn a_cancel_before_the_sale_is_in_the_log_releases_the_line() {
    let mut steps = paying();
    steps.extend([Step::PaymentAuthorized, committed("A")]);
    let mut saga = given(steps);
    assert_eq!(
        saga.on(cancelled_by_customer()),
        vec![
            give_back("A", 2),
            release("B"),
            Action::RefundPayment { order: ORDER }
        ]
    );
    // The sale of B landed after all (the release found nothing left): it goes back.
    assert_eq!(saga.on(committed("B")), vec![give_back("B", 1)]);
    assert_eq!(saga.on(committed("B")), vec![]);
}

#[test]
fn a_rejected_line_releases_the_reserved_lines_and_cancels_out_of_stock() {
    let mut saga = given([placed(), reserved("A")]);
    assert_eq!(
        saga.on(Step::StockRejected { sku: sku("B") }),
        vec![
            release("A"),
            Action::CancelOrder {
                order: ORDER,
                reason: CancellationReason::OutOfStock
            },
        ]
    );
}

#[test]
fn a_reservation_arriving_after_the_cancel_is_released() {
    let mut saga = given([placed(), Step::StockRejected { sku: sku("B") }]);
    assert_eq!(saga.on(reserved("A")), vec![release("A")]);
}

#[test]
fn a_declined_payment_releases_all_cancels_and_opens_a_ticket() {
    let mut saga = given(paying());
    assert_eq!(
        saga.on(Step::PaymentDeclined),
        vec![
            release("A"),
            release("B"),
            Action::CancelOrder {
                order: ORDER,
                reason: CancellationReason::PaymentDeclined
            },
            Action::OpenTicket {
                customer: CustomerId::parse("alice").unwrap(),
                order: ORDER,
                reason: CancellationReason::PaymentDeclined
            },
        ]
    );
}

#[test]
fn a_passed_deadline_gives_up_the_payment_and_compensates_as_for_a_decline() {
    let mut saga = given(paying());
    assert_eq!(
        saga.on(Step::PaymentDeadlinePassed),
        vec![
            release("A"),
            release("B"),
            Action::CancelOrder {
                order: ORDER,
                reason: CancellationReason::PaymentTimeout
            },
            Action::OpenTicket {
                customer: CustomerId::parse("alice").unwrap(),
                order: ORDER,
                reason: CancellationReason::PaymentTimeout
            },
            Action::ExpirePayment { order: ORDER },
        ]
    );
}

#[test]
fn a_deadline_after_the_payment_settled_changes_nothing() {
    let mut steps = paying();
    steps.push(Step::PaymentAuthorized);
    assert_eq!(given(steps).on(Step::PaymentDeadlinePassed), vec![]);
}

#[test]
fn a_transient_failure_is_charged_again_once_per_attempt() {
    let mut saga = given(paying());
    assert_eq!(saga.on(Step::PaymentFailed { attempt: 1 }), vec![charge()]);
    assert_eq!(saga.on(Step::PaymentFailed { attempt: 1 }), vec![]);
    assert_eq!(saga.on(Step::PaymentFailed { attempt: 2 }), vec![charge()]);
}

#[test]
fn a_customer_cancel_of_a_confirmed_order_refunds_and_returns_the_stock() {
    let mut steps = paying();
    steps.extend([
        Step::PaymentAuthorized,
        committed("A"),
        committed("B"),
        Step::OrderConfirmed,
    ]);
    let mut saga = given(steps);
    assert_eq!(
        saga.on(cancelled_by_customer()),
        vec![
            give_back("A", 2),
            give_back("B", 1),
            Action::RefundPayment { order: ORDER },
        ]
    );
    assert_eq!(
        saga.phase(),
        Phase::Cancelled(CancellationReason::CustomerRequest)
    );
}

#[test]
fn a_customer_cancel_while_paying_releases_the_stock_and_gives_up_the_payment() {
    let mut saga = given(paying());
    assert_eq!(
        saga.on(cancelled_by_customer()),
        vec![
            release("A"),
            release("B"),
            Action::ExpirePayment { order: ORDER },
        ]
    );
}

#[test]
fn money_captured_after_the_deadline_is_refunded() {
    let mut steps = paying();
    steps.push(Step::PaymentDeadlinePassed);
    let mut saga = given(steps);
    assert_eq!(
        saga.on(Step::PaymentAuthorized),
        vec![Action::RefundPayment { order: ORDER }]
    );
    assert_eq!(saga.on(Step::PaymentAuthorized), vec![]);
}

#[test]
fn money_captured_after_the_order_was_given_up_is_refunded() {
    let mut steps = paying();
    steps.push(Step::OrderCancelled {
        reason: CancellationReason::CustomerRequest,
    });
    assert_eq!(
        given(steps).on(Step::PaymentAuthorized),
        vec![Action::RefundPayment { order: ORDER }]
    );
}

#[test]
fn a_payment_request_landing_after_the_cancel_is_given_up_once() {
    // The request was held up (its action failed and waited for a redrive) while the
    // customer cancelled; the expiry then found no payment to give up.
    let mut steps = vec![placed(), reserved("A"), reserved("B")];
    steps.push(cancelled_by_customer());
    let mut saga = given(steps);
    assert_eq!(
        saga.on(Step::PaymentRequested),
        vec![Action::ExpirePayment { order: ORDER }]
    );
    assert_eq!(saga.on(Step::PaymentRequested), vec![]);
    // A request taken in before the cancel is given up by the cancel alone.
    let mut steps = paying();
    steps.push(cancelled_by_customer());
    assert_eq!(given(steps).on(Step::PaymentRequested), vec![]);
}

#[test]
fn duplicate_or_late_steps_produce_no_duplicate_actions() {
    let history = {
        let mut steps = paying();
        steps.extend([
            Step::PaymentAuthorized,
            committed("A"),
            committed("B"),
            Step::OrderConfirmed,
        ]);
        steps
    };
    let replayed: Vec<Step> = history.clone();
    let mut saga = given(history);
    for step in replayed {
        assert_eq!(saga.on(step.clone()), vec![], "{step:?} acted twice");
    }
    // The saga's own cancel coming back changes nothing either.
    let mut cancelled = given([placed(), Step::StockRejected { sku: sku("A") }]);
    assert_eq!(
        cancelled.on(Step::OrderCancelled {
            reason: CancellationReason::OutOfStock
        }),
        vec![]
    );
    assert_eq!(cancelled.on(Step::PaymentDeclined), vec![]);
}

#[test]
fn steps_for_an_order_never_placed_do_nothing() {
    assert_eq!(given([]).on(reserved("A")), vec![]);
    assert_eq!(given([]).on(Step::PaymentAuthorized), vec![]);
}
