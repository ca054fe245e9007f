//! The audit trail's view of an aggregate: its state as it stood at a version or an instant,
//! folded from its stored events with the pure domain code through the same upcast and
//! decode path every command load takes ([`rehydrate`]).

use chrono::{DateTime, Utc};

use crate::event_log::{LoadedStream, RecordedEvent};
use crate::repository::rehydrate;
use crate::{Error, EventSourced, Upcasters};

/// Where to stop folding: at a version, at an instant, or at whichever comes first. With
/// neither, every event counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AsOf {
    /// The last version to fold.
    pub version: Option<i64>,
    /// Only events recorded at or before this instant.
    pub at: Option<DateTime<Utc>>,
}

impl AsOf {
    fn includes(&self, event: &RecordedEvent) -> bool {
        self.version.is_none_or(|version| event.version <= version)
            && self.at.is_none_or(|at| event.recorded_at <= at)
    }
}

/// An aggregate's state at a point of its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Past<A> {
    /// The state after the events folded.
    pub state: A,
    /// The version of the last event folded.
    pub version: i64,
    /// When the last event folded was recorded.
    pub recorded_at: DateTime<Utc>,
}

/// The state that `events` (one stream's, in version order, from version 1) describe up to
/// `as_of`; `None` when no event is that old.
///
/// # Errors
/// [`Error::Schema`] when an event does not upcast or decode.
pub fn state_as_of<A: EventSourced>(
    events: Vec<RecordedEvent>,
    as_of: &AsOf,
    upcasters: &Upcasters,
) -> Result<Option<Past<A>>, Error> {
    // Versions and recording times both grow along a stream: the prefix is what counts.
    let events: Vec<RecordedEvent> = events
        .into_iter()
        .take_while(|event| as_of.includes(event))
        .collect();
    let Some((version, recorded_at)) = events.last().map(|e| (e.version, e.recorded_at)) else {
        return Ok(None);
    };
    let loaded = LoadedStream {
        snapshot: None,
        events,
        head_hash: None,
    };
    Ok(Some(Past {
        state: rehydrate::<A>(&loaded, upcasters)?,
        version,
        recorded_at,
    }))
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::TicketAggregate;
    use crate::event_log::{Position, StreamRef};

    fn recorded(version: i64, event_type: &str, payload: serde_json::Value) -> RecordedEvent {
        RecordedEvent {
            position: Position {
                transaction_id: 1,
                position: version,
            },
            stream: StreamRef::new("ticket", "t"),
            version,
            event_id: Uuid::nil(),
            event_type: event_type.into(),
            event_version: 1,
            payload,
            metadata: json!({}),
            recorded_at: DateTime::<Utc>::UNIX_EPOCH + TimeDelta::seconds(version),
            prev_hash: Vec::new(),
            hash: Vec::new(),
        }
    }

    fn ticket_history() -> Vec<RecordedEvent> {
        let id = Uuid::from_u128(7);
        vec![
            recorded(
                1,
                "TicketOpened",
                json!({ "ticketId": id, "customerId": "alice", "subject": "Hi",
                        "message": "Hello", "at": "2026-01-01T00:00:00Z" }),
            ),
            recorded(
                2,
                "TicketClosed",
                json!({ "resolution": "Done", "at": "2026-01-01T00:00:01Z" }),
            ),
        ]
    }

    #[test]
    fn folding_stops_at_the_version_or_the_instant_asked_for() {
        let upcasters = Upcasters::current();
        let at = |as_of: AsOf| {
            state_as_of::<TicketAggregate>(ticket_history(), &as_of, &upcasters).unwrap()
        };
        let open = at(AsOf {
            version: Some(1),
            at: None,
        })
        .unwrap();
        assert_eq!((open.version, open.state.0.is_closed()), (1, false));
        let closed = at(AsOf::default()).unwrap();
        assert_eq!((closed.version, closed.state.0.is_closed()), (2, true));
        let by_time = at(AsOf {
            version: None,
            at: Some(open.recorded_at),
        })
        .unwrap();
        assert_eq!(by_time, open);
        assert!(
            at(AsOf {
                version: Some(0),
                at: None
            })
            .is_none()
        );
    }
}
