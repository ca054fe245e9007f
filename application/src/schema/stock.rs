//! The stored events of a SKU's stock (stream type `stock`, stream id the SKU).

use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use domain::Money;
use domain::stock::Event;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{EncodedEvent, EventSchema, Payload, kind, unknown_type, wire};
use crate::Error;

/// `ProductRegistered` v2: v1 (`sku`, `name`, `lowStockThreshold`) and the price. Both
/// price fields are null for a product registered before products had prices (v1, brought
/// here by [`ProductRegisteredV1ToV2`]); a product registered since always has them.
///
/// A new version rather than an optional field on v1, so the one place that says what a
/// registration without a price means is the upcaster, and an older server that meets a
/// priced registration refuses it instead of serving the product without its price.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductRegisteredV2 {
    sku: String,
    name: String,
    low_stock_threshold: u32,
    price_minor: Option<i64>,
    currency: Option<String>,
}

impl Payload for ProductRegisteredV2 {
    const TYPE: &'static str = "ProductRegistered";
    const VERSION: i32 = 2;
}

/// Brings `ProductRegistered` v1 to v2: a product registered before products had prices
/// has none (null price and currency).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ProductRegisteredV1ToV2;

impl EventUpcaster for ProductRegisteredV1ToV2 {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        event_type == ProductRegisteredV2::TYPE && event_version == "1"
    }

    fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        if let Value::Object(payload) = &mut event.payload {
            payload.insert("priceMinor".into(), Value::Null);
            payload.insert("currency".into(), Value::Null);
        }
        event.event_version = ProductRegisteredV2::VERSION.to_string();
        event
    }
}

/// `ProductRepriced` v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductRepricedV1 {
    price_minor: i64,
    currency: String,
}

impl Payload for ProductRepricedV1 {
    const TYPE: &'static str = "ProductRepriced";
    const VERSION: i32 = 1;
}

/// `StockRestocked` v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StockRestockedV1 {
    quantity: u32,
}

impl Payload for StockRestockedV1 {
    const TYPE: &'static str = "StockRestocked";
    const VERSION: i32 = 1;
}

/// `StockReserved` v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StockReservedV1 {
    order_id: Uuid,
    quantity: u32,
}

impl Payload for StockReservedV1 {
    const TYPE: &'static str = "StockReserved";
    const VERSION: i32 = 1;
}

/// `StockReservationRejected` v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StockReservationRejectedV1 {
    order_id: Uuid,
    requested: u32,
    available: u32,
}

impl Payload for StockReservationRejectedV1 {
    const TYPE: &'static str = "StockReservationRejected";
    const VERSION: i32 = 1;
}

/// `StockReleased` v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StockReleasedV1 {
    order_id: Uuid,
    quantity: u32,
}

impl Payload for StockReleasedV1 {
    const TYPE: &'static str = "StockReleased";
    const VERSION: i32 = 1;
}

/// `StockCommitted` v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StockCommittedV1 {
    order_id: Uuid,
    quantity: u32,
}

impl Payload for StockCommittedV1 {
    const TYPE: &'static str = "StockCommitted";
    const VERSION: i32 = 1;
}

/// `StockReturned` v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StockReturnedV1 {
    order_id: Uuid,
    quantity: u32,
}

impl Payload for StockReturnedV1 {
    const TYPE: &'static str = "StockReturned";
    const VERSION: i32 = 1;
}

/// `LowStock` v1.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LowStockV1 {
    available: u32,
    threshold: u32,
}

impl Payload for LowStockV1 {
    const TYPE: &'static str = "LowStock";
    const VERSION: i32 = 1;
}

fn kind_of(event: &Event) -> (&'static str, i32) {
    match event {
        Event::Registered { .. } => kind::<ProductRegisteredV2>(),
        Event::Repriced { .. } => kind::<ProductRepricedV1>(),
        Event::Restocked { .. } => kind::<StockRestockedV1>(),
        Event::Reserved { .. } => kind::<StockReservedV1>(),
        Event::ReservationRejected { .. } => kind::<StockReservationRejectedV1>(),
        Event::Released { .. } => kind::<StockReleasedV1>(),
        Event::Committed { .. } => kind::<StockCommittedV1>(),
        Event::Returned { .. } => kind::<StockReturnedV1>(),
        Event::LowStock { .. } => kind::<LowStockV1>(),
    }
}

impl EventSchema for Event {
    const STREAM_TYPE: &'static str = "stock";

    fn event_type(&self) -> &'static str {
        kind_of(self).0
    }

    fn event_version(&self) -> i32 {
        kind_of(self).1
    }

    fn encode(&self) -> EncodedEvent {
        match self {
            Self::Registered {
                sku,
                name,
                low_stock_threshold,
                price,
            } => ProductRegisteredV2 {
                sku: sku.to_string(),
                name: name.clone(),
                low_stock_threshold: *low_stock_threshold,
                price_minor: price.map(|p| p.minor()),
                currency: price.map(|p| p.currency().to_string()),
            }
            .encoded(),
            Self::Repriced { price } => ProductRepricedV1 {
                price_minor: price.minor(),
                currency: price.currency().to_string(),
            }
            .encoded(),
            Self::Restocked { quantity } => StockRestockedV1 {
                quantity: quantity.get(),
            }
            .encoded(),
            Self::Reserved { order, quantity } => StockReservedV1 {
                order_id: wire::order_uuid(*order),
                quantity: quantity.get(),
            }
            .encoded(),
            Self::ReservationRejected {
                order,
                requested,
                available,
            } => StockReservationRejectedV1 {
                order_id: wire::order_uuid(*order),
                requested: requested.get(),
                available: *available,
            }
            .encoded(),
            Self::Released { order, quantity } => StockReleasedV1 {
                order_id: wire::order_uuid(*order),
                quantity: quantity.get(),
            }
            .encoded(),
            Self::Committed { order, quantity } => StockCommittedV1 {
                order_id: wire::order_uuid(*order),
                quantity: quantity.get(),
            }
            .encoded(),
            Self::Returned { order, quantity } => StockReturnedV1 {
                order_id: wire::order_uuid(*order),
                quantity: quantity.get(),
            }
            .encoded(),
            Self::LowStock {
                available,
                threshold,
            } => LowStockV1 {
                available: *available,
                threshold: *threshold,
            }
            .encoded(),
        }
    }

    fn decode(event: EncodedEvent) -> Result<Self, Error> {
        Ok(match event.event_type.as_str() {
            ProductRegisteredV2::TYPE => {
                let p = ProductRegisteredV2::read(event)?;
                Self::Registered {
                    sku: wire::sku(&p.sku)?,
                    name: p.name,
                    low_stock_threshold: p.low_stock_threshold,
                    price: registered_price(p.price_minor, p.currency.as_deref())?,
                }
            }
            ProductRepricedV1::TYPE => {
                let p = ProductRepricedV1::read(event)?;
                Self::Repriced {
                    price: wire::money(p.price_minor, &p.currency)?,
                }
            }
            StockRestockedV1::TYPE => {
                let p = StockRestockedV1::read(event)?;
                Self::Restocked {
                    quantity: wire::quantity(p.quantity)?,
                }
            }
            StockReservedV1::TYPE => {
                let p = StockReservedV1::read(event)?;
                Self::Reserved {
                    order: wire::order_id(p.order_id),
                    quantity: wire::quantity(p.quantity)?,
                }
            }
            StockReservationRejectedV1::TYPE => {
                let p = StockReservationRejectedV1::read(event)?;
                Self::ReservationRejected {
                    order: wire::order_id(p.order_id),
                    requested: wire::quantity(p.requested)?,
                    available: p.available,
                }
            }
            StockReleasedV1::TYPE => {
                let p = StockReleasedV1::read(event)?;
                Self::Released {
                    order: wire::order_id(p.order_id),
                    quantity: wire::quantity(p.quantity)?,
                }
            }
            StockCommittedV1::TYPE => {
                let p = StockCommittedV1::read(event)?;
                Self::Committed {
                    order: wire::order_id(p.order_id),
                    quantity: wire::quantity(p.quantity)?,
                }
            }
            StockReturnedV1::TYPE => {
                let p = StockReturnedV1::read(event)?;
                Self::Returned {
                    order: wire::order_id(p.order_id),
                    quantity: wire::quantity(p.quantity)?,
                }
            }
            LowStockV1::TYPE => {
                let p = LowStockV1::read(event)?;
                Self::LowStock {
                    available: p.available,
                    threshold: p.threshold,
                }
            }
            _ => return Err(unknown_type::<Self>(&event)),
        })
    }
}

/// The price of a stored registration: both fields or neither.
fn registered_price(minor: Option<i64>, currency: Option<&str>) -> Result<Option<Money>, Error> {
    match (minor, currency) {
        (Some(minor), Some(currency)) => Ok(Some(wire::money(minor, currency)?)),
        (None, None) => Ok(None),
        _ => Err(Error::Schema(
            "ProductRegistered: priceMinor and currency come together or not at all".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use domain::{Currency, Quantity, Sku};
    use serde_json::json;

    use super::*;
    use crate::schema::Upcasters;
    use crate::schema::testing::{round_trip, stored};
    use domain::OrderId;

    const ORDER: OrderId = OrderId::from_u128(0x0192_3b4c_5d6e_7f80_9a1b_2c3d_4e5f_6a7b);

    fn qty(n: u32) -> Quantity {
        Quantity::new(n).unwrap()
    }

    fn brl(minor: i64) -> Money {
        Money::new(minor, Currency::parse("BRL").unwrap())
    }

    #[test]
    fn every_stock_event_round_trips_under_its_public_name() {
        let events = [
            Event::Registered {
                sku: Sku::parse("MUG-1").unwrap(),
                name: "Mug".into(),
                low_stock_threshold: 2,
                price: Some(brl(1250)),
            },
            Event::Registered {
                sku: Sku::parse("OLD-1").unwrap(),
                name: "Old mug".into(),
                low_stock_threshold: 0,
                price: None,
            },
            Event::Repriced { price: brl(1490) },
            Event::Restocked { quantity: qty(10) },
            Event::Reserved {
                order: ORDER,
                quantity: qty(3),
            },
            Event::ReservationRejected {
                order: ORDER,
                requested: qty(30),
                available: 7,
            },
            Event::Released {
                order: ORDER,
                quantity: qty(3),
            },
            Event::Committed {
                order: ORDER,
                quantity: qty(3),
            },
            Event::Returned {
                order: ORDER,
                quantity: qty(3),
            },
            Event::LowStock {
                available: 1,
                threshold: 2,
            },
        ];
        assert_eq!(
            round_trip(&events),
            [
                "ProductRegistered",
                "ProductRegistered",
                "ProductRepriced",
                "StockRestocked",
                "StockReserved",
                "StockReservationRejected",
                "StockReleased",
                "StockCommitted",
                "StockReturned",
                "LowStock",
            ]
        );
    }

    #[test]
    fn a_reservation_is_stored_with_the_order_as_a_uuid() {
        let encoded = Event::Reserved {
            order: ORDER,
            quantity: qty(3),
        }
        .encode();
        assert_eq!(
            encoded,
            stored(
                "StockReserved",
                1,
                json!({ "orderId": "01923b4c-5d6e-7f80-9a1b-2c3d4e5f6a7b", "quantity": 3 })
            )
        );
    }

    #[test]
    fn a_registration_is_stored_with_its_price_in_minor_units() {
        let encoded = Event::Registered {
            sku: Sku::parse("MUG-1").unwrap(),
            name: "Mug".into(),
            low_stock_threshold: 2,
            price: Some(brl(1250)),
        }
        .encode();
        assert_eq!(
            encoded,
            stored(
                "ProductRegistered",
                2,
                json!({ "sku": "MUG-1", "name": "Mug", "lowStockThreshold": 2,
                        "priceMinor": 1250, "currency": "BRL" })
            )
        );
    }

    #[test]
    fn a_registration_stored_before_prices_reads_as_a_product_without_a_price() {
        let old = stored(
            "ProductRegistered",
            1,
            json!({ "sku": "OLD-1", "name": "Old mug", "lowStockThreshold": 3 }),
        );
        let current = Upcasters::current()
            .upcast(Event::STREAM_TYPE, old)
            .unwrap();
        assert_eq!(current.event_version, 2);
        assert_eq!(
            Event::decode(current),
            Ok(Event::Registered {
                sku: Sku::parse("OLD-1").unwrap(),
                name: "Old mug".into(),
                low_stock_threshold: 3,
                price: None,
            })
        );
    }

    #[test]
    fn a_stored_price_needs_both_its_amount_and_its_currency() {
        let half = stored(
            "ProductRegistered",
            2,
            json!({ "sku": "MUG-1", "name": "Mug", "lowStockThreshold": 0,
                    "priceMinor": 1250, "currency": null }),
        );
        assert!(matches!(Event::decode(half), Err(Error::Schema(_))));
        let bad_currency = stored(
            "ProductRepriced",
            1,
            json!({ "priceMinor": 1250, "currency": "real" }),
        );
        assert!(matches!(Event::decode(bad_currency), Err(Error::Schema(_))));
    }

    #[test]
    fn a_stored_bad_sku_or_zero_quantity_is_a_schema_error() {
        let bad_sku = stored(
            "ProductRegistered",
            2,
            json!({ "sku": "no spaces", "name": "Mug", "lowStockThreshold": 0,
                    "priceMinor": null, "currency": null }),
        );
        assert!(matches!(Event::decode(bad_sku), Err(Error::Schema(_))));
        let zero = stored("StockRestocked", 1, json!({ "quantity": 0 }));
        assert!(matches!(Event::decode(zero), Err(Error::Schema(_))));
    }

    #[test]
    fn unknown_types_versions_and_shapes_are_schema_errors() {
        for event in [
            stored("StockVanished", 1, json!({})),
            stored("OrderPlaced", 1, json!({})),
            stored("StockRestocked", 2, json!({ "quantity": 3 })),
            stored("StockRestocked", 1, json!({ "qty": 3 })),
            stored("StockRestocked", 1, json!("3")),
            stored(
                "StockReserved",
                1,
                json!({ "orderId": "not-a-uuid", "quantity": 3 }),
            ),
        ] {
            let result = Event::decode(event.clone());
            assert!(
                matches!(result, Err(Error::Schema(_))),
                "{event:?}: {result:?}"
            );
        }
    }

    #[test]
    fn unknown_fields_are_ignored_so_additions_need_no_new_version() {
        let event = stored(
            "StockRestocked",
            1,
            json!({ "quantity": 3, "note": "pallet 7" }),
        );
        assert_eq!(
            Event::decode(event),
            Ok(Event::Restocked { quantity: qty(3) })
        );
    }
}
