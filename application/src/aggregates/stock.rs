//! The stock adapter and the snapshot shape of a SKU's stock.

use domain::stock::{self, Parts, ProductParts, Stock};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{adapter, read_snapshot};
use crate::Error;
use crate::schema::wire;

/// The version of [`StockSnapshotV2`]. Version 1 kept every order that ever touched the SKU;
/// its snapshots are no longer read (the stream is folded from its events instead, and a
/// version 2 snapshot is written).
pub const SNAPSHOT_SCHEMA: i32 = 2;

/// A stock state as stored in a snapshot, version 2: only the open reservations.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StockSnapshotV2 {
    product: Option<ProductV1>,
    on_hand: u32,
    reserved: u32,
    low: bool,
    reservations: Vec<ReservationV2>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductV1 {
    sku: String,
    name: String,
    low_stock_threshold: u32,
    // Absent for a product registered before products had prices and not repriced since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    price_minor: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    currency: Option<String>,
}

/// The units one order holds.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReservationV2 {
    order_id: Uuid,
    quantity: u32,
}

fn snapshot(state: &Stock) -> Value {
    let parts = state.to_parts();
    wire::to_json(&StockSnapshotV2 {
        product: parts.product.map(|p| ProductV1 {
            sku: p.sku.to_string(),
            name: p.name,
            low_stock_threshold: p.low_stock_threshold,
            price_minor: p.price.map(|price| price.minor()),
            currency: p.price.map(|price| price.currency().to_string()),
        }),
        on_hand: parts.on_hand,
        reserved: parts.reserved,
        low: parts.low,
        reservations: parts
            .reservations
            .into_iter()
            .map(|(order, quantity)| ReservationV2 {
                order_id: wire::order_uuid(order),
                quantity: quantity.get(),
            })
            .collect(),
    })
}

fn restore(snapshot: Value) -> Result<Stock, Error> {
    let s: StockSnapshotV2 = read_snapshot("stock", snapshot)?;
    let product = match s.product {
        Some(p) => Some(ProductParts {
            price: match (p.price_minor, p.currency.as_deref()) {
                (Some(minor), Some(currency)) => Some(wire::money(minor, currency)?),
                (None, None) => None,
                _ => {
                    return Err(Error::Schema(format!(
                        "stock snapshot of {}: a price needs its amount and its currency",
                        p.sku
                    )));
                }
            },
            sku: wire::sku(&p.sku)?,
            name: p.name,
            low_stock_threshold: p.low_stock_threshold,
        }),
        None => None,
    };
    let reservations = s
        .reservations
        .into_iter()
        .map(|r| Ok((wire::order_id(r.order_id), wire::quantity(r.quantity)?)))
        .collect::<Result<_, Error>>()?;
    Ok(Stock::from_parts(Parts {
        product,
        on_hand: s.on_hand,
        reserved: s.reserved,
        low: s.low,
        reservations,
    }))
}

adapter! {
    /// A SKU's stock as a cqrs-es aggregate (stream type `stock`).
    aggregate StockAggregate(Stock);
    /// A stock event as a cqrs-es domain event.
    event StockEvent(stock::Event);
    command stock::Command;
    error stock::Error;
    snapshot SNAPSHOT_SCHEMA, snapshot, restore;
    starts stock::Command::Register;
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use domain::{Aggregate as _, OrderId, Quantity, Sku};
    use serde_json::json;

    use super::*;
    use crate::aggregates::EventSourced;

    const A: OrderId = OrderId::from_u128(1);
    const B: OrderId = OrderId::from_u128(2);
    const C: OrderId = OrderId::from_u128(3);

    fn qty(n: u32) -> Quantity {
        Quantity::new(n).unwrap()
    }

    fn history() -> Vec<stock::Event> {
        vec![
            stock::Event::Registered {
                sku: Sku::parse("MUG-1").unwrap(),
                name: "Mug".into(),
                low_stock_threshold: 5,
                price: Some(domain::Money::new(
                    1250,
                    domain::Currency::parse("BRL").unwrap(),
                )),
            },
            stock::Event::Restocked { quantity: qty(6) },
            stock::Event::Reserved {
                order: A,
                quantity: qty(2),
            },
            stock::Event::LowStock {
                available: 4,
                threshold: 5,
            },
            stock::Event::ReservationRejected {
                order: B,
                requested: qty(9),
                available: 4,
            },
            stock::Event::Reserved {
                order: C,
                quantity: qty(1),
            },
            stock::Event::Committed {
                order: C,
                quantity: qty(1),
            },
        ]
    }

    fn given(events: Vec<stock::Event>) -> cqrs_es::test::AggregateTestExecutor<StockAggregate> {
        TestFramework::<StockAggregate>::with(())
            .given(events.into_iter().map(StockEvent).collect())
    }

    #[tokio::test]
    async fn reserving_records_the_reservation() {
        given(history())
            .when_async(stock::Command::Reserve {
                order: OrderId::from_u128(4),
                quantity: qty(3),
            })
            .await
            .then_expect_events(vec![StockEvent(stock::Event::Reserved {
                order: OrderId::from_u128(4),
                quantity: qty(3),
            })]);
    }

    #[tokio::test]
    async fn restocking_an_unregistered_product_is_refused() {
        TestFramework::<StockAggregate>::with(())
            .given_no_previous_events()
            .when_async(stock::Command::Restock { quantity: qty(1) })
            .await
            .then_expect_error(stock::Error::NotRegistered);
    }

    #[test]
    fn a_snapshot_restores_the_same_state() {
        let state = StockAggregate(Stock::from_events(&history()));
        let snapshot = state.snapshot();
        assert_eq!(snapshot["product"]["sku"], "MUG-1");
        assert_eq!(snapshot["product"]["priceMinor"], 1250);
        assert_eq!(
            snapshot["reservations"],
            json!([{ "orderId": A.to_string(), "quantity": 2 }]),
            "only open reservations are kept"
        );
        assert_eq!(StockAggregate::restore(snapshot), Ok(state.clone()));
        assert_eq!(
            StockAggregate::restore(StockAggregate::default().snapshot()),
            Ok(StockAggregate::default())
        );
        let serde_round_trip: StockAggregate =
            serde_json::from_value(serde_json::to_value(&state).unwrap()).unwrap();
        assert_eq!(serde_round_trip, state);
    }

    #[test]
    fn a_snapshot_of_an_unpriced_product_restores_a_product_without_a_price() {
        let mut old = StockAggregate(Stock::from_events(&history())).snapshot();
        let product = old["product"].as_object_mut().unwrap();
        product.remove("priceMinor");
        product.remove("currency");
        let restored = StockAggregate::restore(old).unwrap();
        assert_eq!(restored.0.price(), None);
        assert_eq!(restored.0.on_hand(), 5);
    }

    #[test]
    fn a_snapshot_that_does_not_decode_is_a_schema_error() {
        let mut bad_sku = StockAggregate(Stock::from_events(&history())).snapshot();
        bad_sku["product"]["sku"] = json!("MUG 1");
        let mut no_quantity = StockAggregate(Stock::from_events(&history())).snapshot();
        no_quantity["reservations"][0]
            .as_object_mut()
            .unwrap()
            .remove("quantity");
        let mut half_price = StockAggregate(Stock::from_events(&history())).snapshot();
        half_price["product"]
            .as_object_mut()
            .unwrap()
            .remove("currency");
        for snapshot in [
            bad_sku,
            no_quantity,
            half_price,
            json!({ "onHand": 1 }),
            json!(null),
        ] {
            let result = StockAggregate::restore(snapshot.clone());
            assert!(
                matches!(result, Err(Error::Schema(_))),
                "{snapshot}: {result:?}"
            );
        }
    }
}
