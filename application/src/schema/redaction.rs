//! Payment tokens that older versions kept in the log. `OrderPlaced` v1 (`paymentToken`)
//! and `PaymentRequested` v1 (`token`) hold the customer's token itself; the log is append
//! only, so those stored bytes stay. Every read shows them redacted instead:
//! [`TokenRedacted`] brings them to v2 with a [`REDACTED`] payment method for the code that
//! decodes events, and [`redact_tokens`] blanks the token in place for the readers of the
//! stored form (the audit history and exports), which keep the stored version.

use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use serde_json::{Value, json};

/// What a redacted token reads as, and the reference and fingerprint of the payment method
/// a v1 event upcasts to. The provider knows no method by this reference, so a charge of an
/// order placed before the upgrade and not yet charged is declined: no money moves.
pub const REDACTED: &str = "redacted";

/// Where a v1 event kept the token: stream type, event type, payload field.
const TOKEN_FIELDS: [(&str, &str, &str); 2] = [
    ("order", "OrderPlaced", "paymentToken"),
    ("payment", "PaymentRequested", "token"),
];

/// The field holding a token in a stored event of this stream type, type and version, if
/// any.
fn token_field(stream_type: &str, event_type: &str, event_version: i32) -> Option<&'static str> {
    (event_version == 1)
        .then(|| {
            TOKEN_FIELDS
                .iter()
                .find(|(stream, kind, _)| *stream == stream_type && *kind == event_type)
        })
        .flatten()
        .map(|(_, _, field)| *field)
}

/// The field of a v1 event of this type holding a token, whatever its stream (the
/// upcasters are registered per stream type already).
fn any_token_field(event_type: &str) -> Option<&'static str> {
    TOKEN_FIELDS
        .iter()
        .find(|(_, kind, _)| *kind == event_type)
        .map(|(_, _, field)| *field)
}

/// Brings `OrderPlaced` and `PaymentRequested` v1 to v2: the token is dropped and the
/// payment method is [`REDACTED`].
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct TokenRedacted;

impl EventUpcaster for TokenRedacted {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        event_version == "1" && any_token_field(event_type).is_some()
    }

    fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        if let (Some(field), Value::Object(payload)) =
            (any_token_field(&event.event_type), &mut event.payload)
        {
            payload.remove(field);
            payload.insert(
                "paymentMethod".into(),
                json!({ "reference": REDACTED, "fingerprint": REDACTED }),
            );
        }
        event.event_version = "2".into();
        event
    }
}

/// Blanks the payment token of a stored event as it is shown (type, version and shape
/// unchanged; the token reads [`REDACTED`]). True when there was one: the payload shown is
/// then not the one the event's hash covers.
pub fn redact_tokens(
    stream_type: &str,
    event_type: &str,
    event_version: i32,
    payload: &mut Value,
) -> bool {
    match (token_field(stream_type, event_type, event_version), payload) {
        (Some(field), Value::Object(payload)) if payload.contains_key(field) => {
            payload.insert(field.into(), Value::String(REDACTED.into()));
            true
        }
        _ => false,
    }
}

/// Whether `payload`, of a stored event of this type and version, is one
/// [`redact_tokens`] made: an event that kept a token, showing it as [`REDACTED`].
#[must_use]
pub fn shows_redacted_token(
    stream_type: &str,
    event_type: &str,
    event_version: i32,
    payload: &Value,
) -> bool {
    token_field(stream_type, event_type, event_version)
        .is_some_and(|field| payload.get(field) == Some(&Value::String(REDACTED.into())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::testing::stored;
    use crate::schema::{EventSchema, Upcasters};

    fn placed_v1() -> crate::schema::EncodedEvent {
        stored(
            "OrderPlaced",
            1,
            json!({
                "orderId": "01923b4c-5d6e-7f80-9a1b-2c3d4e5f6a7b",
                "customerId": "alice",
                "currency": "BRL",
                "lines": [{ "sku": "MUG-1", "quantity": 1, "unitPriceMinor": 1250 }],
                "totalMinor": 1250,
                "paymentToken": "tok_secret",
                "at": "2026-01-01T00:00:00.000Z",
            }),
        )
    }

    #[test]
    fn a_stored_token_decodes_as_a_redacted_method() {
        let upcast = Upcasters::current().upcast("order", placed_v1()).unwrap();
        assert!(!upcast.payload.to_string().contains("tok_secret"));
        let Ok(domain::order::Event::Placed { payment, .. }) = domain::order::Event::decode(upcast)
        else {
            panic!("OrderPlaced v1 does not decode");
        };
        assert_eq!(
            (payment.reference(), payment.fingerprint()),
            (REDACTED, REDACTED)
        );
        let requested = stored(
            "PaymentRequested",
            1,
            json!({
                "orderId": "01923b4c-5d6e-7f80-9a1b-2c3d4e5f6a7b",
                "amountMinor": 1250,
                "currency": "BRL",
                "token": "tok_secret",
            }),
        );
        let upcast = Upcasters::current().upcast("payment", requested).unwrap();
        assert!(!upcast.payload.to_string().contains("tok_secret"));
        assert!(domain::payment::Event::decode(upcast).is_ok());
    }

    #[test]
    fn a_stored_token_is_shown_redacted_and_nothing_else_changes() {
        let mut shown = placed_v1().payload;
        assert!(!shows_redacted_token("order", "OrderPlaced", 1, &shown));
        assert!(!redact_tokens(
            "stock",
            "OrderPlaced",
            1,
            &mut shown.clone()
        ));
        assert!(redact_tokens("order", "OrderPlaced", 1, &mut shown));
        assert!(shows_redacted_token("order", "OrderPlaced", 1, &shown));
        assert!(!shows_redacted_token("order", "OrderPlaced", 2, &shown));
        assert!(!shows_redacted_token("payment", "OrderPlaced", 1, &shown));
        assert_eq!(shown["paymentToken"], json!(REDACTED));
        assert_eq!(shown["totalMinor"], json!(1250));
        let mut v2 = json!({ "paymentMethod": { "reference": "pm_1", "fingerprint": "f" } });
        assert!(!redact_tokens("order", "OrderPlaced", 2, &mut v2));
        let mut other = json!({ "token": "not a payment token" });
        assert!(!redact_tokens("ticket", "TicketOpened", 1, &mut other));
    }
}
