//! The stored events of an order (stream type `order`, stream id the order's UUID).

use domain::Money;
use domain::order::{Event, Line};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::wire::{self, Time};
use super::{EncodedEvent, EventSchema, Payload, kind, unknown_type};
use crate::Error;

/// `OrderPlaced` v2. Every amount is in `currency`. v1 kept the customer's payment token
/// (`paymentToken`) where v2 keeps the method the provider registered for it; the
/// [`TokenRedacted`](super::redaction::TokenRedacted) upcaster reads v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderPlacedV2 {
    order_id: Uuid,
    customer_id: String,
    currency: String,
    lines: Vec<LineV1>,
    total_minor: i64,
    payment_method: wire::Method,
    at: Time,
}

/// One line of `OrderPlaced` (v1 and v2).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineV1 {
    sku: String,
    quantity: u32,
    unit_price_minor: i64,
}

impl Payload for OrderPlacedV2 {
    const TYPE: &'static str = "OrderPlaced";
    const VERSION: i32 = 2;
}

/// `OrderLineReserved` v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderLineReservedV1 {
    sku: String,
}

impl Payload for OrderLineReservedV1 {
    const TYPE: &'static str = "OrderLineReserved";
    const VERSION: i32 = 1;
}

/// `OrderPaid` v1: no fields.
#[derive(Debug, Serialize, Deserialize)]
struct OrderPaidV1 {}

impl Payload for OrderPaidV1 {
    const TYPE: &'static str = "OrderPaid";
    const VERSION: i32 = 1;
}

/// `OrderConfirmed` v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderConfirmedV1 {
    at: Time,
}

impl Payload for OrderConfirmedV1 {
    const TYPE: &'static str = "OrderConfirmed";
    const VERSION: i32 = 1;
}

/// `OrderCancelled` v1; `reason` is the wire name, e.g. `OUT_OF_STOCK`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderCancelledV1 {
    reason: String,
    at: Time,
}

impl Payload for OrderCancelledV1 {
    const TYPE: &'static str = "OrderCancelled";
    const VERSION: i32 = 1;
}

/// `OrderShipped` v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderShippedV1 {
    at: Time,
}

impl Payload for OrderShippedV1 {
    const TYPE: &'static str = "OrderShipped";
    const VERSION: i32 = 1;
}

fn kind_of(event: &Event) -> (&'static str, i32) {
    match event {
        Event::Placed { .. } => kind::<OrderPlacedV2>(),
        Event::LineReserved { .. } => kind::<OrderLineReservedV1>(),
        Event::Paid => kind::<OrderPaidV1>(),
        Event::Confirmed { .. } => kind::<OrderConfirmedV1>(),
        Event::Cancelled { .. } => kind::<OrderCancelledV1>(),
        Event::Shipped { .. } => kind::<OrderShippedV1>(),
    }
}

impl EventSchema for Event {
    const STREAM_TYPE: &'static str = "order";

    fn event_type(&self) -> &'static str {
        kind_of(self).0
    }

    fn event_version(&self) -> i32 {
        kind_of(self).1
    }

    fn encode(&self) -> EncodedEvent {
        match self {
            Self::Placed {
                order,
                customer,
                currency,
                lines,
                total,
                payment,
                at,
            } => OrderPlacedV2 {
                order_id: wire::order_uuid(*order),
                customer_id: customer.to_string(),
                currency: currency.to_string(),
                lines: lines
                    .iter()
                    .map(|line| LineV1 {
                        sku: line.sku.to_string(),
                        quantity: line.quantity.get(),
                        unit_price_minor: line.unit_price.minor(),
                    })
                    .collect(),
                total_minor: total.minor(),
                payment_method: payment.into(),
                at: Time(*at),
            }
            .encoded(),
            Self::LineReserved { sku } => OrderLineReservedV1 {
                sku: sku.to_string(),
            }
            .encoded(),
            Self::Paid => OrderPaidV1 {}.encoded(),
            Self::Confirmed { at } => OrderConfirmedV1 { at: Time(*at) }.encoded(),
            Self::Cancelled { reason, at } => OrderCancelledV1 {
                reason: reason.as_str().to_owned(),
                at: Time(*at),
            }
            .encoded(),
            Self::Shipped { at } => OrderShippedV1 { at: Time(*at) }.encoded(),
        }
    }

    fn decode(event: EncodedEvent) -> Result<Self, Error> {
        Ok(match event.event_type.as_str() {
            OrderPlacedV2::TYPE => {
                let p = OrderPlacedV2::read(event)?;
                let currency = wire::currency(&p.currency)?;
                let lines = p
                    .lines
                    .into_iter()
                    .map(|line| {
                        Ok(Line {
                            sku: wire::sku(&line.sku)?,
                            quantity: wire::quantity(line.quantity)?,
                            unit_price: Money::new(line.unit_price_minor, currency),
                        })
                    })
                    .collect::<Result<_, Error>>()?;
                Self::Placed {
                    order: wire::order_id(p.order_id),
                    customer: wire::customer(&p.customer_id)?,
                    currency,
                    lines,
                    total: Money::new(p.total_minor, currency),
                    payment: p.payment_method.read()?,
                    at: p.at.0,
                }
            }
            OrderLineReservedV1::TYPE => {
                let p = OrderLineReservedV1::read(event)?;
                Self::LineReserved {
                    sku: wire::sku(&p.sku)?,
                }
            }
            OrderPaidV1::TYPE => {
                OrderPaidV1::read(event)?;
                Self::Paid
            }
            OrderConfirmedV1::TYPE => Self::Confirmed {
                at: OrderConfirmedV1::read(event)?.at.0,
            },
            OrderCancelledV1::TYPE => {
                let p = OrderCancelledV1::read(event)?;
                Self::Cancelled {
                    reason: wire::cancellation_reason(&p.reason)?,
                    at: p.at.0,
                }
            }
            OrderShippedV1::TYPE => Self::Shipped {
                at: OrderShippedV1::read(event)?.at.0,
            },
            _ => return Err(unknown_type::<Self>(&event)),
        })
    }
}

#[cfg(test)]
mod tests {
    use domain::order::CancellationReason;
    use domain::{Currency, CustomerId, Money, OrderId, Quantity, Sku, Timestamp};
    use serde_json::json;

    use super::*;
    use crate::schema::testing::{round_trip, stored};

    const ORDER: OrderId = OrderId::from_u128(0x0192_3b4c_5d6e_7f80_9a1b_2c3d_4e5f_6a7b);
    /// 2026-01-01T00:00:00.000Z
    const NEW_YEAR: i64 = 1_767_225_600_000;

    fn at(offset_ms: i64) -> Timestamp {
        Timestamp::from_millis(NEW_YEAR + offset_ms)
    }

    fn placed() -> Event {
        let brl = Currency::parse("BRL").unwrap();
        let line = |sku: &str, n, minor| Line {
            sku: Sku::parse(sku).unwrap(),
            quantity: Quantity::new(n).unwrap(),
            unit_price: Money::new(minor, brl),
        };
        Event::Placed {
            order: ORDER,
            customer: CustomerId::parse("alice").unwrap(),
            currency: brl,
            lines: vec![line("MUG-1", 2, 1250), line("TEA-9", 1, 800)],
            total: Money::new(3300, brl),
            payment: domain::PaymentMethod::new("pm_visa", "fp_visa").unwrap(),
            at: at(0),
        }
    }

    #[test]
    fn every_order_event_round_trips_under_its_public_name() {
        let mut events = vec![
            placed(),
            Event::LineReserved {
                sku: Sku::parse("MUG-1").unwrap(),
            },
            Event::Paid,
            Event::Confirmed { at: at(1) },
            Event::Shipped { at: at(3) },
        ];
        events.extend(CancellationReason::ALL.map(|reason| Event::Cancelled { reason, at: at(2) }));
        assert_eq!(
            round_trip(&events)[..6],
            [
                "OrderPlaced",
                "OrderLineReserved",
                "OrderPaid",
                "OrderConfirmed",
                "OrderShipped",
                "OrderCancelled",
            ]
        );
    }

    #[test]
    fn a_placed_order_reads_plainly_for_an_auditor() {
        assert_eq!(
            placed().encode(),
            stored(
                "OrderPlaced",
                2,
                json!({
                    "orderId": "01923b4c-5d6e-7f80-9a1b-2c3d4e5f6a7b",
                    "customerId": "alice",
                    "currency": "BRL",
                    "lines": [
                        { "sku": "MUG-1", "quantity": 2, "unitPriceMinor": 1250 },
                        { "sku": "TEA-9", "quantity": 1, "unitPriceMinor": 800 },
                    ],
                    "totalMinor": 3300,
                    "paymentMethod": { "reference": "pm_visa", "fingerprint": "fp_visa" },
                    "at": "2026-01-01T00:00:00.000Z",
                })
            )
        );
        assert_eq!(
            Event::Cancelled {
                reason: CancellationReason::OutOfStock,
                at: at(2)
            }
            .encode()
            .payload,
            json!({ "reason": "OUT_OF_STOCK", "at": "2026-01-01T00:00:00.002Z" })
        );
    }

    #[test]
    fn stored_values_the_domain_refuses_are_schema_errors() {
        let mut bad_sku = placed().encode();
        bad_sku.payload["lines"][0]["sku"] = json!("MUG 1");
        let mut bad_currency = placed().encode();
        bad_currency.payload["currency"] = json!("real");
        let mut bad_time = placed().encode();
        bad_time.payload["at"] = json!("new year");
        for event in [
            bad_sku,
            bad_currency,
            bad_time,
            stored(
                "OrderCancelled",
                1,
                json!({ "reason": "BORED", "at": NEW_YEAR }),
            ),
            stored("OrderLineReserved", 1, json!({ "sku": "" })),
        ] {
            let result = Event::decode(event.clone());
            assert!(
                matches!(result, Err(Error::Schema(_))),
                "{event:?}: {result:?}"
            );
        }
    }

    #[test]
    fn unknown_types_and_versions_are_schema_errors() {
        for event in [
            stored("OrderLost", 1, json!({})),
            stored("StockReserved", 1, json!({})),
            stored("OrderPaid", 0, json!({})),
            stored("OrderPaid", 2, json!({})),
        ] {
            let result = Event::decode(event.clone());
            assert!(
                matches!(result, Err(Error::Schema(_))),
                "{event:?}: {result:?}"
            );
        }
    }
}
