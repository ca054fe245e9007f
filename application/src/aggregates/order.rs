//! The order adapter and the snapshot shape of an order.

use domain::order::{self, Line, Order, Parts, PlacedParts, Status};
use domain::{Money, Sku};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{adapter, read_snapshot};
use crate::Error;
use crate::schema::wire;

/// The version of [`OrderSnapshotV1`].
pub const SNAPSHOT_SCHEMA: i32 = 1;

/// An order state as stored in a snapshot, version 1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderSnapshotV1 {
    placed: Option<PlacedV1>,
    /// The SKUs whose stock is reserved.
    reserved: Vec<String>,
    paid: bool,
}

/// The placed order. Every amount is in `currency`, the currency of the total: placing an
/// order refuses lines priced in another one.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlacedV1 {
    order_id: Uuid,
    customer_id: String,
    currency: String,
    lines: Vec<LineV1>,
    total_minor: i64,
    status: StatusV1,
    /// Present when `status` is `CANCELLED`: the reason's wire name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cancellation_reason: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineV1 {
    sku: String,
    quantity: u32,
    unit_price_minor: i64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum StatusV1 {
    Pending,
    Confirmed,
    Cancelled,
    Shipped,
}

fn snapshot(state: &Order) -> Value {
    let parts = state.to_parts();
    wire::to_json(&OrderSnapshotV1 {
        placed: parts.placed.map(|p| {
            let (status, reason) = match p.status {
                Status::Pending => (StatusV1::Pending, None),
                Status::Confirmed => (StatusV1::Confirmed, None),
                Status::Cancelled(reason) => (StatusV1::Cancelled, Some(reason)),
                Status::Shipped => (StatusV1::Shipped, None),
            };
            PlacedV1 {
                order_id: wire::order_uuid(p.id),
                customer_id: p.customer.to_string(),
                currency: p.total.currency().to_string(),
                lines: p
                    .lines
                    .iter()
                    .map(|line| LineV1 {
                        sku: line.sku.to_string(),
                        quantity: line.quantity.get(),
                        unit_price_minor: line.unit_price.minor(),
                    })
                    .collect(),
                total_minor: p.total.minor(),
                status,
                cancellation_reason: reason.map(|r| r.as_str().to_owned()),
            }
        }),
        reserved: parts.reserved.iter().map(Sku::to_string).collect(),
        paid: parts.paid,
    })
}

fn restore(snapshot: Value) -> Result<Order, Error> {
    let s: OrderSnapshotV1 = read_snapshot("order", snapshot)?;
    let placed = match s.placed {
        Some(p) => Some(placed(p)?),
        None => None,
    };
    let reserved = s
        .reserved
        .iter()
        .map(|sku| wire::sku(sku))
        .collect::<Result<_, _>>()?;
    Ok(Order::from_parts(Parts {
        placed,
        reserved,
        paid: s.paid,
    }))
}

fn placed(p: PlacedV1) -> Result<PlacedParts, Error> {
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
    let status = match (p.status, p.cancellation_reason) {
        (StatusV1::Pending, _) => Status::Pending,
        (StatusV1::Confirmed, _) => Status::Confirmed,
        (StatusV1::Shipped, _) => Status::Shipped,
        (StatusV1::Cancelled, Some(reason)) => {
            Status::Cancelled(wire::cancellation_reason(&reason)?)
        }
        (StatusV1::Cancelled, None) => {
            return Err(Error::Schema(
                "order snapshot: a cancelled order has no cancellation reason".into(),
            ));
        }
    };
    Ok(PlacedParts {
        id: wire::order_id(p.order_id),
        customer: wire::customer(&p.customer_id)?,
        lines,
        total: Money::new(p.total_minor, currency),
        status,
    })
}

adapter! {
    /// An order as a cqrs-es aggregate (stream type `order`).
    aggregate OrderAggregate(Order);
    /// An order event as a cqrs-es domain event.
    event OrderEvent(order::Event);
    command order::Command;
    error order::Error;
    snapshot SNAPSHOT_SCHEMA, snapshot, restore;
    starts order::Command::Place;
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use domain::order::CancellationReason;
    use domain::{Aggregate as _, Currency, CustomerId, OrderId, Quantity, Timestamp};
    use serde_json::json;

    use super::*;
    use crate::aggregates::EventSourced;

    fn placed_event() -> order::Event {
        let brl = Currency::parse("BRL").unwrap();
        let line = |sku: &str, n, minor| Line {
            sku: Sku::parse(sku).unwrap(),
            quantity: Quantity::new(n).unwrap(),
            unit_price: Money::new(minor, brl),
        };
        order::Event::Placed {
            order: OrderId::from_u128(7),
            customer: CustomerId::parse("alice").unwrap(),
            currency: brl,
            lines: vec![line("MUG-1", 2, 1250), line("TEA-9", 1, 800)],
            total: Money::new(3300, brl),
            payment: domain::PaymentMethod::new("pm_visa", "fp_visa").unwrap(),
            at: Timestamp::from_millis(1),
        }
    }

    fn reserved(sku: &str) -> order::Event {
        order::Event::LineReserved {
            sku: Sku::parse(sku).unwrap(),
        }
    }

    fn given(events: Vec<order::Event>) -> cqrs_es::test::AggregateTestExecutor<OrderAggregate> {
        TestFramework::<OrderAggregate>::with(())
            .given(events.into_iter().map(OrderEvent).collect())
    }

    #[tokio::test]
    async fn a_reserved_and_paid_order_is_confirmed() {
        given(vec![
            placed_event(),
            reserved("MUG-1"),
            reserved("TEA-9"),
            order::Event::Paid,
        ])
        .when_async(order::Command::Confirm {
            at: Timestamp::from_millis(5),
        })
        .await
        .then_expect_events(vec![OrderEvent(order::Event::Confirmed {
            at: Timestamp::from_millis(5),
        })]);
    }

    #[tokio::test]
    async fn an_order_waiting_for_stock_cannot_be_confirmed() {
        given(vec![placed_event(), reserved("MUG-1"), order::Event::Paid])
            .when_async(order::Command::Confirm {
                at: Timestamp::from_millis(5),
            })
            .await
            .then_expect_error(order::Error::NotFullyReserved { missing: 1 });
    }

    #[test]
    fn a_snapshot_restores_the_same_state() {
        for status_event in [
            None,
            Some(order::Event::Confirmed {
                at: Timestamp::from_millis(2),
            }),
            Some(order::Event::Cancelled {
                reason: CancellationReason::PaymentTimeout,
                at: Timestamp::from_millis(2),
            }),
        ] {
            let mut events = vec![placed_event(), reserved("TEA-9"), order::Event::Paid];
            events.extend(status_event);
            let state = OrderAggregate(Order::from_events(&events));
            assert_eq!(OrderAggregate::restore(state.snapshot()), Ok(state.clone()));
        }
        let cancelled = OrderAggregate(Order::from_events(&[
            placed_event(),
            order::Event::Cancelled {
                reason: CancellationReason::OutOfStock,
                at: Timestamp::from_millis(2),
            },
        ]));
        assert_eq!(
            cancelled.snapshot()["placed"]["cancellationReason"],
            "OUT_OF_STOCK"
        );
        assert_eq!(
            OrderAggregate::restore(OrderAggregate::default().snapshot()),
            Ok(OrderAggregate::default())
        );
    }

    #[test]
    fn a_snapshot_that_does_not_decode_is_a_schema_error() {
        let state = OrderAggregate(Order::from_events(&[placed_event()]));
        let mut no_reason = state.snapshot();
        no_reason["placed"]["status"] = json!("CANCELLED");
        let mut bad_currency = state.snapshot();
        bad_currency["placed"]["currency"] = json!("R$");
        let mut bad_sku = state.snapshot();
        bad_sku["reserved"] = json!(["MUG 1"]);
        for snapshot in [no_reason, bad_currency, bad_sku] {
            let result = OrderAggregate::restore(snapshot.clone());
            assert!(
                matches!(result, Err(Error::Schema(_))),
                "{snapshot}: {result:?}"
            );
        }
    }
}
