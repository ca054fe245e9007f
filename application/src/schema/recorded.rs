//! Stored events of any stream type back to domain events, through the upcasters and the
//! event schema: what the read side and the saga take in.

use domain::{order, payment, stock, ticket};

use crate::event_log::RecordedEvent;
use crate::{EncodedEvent, Error, EventSchema, Upcasters};

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

/// The domain event `event` records; `None` for a stream type domainflow does not know.
///
/// # Errors
/// [`Error::Schema`] when the event does not upcast or decode.
pub fn decode_recorded(
    event: &RecordedEvent,
    upcasters: &Upcasters,
) -> Result<Option<DomainEvent>, Error> {
    let stream_type = event.stream.stream_type.as_str();
    let encoded = || {
        upcasters.upcast(
            stream_type,
            EncodedEvent {
                event_type: event.event_type.clone(),
                event_version: event.event_version,
                payload: event.payload.clone(),
            },
        )
    };
    Ok(Some(match stream_type {
        "order" => DomainEvent::Order(order::Event::decode(encoded()?)?),
        "stock" => DomainEvent::Stock(stock::Event::decode(encoded()?)?),
        "payment" => DomainEvent::Payment(payment::Event::decode(encoded()?)?),
        "ticket" => DomainEvent::Ticket(ticket::Event::decode(encoded()?)?),
        _ => return Ok(None),
    }))
}
