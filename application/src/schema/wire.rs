//! Conversions between domain values and their stored JSON form, shared by event payloads
//! and snapshots. Reading validates: stored data the domain would refuse is a
//! [`Error::Schema`], never a panic.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::Error;
use domain::order::CancellationReason;
use domain::{
    AgentId, Currency, CustomerId, InvalidValue, Money, OrderId, PaymentMethod, Quantity, Sku,
    TicketId, Timestamp,
};
use uuid::Uuid;

/// A [`Timestamp`] on the wire: an RFC 3339 UTC string with milliseconds
/// (`2026-01-31T12:00:00.000Z`).
///
/// An instant outside chrono's range (beyond ±262,000 years) is written as integer
/// milliseconds instead, so encoding never fails and never loses the value; both forms read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Time(pub(crate) Timestamp);

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let millis = self.0.as_millis();
        match DateTime::<Utc>::from_timestamp_millis(millis) {
            Some(at) => serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true)),
            None => serializer.serialize_i64(millis),
        }
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Millis(i64),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Text(text) => DateTime::parse_from_rfc3339(&text)
                .map(|at| Self(Timestamp::from_millis(at.timestamp_millis())))
                .map_err(|error| D::Error::custom(format!("instant {text:?}: {error}"))),
            Raw::Millis(millis) => Ok(Self(Timestamp::from_millis(millis))),
        }
    }
}

impl From<Timestamp> for Time {
    fn from(at: Timestamp) -> Self {
        Self(at)
    }
}

/// `value` as JSON. Our payload and snapshot structs hold only strings, numbers, booleans
/// and nested structs and lists of those, which always serialise; should one ever fail,
/// the stored value says why (and will not decode) instead of the process panicking.
pub(crate) fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|error| {
        tracing::error!(%error, "a value could not be serialised to JSON");
        Value::Object(serde_json::Map::from_iter([(
            "unencodable".to_owned(),
            Value::String(error.to_string()),
        )]))
    })
}

/// An order id as the UUID it is on the wire.
pub(crate) fn order_uuid(id: OrderId) -> Uuid {
    Uuid::from_u128(id.as_u128())
}

/// The order id a stored UUID names.
pub(crate) fn order_id(id: Uuid) -> OrderId {
    OrderId::from_u128(id.as_u128())
}

/// A ticket id as the UUID it is on the wire.
pub(crate) fn ticket_uuid(id: TicketId) -> Uuid {
    Uuid::from_u128(id.as_u128())
}

/// The ticket id a stored UUID names.
pub(crate) fn ticket_id(id: Uuid) -> TicketId {
    TicketId::from_u128(id.as_u128())
}

/// A stored cancellation reason, by its wire name (`OUT_OF_STOCK`).
pub(crate) fn cancellation_reason(name: &str) -> Result<CancellationReason, Error> {
    CancellationReason::from_name(name)
        .ok_or_else(|| Error::Schema(format!("stored cancellation reason {name:?} is not known")))
}

fn refused(what: &str, raw: impl std::fmt::Debug, why: &InvalidValue) -> Error {
    Error::Schema(format!("stored {what} {raw:?} is invalid: {why}"))
}

/// A stored SKU.
pub(crate) fn sku(raw: &str) -> Result<Sku, Error> {
    Sku::parse(raw).map_err(|why| refused("SKU", raw, &why))
}

/// A stored currency code.
pub(crate) fn currency(raw: &str) -> Result<Currency, Error> {
    Currency::parse(raw).map_err(|why| refused("currency", raw, &why))
}

/// A stored amount of money.
pub(crate) fn money(minor: i64, currency_code: &str) -> Result<Money, Error> {
    Ok(Money::new(minor, currency(currency_code)?))
}

/// A [`PaymentMethod`] on the wire: `{"reference": "pm_…", "fingerprint": "…"}`. Never the
/// customer's token, which the provider keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Method {
    reference: String,
    fingerprint: String,
}

impl From<&PaymentMethod> for Method {
    fn from(method: &PaymentMethod) -> Self {
        Self {
            reference: method.reference().to_owned(),
            fingerprint: method.fingerprint().to_owned(),
        }
    }
}

impl Method {
    /// The method this names.
    pub(crate) fn read(self) -> Result<PaymentMethod, Error> {
        PaymentMethod::new(&self.reference, &self.fingerprint)
            .map_err(|why| refused("payment method", &self.reference, &why))
    }
}

/// A stored quantity.
pub(crate) fn quantity(units: u32) -> Result<Quantity, Error> {
    Quantity::new(units).map_err(|why| refused("quantity", units, &why))
}

/// A stored customer id.
pub(crate) fn customer(raw: &str) -> Result<CustomerId, Error> {
    CustomerId::parse(raw).map_err(|why| refused("customer id", raw, &why))
}

/// A stored agent id.
pub(crate) fn agent(raw: &str) -> Result<AgentId, Error> {
    AgentId::parse(raw).map_err(|why| refused("agent id", raw, &why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_rfc_3339_with_milliseconds_and_read_back() {
        let at = Time(Timestamp::from_millis(1_767_225_600_123));
        let json = serde_json::to_value(at).unwrap();
        assert_eq!(json, "2026-01-01T00:00:00.123Z");
        assert_eq!(serde_json::from_value::<Time>(json).unwrap(), at);
        let offset: Time = serde_json::from_value("2026-01-01T01:00:00.123+01:00".into()).unwrap();
        assert_eq!(offset, at);
    }

    #[test]
    fn an_instant_chrono_cannot_print_is_kept_as_milliseconds() {
        let far = Time(Timestamp::from_millis(i64::MAX));
        let json = serde_json::to_value(far).unwrap();
        assert_eq!(json, i64::MAX);
        assert_eq!(serde_json::from_value::<Time>(json).unwrap(), far);
    }

    #[test]
    fn a_malformed_instant_is_an_error() {
        assert!(serde_json::from_value::<Time>("yesterday".into()).is_err());
    }

    #[test]
    fn stored_values_the_domain_refuses_are_schema_errors() {
        assert!(matches!(sku("a/b"), Err(Error::Schema(_))));
        assert!(matches!(currency("brl"), Err(Error::Schema(_))));
        assert!(matches!(quantity(0), Err(Error::Schema(_))));
        assert!(matches!(customer(""), Err(Error::Schema(_))));
    }
}
