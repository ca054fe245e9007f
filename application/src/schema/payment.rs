//! The stored events of an order's payment (stream type `payment`, stream id the order's
//! UUID).

use domain::payment::Event;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{EncodedEvent, EventSchema, Payload, kind, unknown_type, wire};
use crate::Error;

/// `PaymentRequested` v2. v1 kept the customer's payment token (`token`) where v2 keeps
/// the method the provider registered for it; the
/// [`TokenRedacted`](super::redaction::TokenRedacted) upcaster reads v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaymentRequestedV2 {
    order_id: Uuid,
    amount_minor: i64,
    currency: String,
    payment_method: wire::Method,
}

impl Payload for PaymentRequestedV2 {
    const TYPE: &'static str = "PaymentRequested";
    const VERSION: i32 = 2;
}

/// `PaymentAuthorized` v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaymentAuthorizedV1 {
    amount_minor: i64,
    currency: String,
    attempt: u32,
}

impl Payload for PaymentAuthorizedV1 {
    const TYPE: &'static str = "PaymentAuthorized";
    const VERSION: i32 = 1;
}

/// `PaymentDeclined` v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaymentDeclinedV1 {
    reason: String,
    attempt: u32,
}

impl Payload for PaymentDeclinedV1 {
    const TYPE: &'static str = "PaymentDeclined";
    const VERSION: i32 = 1;
}

/// `PaymentFailedTransiently` v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaymentFailedTransientlyV1 {
    error: String,
    attempt: u32,
}

impl Payload for PaymentFailedTransientlyV1 {
    const TYPE: &'static str = "PaymentFailedTransiently";
    const VERSION: i32 = 1;
}

/// `PaymentDeadlinePassed` v1: no fields.
#[derive(Debug, Serialize, Deserialize)]
struct PaymentDeadlinePassedV1 {}

impl Payload for PaymentDeadlinePassedV1 {
    const TYPE: &'static str = "PaymentDeadlinePassed";
    const VERSION: i32 = 1;
}

/// `PaymentExpired` v1: no fields.
#[derive(Debug, Serialize, Deserialize)]
struct PaymentExpiredV1 {}

impl Payload for PaymentExpiredV1 {
    const TYPE: &'static str = "PaymentExpired";
    const VERSION: i32 = 1;
}

/// `PaymentRefunded` v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PaymentRefundedV1 {
    amount_minor: i64,
    currency: String,
}

impl Payload for PaymentRefundedV1 {
    const TYPE: &'static str = "PaymentRefunded";
    const VERSION: i32 = 1;
}

fn kind_of(event: &Event) -> (&'static str, i32) {
    match event {
        Event::Requested { .. } => kind::<PaymentRequestedV2>(),
        Event::Authorized { .. } => kind::<PaymentAuthorizedV1>(),
        Event::Declined { .. } => kind::<PaymentDeclinedV1>(),
        Event::FailedTransiently { .. } => kind::<PaymentFailedTransientlyV1>(),
        Event::DeadlinePassed => kind::<PaymentDeadlinePassedV1>(),
        Event::Expired => kind::<PaymentExpiredV1>(),
        Event::Refunded { .. } => kind::<PaymentRefundedV1>(),
    }
}

impl EventSchema for Event {
    const STREAM_TYPE: &'static str = "payment";

    fn event_type(&self) -> &'static str {
        kind_of(self).0
    }

    fn event_version(&self) -> i32 {
        kind_of(self).1
    }

    fn encode(&self) -> EncodedEvent {
        match self {
            Self::Requested {
                order,
                amount,
                method,
            } => PaymentRequestedV2 {
                order_id: wire::order_uuid(*order),
                amount_minor: amount.minor(),
                currency: amount.currency().to_string(),
                payment_method: method.into(),
            }
            .encoded(),
            Self::Authorized { amount, attempt } => PaymentAuthorizedV1 {
                amount_minor: amount.minor(),
                currency: amount.currency().to_string(),
                attempt: *attempt,
            }
            .encoded(),
            Self::Declined { reason, attempt } => PaymentDeclinedV1 {
                reason: reason.clone(),
                attempt: *attempt,
            }
            .encoded(),
            Self::FailedTransiently { error, attempt } => PaymentFailedTransientlyV1 {
                error: error.clone(),
                attempt: *attempt,
            }
            .encoded(),
            Self::DeadlinePassed => PaymentDeadlinePassedV1 {}.encoded(),
            Self::Expired => PaymentExpiredV1 {}.encoded(),
            Self::Refunded { amount } => PaymentRefundedV1 {
                amount_minor: amount.minor(),
                currency: amount.currency().to_string(),
            }
            .encoded(),
        }
    }

    fn decode(event: EncodedEvent) -> Result<Self, Error> {
        Ok(match event.event_type.as_str() {
            PaymentRequestedV2::TYPE => {
                let p = PaymentRequestedV2::read(event)?;
                Self::Requested {
                    order: wire::order_id(p.order_id),
                    amount: wire::money(p.amount_minor, &p.currency)?,
                    method: p.payment_method.read()?,
                }
            }
            PaymentAuthorizedV1::TYPE => {
                let p = PaymentAuthorizedV1::read(event)?;
                Self::Authorized {
                    amount: wire::money(p.amount_minor, &p.currency)?,
                    attempt: p.attempt,
                }
            }
            PaymentDeclinedV1::TYPE => {
                let p = PaymentDeclinedV1::read(event)?;
                Self::Declined {
                    reason: p.reason,
                    attempt: p.attempt,
                }
            }
            PaymentFailedTransientlyV1::TYPE => {
                let p = PaymentFailedTransientlyV1::read(event)?;
                Self::FailedTransiently {
                    error: p.error,
                    attempt: p.attempt,
                }
            }
            PaymentDeadlinePassedV1::TYPE => {
                PaymentDeadlinePassedV1::read(event)?;
                Self::DeadlinePassed
            }
            PaymentExpiredV1::TYPE => {
                PaymentExpiredV1::read(event)?;
                Self::Expired
            }
            PaymentRefundedV1::TYPE => {
                let p = PaymentRefundedV1::read(event)?;
                Self::Refunded {
                    amount: wire::money(p.amount_minor, &p.currency)?,
                }
            }
            _ => return Err(unknown_type::<Self>(&event)),
        })
    }
}

#[cfg(test)]
mod tests {
    use domain::{Currency, Money, OrderId};
    use serde_json::json;

    use super::*;
    use crate::schema::testing::{round_trip, stored};

    fn brl(minor: i64) -> Money {
        Money::new(minor, Currency::parse("BRL").unwrap())
    }

    #[test]
    fn every_payment_event_round_trips_under_its_public_name() {
        let events = [
            Event::Requested {
                order: OrderId::from_u128(7),
                amount: brl(3300),
                method: domain::PaymentMethod::new("pm_flaky", "fp_flaky").unwrap(),
            },
            Event::Authorized {
                amount: brl(3300),
                attempt: 3,
            },
            Event::Declined {
                reason: "card_declined".into(),
                attempt: 1,
            },
            Event::FailedTransiently {
                error: "gateway timeout".into(),
                attempt: 2,
            },
            Event::DeadlinePassed,
            Event::Expired,
            Event::Refunded { amount: brl(3300) },
        ];
        assert_eq!(
            round_trip(&events),
            [
                "PaymentRequested",
                "PaymentAuthorized",
                "PaymentDeclined",
                "PaymentFailedTransiently",
                "PaymentDeadlinePassed",
                "PaymentExpired",
                "PaymentRefunded",
            ]
        );
    }

    #[test]
    fn money_is_stored_as_minor_units_beside_its_currency() {
        assert_eq!(
            Event::Refunded { amount: brl(1250) }.encode(),
            stored(
                "PaymentRefunded",
                1,
                json!({ "amountMinor": 1250, "currency": "BRL" })
            )
        );
    }

    #[test]
    fn a_stored_bad_currency_or_unknown_version_is_a_schema_error() {
        for event in [
            stored(
                "PaymentRefunded",
                1,
                json!({ "amountMinor": 1, "currency": "R$" }),
            ),
            stored(
                "PaymentRefunded",
                1,
                json!({ "amountMinor": 1.5, "currency": "BRL" }),
            ),
            stored("PaymentExpired", 7, json!({})),
            stored("PaymentForgotten", 1, json!({})),
        ] {
            let result = Event::decode(event.clone());
            assert!(
                matches!(result, Err(Error::Schema(_))),
                "{event:?}: {result:?}"
            );
        }
    }
}
