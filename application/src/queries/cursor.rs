//! Opaque list cursors: hex strings a client hands back as `after`.

use chrono::{DateTime, Datelike, Utc};
use uuid::Uuid;

/// A place in a list ordered by `(timestamp, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyCursor {
    /// The row's timestamp (`placed_at`, `opened_at`), microsecond precision.
    pub at: DateTime<Utc>,
    /// The row's id.
    pub id: Uuid,
}

impl KeyCursor {
    /// The opaque form: 48 hex digits.
    #[must_use]
    pub fn encode(&self) -> String {
        let mut out = format!("{:016x}", self.at.timestamp_micros().cast_unsigned());
        out.push_str(&self.id.simple().to_string());
        out
    }

    /// Reads [`KeyCursor::encode`]'s form; `None` for anything else.
    #[must_use]
    pub fn decode(raw: &str) -> Option<Self> {
        if raw.len() != 48 || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let micros = u64::from_str_radix(&raw[..16], 16).ok()?.cast_signed();
        let at = DateTime::from_timestamp_micros(micros)?;
        // Only instants PostgreSQL's timestamptz holds (and every row's is in this range).
        if !(1..=9999).contains(&at.year()) {
            return None;
        }
        let id = Uuid::parse_str(&raw[16..]).ok()?;
        Some(Self { at, id })
    }
}

/// A place in the product list: the SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuCursor(pub String);

impl SkuCursor {
    /// The opaque form: the SKU's bytes in hex, after `s`.
    #[must_use]
    pub fn encode(&self) -> String {
        let mut out = String::from("s");
        for byte in self.0.bytes() {
            out.push_str(&format!("{byte:02x}"));
        }
        out
    }

    /// Reads [`SkuCursor::encode`]'s form; `None` for anything else.
    #[must_use]
    pub fn decode(raw: &str) -> Option<Self> {
        let hex = raw.strip_prefix('s')?;
        if hex.is_empty() || hex.len() % 2 != 0 || hex.len() > 256 {
            return None;
        }
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        // Only a SKU: anything else (a NUL, say) is no place in the list.
        let sku = String::from_utf8(bytes).ok()?;
        domain::Sku::parse(&sku).ok().map(|_| Self(sku))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let key = KeyCursor {
            at: DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
            id: Uuid::now_v7(),
        };
        assert_eq!(KeyCursor::decode(&key.encode()), Some(key));
        assert_eq!(KeyCursor::decode("nope"), None);
        let sku = SkuCursor("ABC-1.x_".into());
        assert_eq!(SkuCursor::decode(&sku.encode()), Some(sku));
        assert_eq!(SkuCursor::decode("s4"), None);
        assert_eq!(SkuCursor::decode("s00"), None, "a NUL is no SKU");
        let far = format!("{:016x}{}", i64::MAX / 2, Uuid::nil().simple());
        assert_eq!(
            KeyCursor::decode(&far),
            None,
            "beyond PostgreSQL's timestamps"
        );
        assert_eq!(SkuCursor::decode("zz"), None);
    }
}
