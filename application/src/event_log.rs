//! The shapes that cross the event-store port: what is appended, what is read back, and
//! where an event sits in the global order.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// One stream: an aggregate instance (`order` + id, `stock` + SKU, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StreamRef {
    /// The aggregate type: `order`, `stock`, `payment` or `ticket`.
    pub stream_type: String,
    /// The aggregate id within its type.
    pub stream_id: String,
}

impl StreamRef {
    /// The stream `stream_type/stream_id`.
    #[must_use]
    pub fn new(stream_type: impl Into<String>, stream_id: impl Into<String>) -> Self {
        Self {
            stream_type: stream_type.into(),
            stream_id: stream_id.into(),
        }
    }
}

impl std::fmt::Display for StreamRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.stream_type, self.stream_id)
    }
}

/// Who sent a command and why: stored with every event it caused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandMetadata {
    /// The command's own id: a repeat with the same id appends nothing.
    pub command_id: Uuid,
    /// The whole causal chain shares one correlation id (the customer's first command).
    pub correlation_id: Uuid,
    /// The event or command that caused this one, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    /// Who acted: a token subject, an API key's name, or `saga`.
    pub actor: String,
    /// The `X-Correlation-Id` the client sent with the request, kept as it came: a label
    /// of the client's for its own tracing, never the causal chain (`correlation_id`),
    /// which the server alone assigns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_correlation_id: Option<String>,
}

/// An event about to be appended, already encoded by the event schema.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// A fresh id (UUID v7).
    pub event_id: Uuid,
    /// The schema name, e.g. `StockReserved`.
    pub event_type: String,
    /// The schema version of the payload.
    pub event_version: i32,
    /// The payload.
    pub payload: Value,
}

/// A snapshot of an aggregate's state after `version` events.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// How many events the state folds.
    pub version: i64,
    /// The schema version of `state`; an older one is ignored on load.
    pub schema_version: i32,
    /// The serialised state.
    pub state: Value,
}

/// One command's events, appended atomically.
#[derive(Debug, Clone)]
pub struct Append {
    /// Where.
    pub stream: StreamRef,
    /// The stream's version the command was decided on (0 for a new stream).
    pub expected_version: i64,
    /// The hash of the event at `expected_version` (empty for a new stream), as loaded;
    /// `None` when unknown, and the store reads it first.
    pub head_hash: Option<Vec<u8>>,
    /// What happened, in order. Must not be empty.
    pub events: Vec<NewEvent>,
    /// Who and why, stored with each event.
    pub metadata: CommandMetadata,
    /// A snapshot to store with the events (its version is the stream's new version).
    pub snapshot: Option<Snapshot>,
}

/// Where a command's events landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The stream's version after the append.
    pub version: i64,
    /// The global position of the last event appended.
    pub position: Position,
}

/// A place in the global order: `(transaction_id, position)`.
///
/// Events are read in this order, and only below the oldest transaction still running, so
/// an event that commits late is never skipped. Clients see it as an opaque token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    /// The appending transaction's id (xid8).
    pub transaction_id: u64,
    /// The event's identity value.
    pub position: i64,
}

impl Position {
    /// Before the first event.
    pub const START: Self = Self {
        transaction_id: 0,
        position: 0,
    };

    /// The opaque token handed to clients.
    #[must_use]
    pub fn token(&self) -> String {
        format!("{:016x}{:016x}", self.transaction_id, self.position)
    }

    /// Reads a token made by [`Position::token`]; `None` for anything else.
    #[must_use]
    pub fn from_token(token: &str) -> Option<Self> {
        if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let transaction_id = u64::from_str_radix(&token[..16], 16).ok()?;
        let position = i64::from_str_radix(&token[16..], 16).ok()?;
        (position >= 0).then_some(Self {
            transaction_id,
            position,
        })
    }
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// Where it sits in the global order.
    pub position: Position,
    /// Its stream.
    pub stream: StreamRef,
    /// Its version within the stream (1-based).
    pub version: i64,
    /// Its id.
    pub event_id: Uuid,
    /// The schema name.
    pub event_type: String,
    /// The schema version of the payload.
    pub event_version: i32,
    /// The payload.
    pub payload: Value,
    /// Correlation id, causation id, actor, command id.
    pub metadata: Value,
    /// When it was appended.
    pub recorded_at: DateTime<Utc>,
    /// The hash of the previous event of the stream (empty for the first).
    pub prev_hash: Vec<u8>,
    /// sha256 over `prev_hash` and this event's canonical content.
    pub hash: Vec<u8>,
}

/// A stream's latest usable snapshot and the events after it.
#[derive(Debug, Clone, Default)]
pub struct LoadedStream {
    /// The snapshot, when one exists with the current schema version.
    pub snapshot: Option<Snapshot>,
    /// The events after the snapshot (all of them without one), in version order.
    pub events: Vec<RecordedEvent>,
    /// The hash of the stream's last event (empty for an empty stream); `None` when a
    /// snapshot taken before hashes were kept with snapshots has no tail.
    pub head_hash: Option<Vec<u8>>,
}

impl LoadedStream {
    /// The stream's version: the last event's, or the snapshot's when no event follows it.
    #[must_use]
    pub fn version(&self) -> i64 {
        self.events
            .last()
            .map(|e| e.version)
            .or_else(|| self.snapshot.as_ref().map(|s| s.version))
            .unwrap_or(0)
    }
}

/// The outcome of walking the hash chains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Integrity {
    /// Every link holds.
    Verified {
        /// Events checked.
        events: u64,
        /// Streams checked.
        streams: u64,
    },
    /// The first link that does not hold.
    Broken(BrokenLink),
}

/// Where a hash chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    /// The stream.
    pub stream: StreamRef,
    /// The version whose link fails.
    pub version: i64,
    /// What the hash should be, recomputed from what is stored (hex).
    pub expected: String,
    /// What is stored (hex).
    pub found: String,
    /// What kind of break: content changed, an event missing, or the chain relinked.
    pub problem: String,
}

impl std::fmt::Display for Integrity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Verified { events, streams } => {
                write!(f, "verified {events} events in {streams} streams")
            }
            Self::Broken(link) => write!(
                f,
                "broken link in {} at version {}: {} (expected hash {}, found {})",
                link.stream, link.version, link.problem, link.expected, link.found
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_token_round_trips_and_rejects_garbage() {
        let position = Position {
            transaction_id: 7_000_000_123,
            position: 42,
        };
        assert_eq!(Position::from_token(&position.token()), Some(position));
        assert_eq!(Position::from_token("not a token"), None);
        assert_eq!(Position::from_token(&"f".repeat(32)), None);
    }
}

/// A selection of the global order, for subscribers and auditors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadFilter {
    /// Only this stream type.
    pub stream_type: Option<String>,
    /// Only this stream id (with `stream_type`).
    pub stream_id: Option<String>,
    /// Only events of this causal chain.
    pub correlation_id: Option<Uuid>,
    /// Only events recorded at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only events recorded before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Only events this actor caused.
    pub actor: Option<String>,
    /// With `Some`, only the events of these stream types come with their payload and
    /// metadata; every other event comes as its header alone (position, stream, version,
    /// ids, type, hashes), with both `null`. For readers that must step past events they do
    /// not follow without the cost of shipping and decoding them.
    pub bodies_of: Option<Vec<String>>,
}
