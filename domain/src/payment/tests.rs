use super::*;
use crate::Currency;
use crate::testing::given;

const ORDER: OrderId = OrderId::from_u128(9);

fn amount() -> Money {
    Money::new(2599, Currency::parse("BRL").unwrap())
}

fn requested() -> Event {
    Event::Requested {
        order: ORDER,
        amount: amount(),
        method: crate::testing::card(),
    }
}

fn authorized(attempt: u32) -> Event {
    Event::Authorized {
        amount: amount(),
        attempt,
    }
}

fn failed(attempt: u32) -> Event {
    Event::FailedTransiently {
        error: "gateway timeout".into(),
        attempt,
    }
}

#[test]
fn a_payment_is_requested_once() {
    let request = || Command::Request {
        order: ORDER,
        amount: amount(),
        method: crate::testing::card(),
    };
    given::<Payment>([]).when(request()).then([requested()]);
    given::<Payment>([requested()])
        .when(request())
        .then_err(Error::AlreadyRequested);
}

#[test]
fn a_request_needs_a_positive_amount() {
    given::<Payment>([])
        .when(Command::Request {
            order: ORDER,
            amount: Money::new(0, amount().currency()),
            method: crate::testing::card(),
        })
        .then_err(Error::NonPositiveAmount);
}

#[test]
fn an_authorization_settles_the_payment() {
    let payment = given::<Payment>([requested()])
        .when(Command::RecordAuthorized)
        .then([authorized(1)]);
    assert_eq!(
        (payment.status(), payment.attempts()),
        (Status::Succeeded, 1)
    );
}

#[test]
fn a_decline_settles_the_payment() {
    let payment = given::<Payment>([requested()])
        .when(Command::RecordDeclined {
            reason: "card declined".into(),
        })
        .then([Event::Declined {
            reason: "card declined".into(),
            attempt: 1,
        }]);
    assert_eq!(payment.status(), Status::Declined);
}

#[test]
fn a_transient_failure_may_be_followed_by_another_attempt_and_attempts_are_counted() {
    let payment = given::<Payment>([requested(), failed(1), failed(2)])
        .when(Command::RecordAuthorized)
        .then([authorized(3)]);
    assert_eq!(payment.attempts(), 3);
}

#[test]
fn a_settled_payment_takes_no_other_outcome() {
    given::<Payment>([requested(), authorized(1)])
        .when(Command::RecordDeclined {
            reason: "late".into(),
        })
        .then_err(Error::AlreadySettled {
            status: Status::Succeeded,
        });
    given::<Payment>([requested(), authorized(1)])
        .when(Command::RecordFailure {
            error: "late".into(),
        })
        .then_err(Error::AlreadySettled {
            status: Status::Succeeded,
        });
    given::<Payment>([])
        .when(Command::RecordAuthorized)
        .then_err(Error::NotRequested);
}

#[test]
fn an_unanswered_payment_expires_and_then_takes_no_decline_or_failure() {
    given::<Payment>([requested(), failed(1)])
        .when(Command::Expire)
        .then([Event::Expired]);
    given::<Payment>([requested(), Event::Expired])
        .when(Command::RecordDeclined {
            reason: "late".into(),
        })
        .then_err(Error::AlreadySettled {
            status: Status::Expired,
        });
    given::<Payment>([requested(), Event::Expired])
        .when(Command::Expire)
        .then_err(Error::AlreadySettled {
            status: Status::Expired,
        });
}

#[test]
fn a_deadline_passes_only_while_the_payment_waits_for_an_answer() {
    given::<Payment>([requested(), failed(1)])
        .when(Command::PassDeadline)
        .then([Event::DeadlinePassed]);
    given::<Payment>([requested(), authorized(1)])
        .when(Command::PassDeadline)
        .then_err(Error::AlreadySettled {
            status: Status::Succeeded,
        });
    given::<Payment>([])
        .when(Command::PassDeadline)
        .then([Event::DeadlinePassed]);
    // The provider's late word is still taken, and the payment can then be given up.
    let payment = given::<Payment>([requested(), Event::DeadlinePassed])
        .when(Command::RecordAuthorized)
        .then([authorized(1)]);
    assert_eq!(payment.status(), Status::Succeeded);
    given::<Payment>([requested(), Event::DeadlinePassed])
        .when(Command::Expire)
        .then([Event::Expired]);
}

#[test]
fn money_captured_after_the_payment_expired_is_recorded_so_it_can_be_refunded() {
    let payment = given::<Payment>([requested(), failed(1), Event::Expired])
        .when(Command::RecordAuthorized)
        .then([authorized(2)]);
    assert_eq!(payment.status(), Status::Succeeded);
    given::<Payment>([requested(), Event::Expired, authorized(1)])
        .when(Command::Refund)
        .then([Event::Refunded { amount: amount() }]);
}

#[test]
fn a_refund_pays_back_the_captured_amount_once() {
    let payment = given::<Payment>([requested(), authorized(1)])
        .when(Command::Refund)
        .then([Event::Refunded { amount: amount() }]);
    assert_eq!(payment.status(), Status::Refunded);
    given::<Payment>([
        requested(),
        authorized(1),
        Event::Refunded { amount: amount() },
    ])
    .when(Command::Refund)
    .then_err(Error::AlreadyRefunded);
}

#[test]
fn only_a_succeeded_payment_is_refunded() {
    given::<Payment>([requested()])
        .when(Command::Refund)
        .then_err(Error::NotCaptured);
    given::<Payment>([
        requested(),
        Event::Declined {
            reason: "no".into(),
            attempt: 1,
        },
    ])
    .when(Command::Refund)
    .then_err(Error::NotCaptured);
}
