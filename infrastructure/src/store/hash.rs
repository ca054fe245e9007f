//! The per-stream hash chain: each event's hash is sha256 over the previous event's hash and
//! the event's canonical content. Computed here for appends and recomputed here by
//! verification, from what is stored, so the two can never disagree.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What an event's hash covers.
#[derive(Debug, Clone, Copy)]
pub struct Content<'a> {
    /// The stream type.
    pub stream_type: &'a str,
    /// The stream id.
    pub stream_id: &'a str,
    /// The version within the stream.
    pub version: i64,
    /// The event id.
    pub event_id: Uuid,
    /// The schema name.
    pub event_type: &'a str,
    /// The schema version.
    pub event_version: i32,
    /// When it was recorded (microsecond precision, as stored).
    pub recorded_at: DateTime<Utc>,
    /// The metadata.
    pub metadata: &'a Value,
    /// The payload.
    pub payload: &'a Value,
}

/// sha256(`prev_hash` ‖ canonical content). Fields are separated by newlines, which none
/// of them holds raw: types are fixed names, stream ids are validated, JSON escapes control
/// characters. JSON is written canonically (object keys sorted, no spaces), so the hash of
/// an event read back from `jsonb` equals the hash computed before it was stored.
#[must_use]
pub fn event_hash(prev_hash: &[u8], content: &Content<'_>) -> Vec<u8> {
    let mut text = String::with_capacity(256);
    for field in [
        content.stream_type,
        content.stream_id,
        &content.version.to_string(),
        &content.event_id.to_string(),
        content.event_type,
        &content.event_version.to_string(),
        &content.recorded_at.timestamp_micros().to_string(),
    ] {
        text.push_str(field);
        text.push('\n');
    }
    canonical(content.metadata, &mut text);
    text.push('\n');
    canonical(content.payload, &mut text);
    Sha256::new()
        .chain_update(prev_hash)
        .chain_update(text.as_bytes())
        .finalize()
        .to_vec()
}

/// Writes `value` as JSON with object keys in byte order, whatever map type serde_json uses.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Lower-case hex.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let mut out = String::new();
        canonical(
            &json!({"b": 1, "a": {"d": [1, {"z": 0, "y": "é\n"}], "c": null}}),
            &mut out,
        );
        assert_eq!(out, r#"{"a":{"c":null,"d":[1,{"y":"é\n","z":0}]},"b":1}"#);
    }

    #[test]
    fn every_field_and_the_previous_hash_change_the_hash() {
        let metadata = json!({"actor": "a"});
        let payload = json!({"quantity": 1});
        let content = Content {
            stream_type: "stock",
            stream_id: "A",
            version: 1,
            event_id: Uuid::nil(),
            event_type: "StockRestocked",
            event_version: 1,
            recorded_at: DateTime::<Utc>::UNIX_EPOCH,
            metadata: &metadata,
            payload: &payload,
        };
        let base = event_hash(b"", &content);
        assert_eq!(base.len(), 32);
        assert_ne!(event_hash(b"x", &content), base);
        assert_ne!(
            event_hash(
                b"",
                &Content {
                    version: 2,
                    ..content
                }
            ),
            base
        );
        let other = json!({"quantity": 2});
        assert_ne!(
            event_hash(
                b"",
                &Content {
                    payload: &other,
                    ..content
                }
            ),
            base
        );
    }
}
