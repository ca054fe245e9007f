//! The domain aggregates as cqrs-es aggregates, and what the event store needs to load and
//! save them.
//!
//! The domain types cannot implement `cqrs_es::Aggregate` themselves (orphan rule, and the
//! domain has no serde), so each gets an adapter: a newtype over its state
//! ([`StockAggregate`]) and one over its event ([`StockEvent`]). The event newtype
//! (de)serialises through the versioned event schema, the state newtype through its
//! versioned snapshot shape.

mod order;
mod payment;
mod stock;
mod ticket;

use serde_json::Value;

use crate::Error;
use crate::schema::EncodedEvent;

pub use order::{OrderAggregate, OrderEvent};
pub use payment::{PaymentAggregate, PaymentEvent};
pub use stock::{StockAggregate, StockEvent};
pub use ticket::{TicketAggregate, TicketEvent};

/// An aggregate the event store can load and save: its events in their stored form, and its
/// state as a snapshot.
pub trait EventSourced: cqrs_es::Aggregate<Services = (), Error: Into<Error>> + Clone {
    /// The domain aggregate inside.
    type Domain: domain::Aggregate;

    /// The version of the snapshot shape [`EventSourced::snapshot`] writes. The store
    /// ignores snapshots of any other version and folds the events instead.
    const SNAPSHOT_SCHEMA: i32;

    /// An event in its stored form.
    fn encode(event: &Self::Event) -> EncodedEvent;

    /// The event a stored event describes. Upcast it first (see
    /// [`crate::schema::Upcasters`]).
    ///
    /// # Errors
    /// [`Error::Schema`] when the stored event does not decode.
    fn decode(event: EncodedEvent) -> Result<Self::Event, Error>;

    /// The state as a snapshot of shape [`EventSourced::SNAPSHOT_SCHEMA`].
    fn snapshot(&self) -> Value;

    /// The state a snapshot of shape [`EventSourced::SNAPSHOT_SCHEMA`] holds.
    ///
    /// # Errors
    /// [`Error::Schema`] when the snapshot does not decode.
    fn restore(snapshot: Value) -> Result<Self, Error>;

    /// The domain state.
    fn state(&self) -> &Self::Domain;

    /// Whether `command` starts its stream (placing an order, registering a product): the
    /// repository first decides it on an empty aggregate without loading the stream, and
    /// the append's head check sends it the loading way when the stream exists after all.
    fn starts_stream(command: &Self::Command) -> bool;

    /// The name of `command`, e.g. `Place`: a label of the command metrics.
    fn command_name(command: &Self::Command) -> &'static str;

    /// The customer whose personal data this aggregate's events hold, if any: the personal
    /// fields of its events are encrypted under that customer's data key.
    fn data_subject(&self) -> Option<String> {
        None
    }
}

/// Writes the adapter pair of one aggregate: the event newtype with its schema-backed serde
/// and `DomainEvent`, and the state newtype with its snapshot-backed serde,
/// `cqrs_es::Aggregate` and [`EventSourced`]. The invoking module supplies the snapshot
/// functions and version, and the command that starts a stream.
macro_rules! adapter {
    (
        $(#[$aggregate_doc:meta])*
        aggregate $aggregate:ident($state:ty);
        $(#[$event_doc:meta])*
        event $event:ident($domain_event:ty);
        command $command:ty;
        error $error:ty;
        snapshot $snapshot_schema:expr, $snapshot:path, $restore:path;
        starts $starts:path;
        $(subject $subject:path;)?
    ) => {
        $(#[$event_doc])*
        ///
        /// Serialises through the event schema as `{"type": .., "version": .., "payload": ..}`;
        /// deserialising expects the current version (it cannot upcast).
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $event(pub $domain_event);

        impl From<$domain_event> for $event {
            fn from(event: $domain_event) -> Self {
                Self(event)
            }
        }

        impl ::serde::Serialize for $event {
            fn serialize<S>(&self, serializer: S) -> Result<S::Ok, S::Error>
            where
                S: ::serde::Serializer,
            {
                let encoded = $crate::schema::EventSchema::encode(&self.0);
                ::serde::Serialize::serialize(&encoded, serializer)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $event {
            fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
            where
                D: ::serde::Deserializer<'de>,
            {
                let encoded: $crate::schema::EncodedEvent =
                    ::serde::Deserialize::deserialize(deserializer)?;
                <$domain_event as $crate::schema::EventSchema>::decode(encoded)
                    .map(Self)
                    .map_err(::serde::de::Error::custom)
            }
        }

        impl ::cqrs_es::DomainEvent for $event {
            fn event_type(&self) -> String {
                $crate::schema::EventSchema::event_type(&self.0).to_owned()
            }

            fn event_version(&self) -> String {
                $crate::schema::EventSchema::event_version(&self.0).to_string()
            }
        }

        $(#[$aggregate_doc])*
        ///
        /// Serialises through its snapshot shape.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $aggregate(pub $state);

        impl ::serde::Serialize for $aggregate {
            fn serialize<S>(&self, serializer: S) -> Result<S::Ok, S::Error>
            where
                S: ::serde::Serializer,
            {
                ::serde::Serialize::serialize(&$snapshot(&self.0), serializer)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $aggregate {
            fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
            where
                D: ::serde::Deserializer<'de>,
            {
                let snapshot: ::serde_json::Value =
                    ::serde::Deserialize::deserialize(deserializer)?;
                $restore(snapshot)
                    .map(Self)
                    .map_err(::serde::de::Error::custom)
            }
        }

        impl ::cqrs_es::Aggregate for $aggregate {
            const TYPE: &'static str =
                <$domain_event as $crate::schema::EventSchema>::STREAM_TYPE;
            type Command = $command;
            type Event = $event;
            type Error = $error;
            type Services = ();

            async fn handle(
                &mut self,
                command: $command,
                _services: &(),
                sink: &::cqrs_es::event_sink::EventSink<Self>,
            ) -> Result<(), $error> {
                let events = ::domain::Aggregate::decide(&self.0, command)?;
                for event in events {
                    // The sink applies the event to `self`.
                    sink.write($event(event), self).await;
                }
                Ok(())
            }

            fn apply(&mut self, event: $event) {
                ::domain::Aggregate::apply(&mut self.0, &event.0);
            }
        }

        impl $crate::aggregates::EventSourced for $aggregate {
            type Domain = $state;
            const SNAPSHOT_SCHEMA: i32 = $snapshot_schema;

            fn encode(event: &$event) -> $crate::schema::EncodedEvent {
                $crate::schema::EventSchema::encode(&event.0)
            }

            fn decode(event: $crate::schema::EncodedEvent) -> Result<$event, $crate::Error> {
                <$domain_event as $crate::schema::EventSchema>::decode(event).map($event)
            }

            fn snapshot(&self) -> ::serde_json::Value {
                $snapshot(&self.0)
            }

            fn restore(snapshot: ::serde_json::Value) -> Result<Self, $crate::Error> {
                $restore(snapshot).map(Self)
            }

            fn state(&self) -> &$state {
                &self.0
            }

            fn starts_stream(command: &$command) -> bool {
                matches!(command, $starts { .. })
            }

            fn command_name(command: &$command) -> &'static str {
                command.name()
            }

            $(
                fn data_subject(&self) -> Option<String> {
                    $subject(&self.0)
                }
            )?
        }
    };
}

use adapter;

/// Reads a snapshot value into its serde shape.
fn read_snapshot<T: serde::de::DeserializeOwned>(what: &str, snapshot: Value) -> Result<T, Error> {
    serde_json::from_value(snapshot)
        .map_err(|error| Error::Schema(format!("{what} snapshot: {error}")))
}

#[cfg(test)]
mod tests {
    use cqrs_es::Aggregate as _;
    use cqrs_es::event_sink::EventSink;
    use domain::{Quantity, Sku, stock};
    use serde_json::json;

    use super::*;

    fn registered() -> StockEvent {
        StockEvent(stock::Event::Registered {
            sku: Sku::parse("MUG-1").unwrap(),
            name: "Mug".into(),
            low_stock_threshold: 0,
            price: Some(domain::Money::new(
                1250,
                domain::Currency::parse("BRL").unwrap(),
            )),
        })
    }

    #[tokio::test]
    async fn handling_a_command_applies_each_event_once() {
        let mut aggregate = StockAggregate::default();
        aggregate.apply(registered());
        let sink = EventSink::default();
        aggregate
            .handle(
                stock::Command::Restock {
                    quantity: Quantity::new(3).unwrap(),
                },
                &(),
                &sink,
            )
            .await
            .unwrap();
        assert_eq!(sink.collect().await.len(), 1);
        assert_eq!(aggregate.state().on_hand(), 3);
    }

    #[test]
    fn an_event_serialises_as_type_version_and_payload_and_back() {
        let json = serde_json::to_value(registered()).unwrap();
        assert_eq!(
            json,
            json!({
                "type": "ProductRegistered",
                "version": 2,
                "payload": { "sku": "MUG-1", "name": "Mug", "lowStockThreshold": 0,
                             "priceMinor": 1250, "currency": "BRL" },
            })
        );
        assert_eq!(
            serde_json::from_value::<StockEvent>(json).unwrap(),
            registered()
        );
        let unknown = json!({ "type": "StockStolen", "version": 1, "payload": {} });
        assert!(serde_json::from_value::<StockEvent>(unknown).is_err());
    }

    #[test]
    fn event_type_and_version_are_the_schema_s() {
        use cqrs_es::DomainEvent as _;
        assert_eq!(registered().event_type(), "ProductRegistered");
        assert_eq!(registered().event_version(), "2");
        assert_eq!(StockAggregate::TYPE, "stock");
        assert_eq!(OrderAggregate::TYPE, "order");
        assert_eq!(PaymentAggregate::TYPE, "payment");
        assert_eq!(TicketAggregate::TYPE, "ticket");
    }

    #[test]
    fn a_refusal_becomes_a_rejection_through_the_trait_bound() {
        fn rejected<A: EventSourced>(error: A::Error) -> Error {
            error.into()
        }
        assert!(matches!(
            rejected::<StockAggregate>(stock::Error::NotRegistered),
            Error::Rejected(crate::Rejection::Stock(stock::Error::NotRegistered))
        ));
    }
}
