//! Stored events back to domain events, through the upcasters and the event schema.

use std::sync::LazyLock;

use application::event_log::RecordedEvent;
use application::{EncodedEvent, EventSchema, Upcasters};

use chrono::{DateTime, Utc};
use domain::{Timestamp, order, payment, stock, ticket};
use uuid::Uuid;

use crate::Error;

static UPCASTERS: LazyLock<Upcasters> = LazyLock::new(Upcasters::current);

/// A domain event of any stream type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    /// Of an `order` stream.
    Order(order::Event),
    /// Of a `stock` stream (id = SKU).
    Stock(stock::Event),
    /// Of a `payment` stream (id = order id).
    Payment(payment::Event),
    /// Of a `ticket` stream.
    Ticket(ticket::Event),
}

/// The domain event `event` records; `None` for a stream type no projection follows.
///
/// # Errors
/// [`Error::Application`] (`Schema`) when the event does not upcast or decode.
pub fn decode(event: &RecordedEvent) -> Result<Option<DomainEvent>, Error> {
    let stream_type = event.stream.stream_type.as_str();
    let encoded = || -> Result<EncodedEvent, Error> {
        let stored = EncodedEvent {
            event_type: event.event_type.clone(),
            event_version: event.event_version,
            payload: event.payload.clone(),
        };
        Ok(UPCASTERS.upcast(stream_type, stored)?)
    };
    Ok(Some(match stream_type {
        "order" => DomainEvent::Order(order::Event::decode(encoded()?)?),
        "stock" => DomainEvent::Stock(stock::Event::decode(encoded()?)?),
        "payment" => DomainEvent::Payment(payment::Event::decode(encoded()?)?),
        "ticket" => DomainEvent::Ticket(ticket::Event::decode(encoded()?)?),
        _ => return Ok(None),
    }))
}

/// A domain instant as a database one.
///
/// # Errors
/// [`Error::Unexpected`] for an instant chrono cannot represent.
pub fn instant(at: Timestamp) -> Result<DateTime<Utc>, Error> {
    DateTime::from_timestamp_millis(at.as_millis())
        .ok_or_else(|| Error::Unexpected(format!("instant {} ms out of range", at.as_millis())))
}

/// The id of the event's stream as a UUID (orders, payments and tickets).
///
/// # Errors
/// [`Error::Unexpected`] when the stream id is not a UUID.
pub fn stream_uuid(event: &RecordedEvent) -> Result<Uuid, Error> {
    Uuid::parse_str(&event.stream.stream_id)
        .map_err(|e| Error::Unexpected(format!("stream id {}: {e}", event.stream)))
}
