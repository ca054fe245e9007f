//! The persisted shape of every event, in one place: its public type name, its version and
//! its JSON payload.
//!
//! The store keeps `event_type`, `event_version` and `payload` in separate columns, so a
//! payload never repeats its type. Payloads are camelCase JSON an auditor can read: ids as
//! UUID strings, money as integer minor units beside an ISO currency code, instants as RFC 3339.
//!
//! Each event type's payload is a serde struct per version (`StockReservedV1`). Unknown
//! fields are ignored, so adding a field needs no new version; renaming or reshaping one
//! does, together with an upcaster ([`Upcasters`]) that brings the old stored shape to the
//! current one before [`EventSchema::decode`] sees it.

mod customer;
mod order;
mod payment;
mod recorded;
mod redaction;
mod stock;
mod ticket;
mod upcast;
pub(crate) mod wire;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Error;

pub use customer::CustomerErased;
pub use recorded::{DomainEvent, decode_recorded};
pub use redaction::{REDACTED, redact_tokens, shows_redacted_token};
pub use upcast::{Upcasters, upcast};

/// The payload fields of `event_type`, of a `stream_type` stream, that hold a customer's
/// personal data (none for most).
#[must_use]
pub fn personal_fields(stream_type: &str, event_type: &str) -> &'static [&'static str] {
    if stream_type != <domain::ticket::Event as EventSchema>::STREAM_TYPE {
        return &[];
    }
    ticket::PERSONAL
        .iter()
        .find(|(kind, _)| *kind == event_type)
        .map_or(&[], |(_, fields)| fields)
}

/// An event as it is stored: type name, payload version and payload.
///
/// Serialises as `{"type": "StockReserved", "version": 1, "payload": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncodedEvent {
    /// The public event type name, e.g. `StockReserved`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The version of the payload's shape.
    #[serde(rename = "version")]
    pub event_version: i32,
    /// The payload, without the type.
    pub payload: Value,
}

/// The stored form of one aggregate's domain events.
pub trait EventSchema: Sized {
    /// The public stream type name: `order`, `stock`, `payment` or `ticket`.
    const STREAM_TYPE: &'static str;

    /// The event's public type name, e.g. `StockReserved`.
    fn event_type(&self) -> &'static str;

    /// The version [`EventSchema::encode`] writes for this event's type.
    fn event_version(&self) -> i32;

    /// The event in its current stored form.
    fn encode(&self) -> EncodedEvent;

    /// The domain event a stored event describes. Expects the current version: upcast older
    /// ones first.
    ///
    /// # Errors
    /// [`Error::Schema`] for a type this stream does not have, a version that is not the
    /// current one, a payload of the wrong shape, or a value the domain refuses (a bad SKU
    /// or currency).
    fn decode(event: EncodedEvent) -> Result<Self, Error>;
}

/// One version of one event type's payload.
pub(crate) trait Payload: Serialize + DeserializeOwned {
    /// The public event type name.
    const TYPE: &'static str;
    /// The version this struct is.
    const VERSION: i32;

    /// The payload as a stored event.
    fn encoded(&self) -> EncodedEvent {
        EncodedEvent {
            event_type: Self::TYPE.to_owned(),
            event_version: Self::VERSION,
            payload: wire::to_json(self),
        }
    }

    /// Reads the payload of a stored event already known to be of this type.
    fn read(event: EncodedEvent) -> Result<Self, Error> {
        if event.event_version != Self::VERSION {
            return Err(Error::Schema(format!(
                "{} version {} is unknown (the current version is {}): no upcaster brought it \
                 to the current shape",
                Self::TYPE,
                event.event_version,
                Self::VERSION
            )));
        }
        serde_json::from_value(event.payload).map_err(|error| {
            Error::Schema(format!(
                "{} version {} payload: {error}",
                Self::TYPE,
                Self::VERSION
            ))
        })
    }
}

/// The type name and current version of payload `P`.
pub(crate) fn kind<P: Payload>() -> (&'static str, i32) {
    (P::TYPE, P::VERSION)
}

/// The error for a stored event whose type `E`'s stream does not have.
pub(crate) fn unknown_type<E: EventSchema>(event: &EncodedEvent) -> Error {
    Error::Schema(format!(
        "{:?} is not an event type of {} streams",
        event.event_type,
        E::STREAM_TYPE
    ))
}

#[cfg(test)]
pub(crate) mod testing {
    //! Checks every schema module's round-trip tests share.

    use std::fmt::Debug;

    use super::{EncodedEvent, EventSchema};

    /// Encodes each event, checks the stored type and version agree with the event's own,
    /// decodes it back to itself, and returns the type names seen.
    #[track_caller]
    pub(crate) fn round_trip<E>(events: &[E]) -> Vec<&'static str>
    where
        E: EventSchema + Debug + PartialEq,
    {
        events
            .iter()
            .map(|event| {
                let encoded = event.encode();
                assert_eq!(encoded.event_type, event.event_type());
                assert_eq!(encoded.event_version, event.event_version());
                assert!(encoded.payload.is_object(), "{encoded:?}");
                let decoded = E::decode(encoded.clone());
                assert_eq!(decoded.as_ref(), Ok(event), "{encoded:?}");
                event.event_type()
            })
            .collect()
    }

    /// A stored event, for tests that start from JSON.
    pub(crate) fn stored(
        event_type: &str,
        event_version: i32,
        payload: serde_json::Value,
    ) -> EncodedEvent {
        EncodedEvent {
            event_type: event_type.to_owned(),
            event_version,
            payload,
        }
    }
}
