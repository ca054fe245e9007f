//! Bringing events stored in an older shape to the current one, with cqrs-es upcasters.

use std::collections::BTreeMap;
use std::fmt;

use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use serde_json::Value;

use super::EncodedEvent;
use super::redaction::TokenRedacted;
use super::stock::ProductRegisteredV1ToV2;
use crate::Error;

/// Runs every upcaster that accepts the event, in order, each on the previous one's output.
///
/// Upcasters see the event type, the version as a string (`1` becomes `"1"`) and the
/// payload; the other [`SerializedEvent`] fields are empty. The version they leave must be
/// an integer; `"2.0.0"` (what cqrs-es's `SemanticVersionEventUpcaster` writes) reads as 2.
///
/// # Errors
/// [`Error::Schema`] when an upcaster leaves a version that is not an integer.
pub fn upcast(
    event: EncodedEvent,
    upcasters: &[Box<dyn EventUpcaster>],
) -> Result<EncodedEvent, Error> {
    let serialized = SerializedEvent::new(
        String::new(),
        0,
        String::new(),
        event.event_type,
        event.event_version.to_string(),
        event.payload,
        Value::Null,
    );
    let upcast = upcasters.iter().fold(serialized, |event, upcaster| {
        if upcaster.can_upcast(&event.event_type, &event.event_version) {
            upcaster.upcast(event)
        } else {
            event
        }
    });
    let event_version = integer_version(&upcast.event_version).ok_or_else(|| {
        Error::Schema(format!(
            "an upcaster left {} at version {:?}, which is not an integer",
            upcast.event_type, upcast.event_version
        ))
    })?;
    Ok(EncodedEvent {
        event_type: upcast.event_type,
        event_version,
        payload: upcast.payload,
    })
}

/// `"3"`, `"3.0"` and `"3.0.0"` are 3; anything else is not an integer version.
fn integer_version(version: &str) -> Option<i32> {
    let mut parts = version.split('.');
    let major = parts.next()?.parse().ok()?;
    parts.all(|part| part.parse() == Ok(0_u32)).then_some(major)
}

/// The upcasters of each stream type, applied by the store to every event it loads.
#[derive(Default)]
pub struct Upcasters {
    by_stream: BTreeMap<String, Vec<Box<dyn EventUpcaster>>>,
}

impl Upcasters {
    /// The upcasters this version of domainflow needs. Register new ones here when a
    /// payload changes shape.
    #[must_use]
    pub fn current() -> Self {
        Self::default()
            .with("stock", Box::new(ProductRegisteredV1ToV2))
            .with("order", Box::new(TokenRedacted))
            .with("payment", Box::new(TokenRedacted))
    }

    /// Adds an upcaster for one stream type's events, run after those already added.
    #[must_use]
    pub fn with(mut self, stream_type: &str, upcaster: Box<dyn EventUpcaster>) -> Self {
        self.by_stream
            .entry(stream_type.to_owned())
            .or_default()
            .push(upcaster);
        self
    }

    /// The upcasters of one stream type, in the order they run.
    #[must_use]
    pub fn for_stream(&self, stream_type: &str) -> &[Box<dyn EventUpcaster>] {
        self.by_stream.get(stream_type).map_or(&[], Vec::as_slice)
    }

    /// Brings an event of `stream_type` to its current shape. See [`upcast`].
    ///
    /// # Errors
    /// [`Error::Schema`] when an upcaster leaves a version that is not an integer.
    pub fn upcast(&self, stream_type: &str, event: EncodedEvent) -> Result<EncodedEvent, Error> {
        upcast(event, self.for_stream(stream_type))
    }
}

impl fmt::Debug for Upcasters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.by_stream
                    .iter()
                    .map(|(stream, list)| (stream, list.len())),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::persist::SemanticVersionEventUpcaster;
    use domain::{Quantity, stock};
    use serde_json::json;

    use super::*;
    use crate::schema::EventSchema;
    use crate::schema::testing::stored;

    /// A made-up first shape of `StockRestocked`: `{"qty": 3}` at version 0.
    struct RestockedV0;

    impl EventUpcaster for RestockedV0 {
        fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
            event_type == "StockRestocked" && event_version == "0"
        }

        fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
            let qty = event.payload.get("qty").cloned().unwrap_or(Value::Null);
            event.payload = json!({ "quantity": qty });
            event.event_version = "1".into();
            event
        }
    }

    #[test]
    fn an_old_event_is_upcast_before_it_decodes() {
        let upcasters = Upcasters::current().with("stock", Box::new(RestockedV0));
        let old = stored("StockRestocked", 0, json!({ "qty": 3 }));

        assert!(stock::Event::decode(old.clone()).is_err());
        let current = upcasters.upcast(stock::Event::STREAM_TYPE, old).unwrap();
        assert_eq!(
            current,
            stored("StockRestocked", 1, json!({ "quantity": 3 }))
        );
        assert_eq!(
            stock::Event::decode(current),
            Ok(stock::Event::Restocked {
                quantity: Quantity::new(3).unwrap()
            })
        );
    }

    #[test]
    fn upcasters_of_other_streams_and_events_at_the_current_version_are_left_alone() {
        let upcasters = Upcasters::current().with("stock", Box::new(RestockedV0));
        let old = stored("StockRestocked", 0, json!({ "qty": 3 }));
        assert_eq!(upcasters.upcast("order", old.clone()).unwrap(), old);

        let current = stored("StockRestocked", 1, json!({ "quantity": 3 }));
        assert_eq!(upcasters.upcast("stock", current.clone()).unwrap(), current);
    }

    #[test]
    fn a_semantic_version_upcaster_reads_back_as_an_integer_version() {
        let rename = SemanticVersionEventUpcaster::new(
            "StockRestocked",
            "1",
            Box::new(|payload| json!({ "quantity": payload["qty"] })),
        );
        let upcasters: Vec<Box<dyn EventUpcaster>> = vec![Box::new(rename)];
        let current = upcast(stored("StockRestocked", 0, json!({ "qty": 3 })), &upcasters).unwrap();
        assert_eq!(
            current,
            stored("StockRestocked", 1, json!({ "quantity": 3 }))
        );
    }

    #[test]
    fn an_upcaster_that_leaves_a_non_integer_version_is_a_schema_error() {
        let odd = SemanticVersionEventUpcaster::new("StockRestocked", "1.2", Box::new(|p| p));
        let upcasters: Vec<Box<dyn EventUpcaster>> = vec![Box::new(odd)];
        let result = upcast(
            stored("StockRestocked", 1, json!({ "quantity": 3 })),
            &upcasters,
        );
        assert!(matches!(result, Err(Error::Schema(_))), "{result:?}");
    }

    #[test]
    fn versions_read_as_integers_only_when_minor_and_patch_are_zero() {
        assert_eq!(integer_version("3"), Some(3));
        assert_eq!(integer_version("3.0.0"), Some(3));
        assert_eq!(integer_version("3.1"), None);
        assert_eq!(integer_version("three"), None);
        assert_eq!(integer_version(""), None);
    }
}
