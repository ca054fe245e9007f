//! The payment adapter and the snapshot shape of a payment.

use domain::payment::{self, Parts, Payment, RequestedParts, Status};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{adapter, read_snapshot};
use crate::Error;
use crate::schema::wire;

/// The version of [`PaymentSnapshotV2`].
pub const SNAPSHOT_SCHEMA: i32 = 2;

/// A payment state as stored in a snapshot, version 2. Version 1 kept the customer's
/// payment token; the store ignores it and folds the events instead.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaymentSnapshotV2 {
    requested: Option<RequestedV2>,
    status: StatusV1,
    attempts: u32,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestedV2 {
    order_id: Uuid,
    amount_minor: i64,
    currency: String,
    payment_method: wire::Method,
}

/// Every status by its own name: the public status names fold a transient failure and an
/// expiry into `FAILED`, which a snapshot must tell apart.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum StatusV1 {
    NotRequested,
    Requested,
    FailedTransiently,
    Succeeded,
    Declined,
    Expired,
    Refunded,
}

impl From<Status> for StatusV1 {
    fn from(status: Status) -> Self {
        match status {
            Status::NotRequested => Self::NotRequested,
            Status::Requested => Self::Requested,
            Status::FailedTransiently => Self::FailedTransiently,
            Status::Succeeded => Self::Succeeded,
            Status::Declined => Self::Declined,
            Status::Expired => Self::Expired,
            Status::Refunded => Self::Refunded,
        }
    }
}

impl From<StatusV1> for Status {
    fn from(status: StatusV1) -> Self {
        match status {
            StatusV1::NotRequested => Self::NotRequested,
            StatusV1::Requested => Self::Requested,
            StatusV1::FailedTransiently => Self::FailedTransiently,
            StatusV1::Succeeded => Self::Succeeded,
            StatusV1::Declined => Self::Declined,
            StatusV1::Expired => Self::Expired,
            StatusV1::Refunded => Self::Refunded,
        }
    }
}

fn snapshot(state: &Payment) -> Value {
    let parts = state.to_parts();
    wire::to_json(&PaymentSnapshotV2 {
        requested: parts.requested.map(|r| RequestedV2 {
            order_id: wire::order_uuid(r.order),
            amount_minor: r.amount.minor(),
            currency: r.amount.currency().to_string(),
            payment_method: (&r.method).into(),
        }),
        status: parts.status.into(),
        attempts: parts.attempts,
    })
}

fn restore(snapshot: Value) -> Result<Payment, Error> {
    let s: PaymentSnapshotV2 = read_snapshot("payment", snapshot)?;
    let requested = match s.requested {
        Some(r) => Some(RequestedParts {
            order: wire::order_id(r.order_id),
            amount: wire::money(r.amount_minor, &r.currency)?,
            method: r.payment_method.read()?,
        }),
        None => None,
    };
    Ok(Payment::from_parts(Parts {
        requested,
        status: s.status.into(),
        attempts: s.attempts,
    }))
}

adapter! {
    /// An order's payment as a cqrs-es aggregate (stream type `payment`).
    aggregate PaymentAggregate(Payment);
    /// A payment event as a cqrs-es domain event.
    event PaymentEvent(payment::Event);
    command payment::Command;
    error payment::Error;
    snapshot SNAPSHOT_SCHEMA, snapshot, restore;
    starts payment::Command::Request;
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use domain::{Aggregate as _, Currency, Money, OrderId};
    use serde_json::json;

    use super::*;
    use crate::aggregates::EventSourced;

    fn amount() -> Money {
        Money::new(3300, Currency::parse("BRL").unwrap())
    }

    fn requested() -> payment::Event {
        payment::Event::Requested {
            order: OrderId::from_u128(7),
            amount: amount(),
            method: domain::PaymentMethod::new("pm_flaky", "fp_flaky").unwrap(),
        }
    }

    fn given(
        events: Vec<payment::Event>,
    ) -> cqrs_es::test::AggregateTestExecutor<PaymentAggregate> {
        TestFramework::<PaymentAggregate>::with(())
            .given(events.into_iter().map(PaymentEvent).collect())
    }

    #[tokio::test]
    async fn an_authorization_after_a_transient_failure_counts_the_attempt() {
        given(vec![
            requested(),
            payment::Event::FailedTransiently {
                error: "timeout".into(),
                attempt: 1,
            },
        ])
        .when_async(payment::Command::RecordAuthorized)
        .await
        .then_expect_events(vec![PaymentEvent(payment::Event::Authorized {
            amount: amount(),
            attempt: 2,
        })]);
    }

    #[tokio::test]
    async fn a_payment_is_refunded_only_once() {
        given(vec![
            requested(),
            payment::Event::Authorized {
                amount: amount(),
                attempt: 1,
            },
            payment::Event::Refunded { amount: amount() },
        ])
        .when_async(payment::Command::Refund)
        .await
        .then_expect_error(payment::Error::AlreadyRefunded);
    }

    #[test]
    fn a_snapshot_restores_the_same_state_and_tells_failures_apart() {
        let failed = PaymentAggregate(Payment::from_events(&[
            requested(),
            payment::Event::FailedTransiently {
                error: "timeout".into(),
                attempt: 1,
            },
        ]));
        let expired = PaymentAggregate(Payment::from_events(&[
            requested(),
            payment::Event::Expired,
        ]));
        assert_eq!(failed.snapshot()["status"], "FAILED_TRANSIENTLY");
        assert_eq!(expired.snapshot()["status"], "EXPIRED");
        for state in [failed, expired, PaymentAggregate::default()] {
            assert_eq!(PaymentAggregate::restore(state.snapshot()), Ok(state));
        }
    }

    #[test]
    fn a_snapshot_that_does_not_decode_is_a_schema_error() {
        let state = PaymentAggregate(Payment::from_events(&[requested()]));
        let mut bad_currency = state.snapshot();
        bad_currency["requested"]["currency"] = json!("brl");
        let mut bad_status = state.snapshot();
        bad_status["status"] = json!("FAILED");
        for snapshot in [bad_currency, bad_status] {
            let result = PaymentAggregate::restore(snapshot.clone());
            assert!(
                matches!(result, Err(Error::Schema(_))),
                "{snapshot}: {result:?}"
            );
        }
    }
}
