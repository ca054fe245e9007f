//! Stored events back to domain events, through the upcasters and the event schema.

use std::sync::LazyLock;

pub use application::DomainEvent;
use application::event_log::RecordedEvent;
use application::{Upcasters, decode_recorded};

use chrono::{DateTime, Utc};
use domain::Timestamp;
use uuid::Uuid;

use crate::Error;

static UPCASTERS: LazyLock<Upcasters> = LazyLock::new(Upcasters::current);

/// The domain event `event` records; `None` for a stream type no projection follows.
///
/// # Errors
/// [`Error::Application`] (`Schema`) when the event does not upcast or decode.
pub fn decode(event: &RecordedEvent) -> Result<Option<DomainEvent>, Error> {
    Ok(decode_recorded(event, &UPCASTERS)?)
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
