//! An event as auditors see it: `position, streamType, streamId, version, eventId,
//! eventType, eventVersion, payload, metadata {correlationId, causationId, actor, commandId},
//! recordedAt, hash` (API.md, "Event (history)", with `eventId`, which a check of the hash
//! from the content needs). One type for the REST page, the NDJSON
//! lines (REST and `domainflow events export`) and GraphQL.

use application::event_log::RecordedEvent;
use application::schema::redact_tokens;
use async_graphql::{Json, SimpleObject};
use chrono::SecondsFormat;
use infrastructure::store::hash::hex;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// One event of the log.
#[derive(Debug, Clone, Serialize, ToSchema, SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "Event")]
pub struct Event {
    /// Its place in the global order: an opaque token, usable as `after`.
    pub position: String,
    /// `order`, `stock`, `payment` or `ticket`.
    pub stream_type: String,
    /// The aggregate id within its type (the SKU for `stock`, the order id for `payment`).
    pub stream_id: String,
    /// Its version within the stream (1-based).
    pub version: i64,
    /// Its id (a UUID): the message id of the integration event it gives, if any.
    pub event_id: String,
    /// Its type, e.g. `OrderPlaced`.
    pub event_type: String,
    /// The schema version of its payload.
    pub event_version: i32,
    /// The payload, as stored, except for a payment token an older version stored
    /// (`OrderPlaced` and `PaymentRequested` v1), which reads `"redacted"`.
    #[schema(value_type = Object)]
    pub payload: Json<Value>,
    /// True when the payload shows a redacted payment token: it is then not the content
    /// `hash` covers, and an offline check takes the event on its hash. Absent when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
    /// Who caused it and in which causal chain.
    pub metadata: EventMetadata,
    /// When it was appended (RFC 3339, microseconds).
    pub recorded_at: String,
    /// sha256 over the previous event's hash and this event's content (hex).
    pub hash: String,
}

/// Who caused an event and why.
#[derive(Debug, Clone, Serialize, ToSchema, SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct EventMetadata {
    /// The causal chain: every command and event of one order's fulfilment shares it.
    pub correlation_id: Option<String>,
    /// The event or command that caused this one, if any.
    pub causation_id: Option<String>,
    /// Who acted: a token subject, an API key's name, or `saga`.
    pub actor: Option<String>,
    /// The command that appended it.
    pub command_id: Option<String>,
    /// The `X-Correlation-Id` the client sent with the command, as it came (never the
    /// causal chain).
    pub client_correlation_id: Option<String>,
}

impl From<&Value> for EventMetadata {
    /// Read field by field: the log keeps whatever was stored, and shows it as it is.
    fn from(metadata: &Value) -> Self {
        let field = |name: &str| {
            metadata
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Self {
            correlation_id: field("correlationId"),
            causation_id: field("causationId"),
            actor: field("actor"),
            command_id: field("commandId"),
            client_correlation_id: field("clientCorrelationId"),
        }
    }
}

impl From<&RecordedEvent> for Event {
    fn from(event: &RecordedEvent) -> Self {
        let mut payload = event.payload.clone();
        let redacted = redact_tokens(
            &event.stream.stream_type,
            &event.event_type,
            event.event_version,
            &mut payload,
        );
        Self {
            position: event.position.token(),
            stream_type: event.stream.stream_type.clone(),
            stream_id: event.stream.stream_id.clone(),
            version: event.version,
            event_id: event.event_id.to_string(),
            event_type: event.event_type.clone(),
            event_version: event.event_version,
            payload: Json(payload),
            redacted,
            metadata: EventMetadata::from(&event.metadata),
            recorded_at: event
                .recorded_at
                .to_rfc3339_opts(SecondsFormat::Micros, true),
            hash: hex(&event.hash),
        }
    }
}

/// Appends `event` to `out` as one NDJSON line: its JSON and a newline.
pub fn write_line(event: &RecordedEvent, out: &mut Vec<u8>) {
    // Writing plain data into a Vec cannot fail.
    if serde_json::to_writer(&mut *out, &Event::from(event)).is_ok() {
        out.push(b'\n');
    }
}

/// Appends `seal` to `out` as one NDJSON line: `{"seal": {...}}`.
pub fn write_seal_line(seal: &infrastructure::seal::Seal, out: &mut Vec<u8>) {
    let line = serde_json::json!({ "seal": infrastructure::seal::SealRecord::from(seal) });
    if serde_json::to_writer(&mut *out, &line).is_ok() {
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use application::event_log::{Position, StreamRef};
    use chrono::DateTime;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    #[test]
    fn a_line_is_one_json_object_with_the_documented_fields() {
        let event = RecordedEvent {
            position: Position {
                transaction_id: 5,
                position: 9,
            },
            stream: StreamRef::new("stock", "MUG-1"),
            version: 2,
            event_id: Uuid::nil(),
            event_type: "StockRestocked".into(),
            event_version: 1,
            payload: json!({ "quantity": 3 }),
            metadata: json!({ "correlationId": "c", "actor": "ops", "commandId": "k",
                              "clientCorrelationId": "req-1" }),
            recorded_at: DateTime::UNIX_EPOCH,
            prev_hash: Vec::new(),
            hash: vec![0xab, 0x01],
        };
        let mut out = Vec::new();
        write_line(&event, &mut out);
        assert_eq!(out.last(), Some(&b'\n'));
        let line: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            line,
            json!({
                "position": Position { transaction_id: 5, position: 9 }.token(),
                "streamType": "stock",
                "streamId": "MUG-1",
                "version": 2,
                "eventId": Uuid::nil().to_string(),
                "eventType": "StockRestocked",
                "eventVersion": 1,
                "payload": { "quantity": 3 },
                "metadata": { "correlationId": "c", "causationId": null, "actor": "ops",
                              "commandId": "k", "clientCorrelationId": "req-1" },
                "recordedAt": "1970-01-01T00:00:00.000000Z",
                "hash": "ab01",
            })
        );
    }
}
