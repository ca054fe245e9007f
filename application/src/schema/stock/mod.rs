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
mod tests;
