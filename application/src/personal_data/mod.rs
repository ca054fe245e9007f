//! Customers' personal data in an append-only log, erasable by crypto-shredding.
//!
//! The personal fields of events (a ticket's subject, messages and resolution) are stored
//! encrypted with a data key of the customer they belong to ([`PersonalData::protect`]);
//! the keys live outside the log, themselves encrypted with a master key from the settings.
//! Erasing a customer ([`crate::Commands::erase_customer`]) destroys their keys: the ciphertext stays in the log,
//! where its hash chain still holds, and every read shows those fields as [`ERASED`].
//!
//! A protected value is a string `enc1:KEY:DATA`, where it was the plain text: read models
//! copy it as it is, and the readers reveal it ([`reveal_values`]) as they answer.

use std::fmt;

use async_trait::async_trait;
use serde_json::Value;

use crate::Error;
use crate::event_log::NewEvent;
use crate::schema::personal_fields;

/// What a value whose key was destroyed reads as.
pub const ERASED: &str = "[erased]";

/// How a protected value starts.
pub const PROTECTED_PREFIX: &str = "enc1:";

/// Where customers' data keys are kept, and what encrypts with them.
#[async_trait]
pub trait PersonalData: Send + Sync + fmt::Debug {
    /// `texts`, each encrypted under `customer`'s data key (made on first use).
    ///
    /// # Errors
    /// [`Error::Infrastructure`] when the key cannot be read or made.
    async fn protect(&self, customer: &str, texts: &[String]) -> Result<Vec<String>, Error>;

    /// `texts` in the plain: each protected one decrypted, or [`ERASED`] when its key was
    /// destroyed; any other as it is.
    ///
    /// # Errors
    /// [`Error::Infrastructure`] when the keys cannot be read, or one does not open with
    /// the master key (not the key the data was written with).
    async fn reveal(&self, texts: &[String]) -> Result<Vec<String>, Error>;

    /// Destroys every data key of `customer`; how many there were.
    ///
    /// # Errors
    /// [`Error::NotConfigured`] when no master key is configured; [`Error::Infrastructure`]
    /// when the keys cannot be written.
    async fn erase(&self, customer: &str) -> Result<u64, Error>;
}

/// No master key configured: personal fields are stored as they come, and nothing can be
/// erased. Values protected while a key was configured are shown as stored.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unprotected;

#[async_trait]
impl PersonalData for Unprotected {
    async fn protect(&self, _customer: &str, texts: &[String]) -> Result<Vec<String>, Error> {
        Ok(texts.to_vec())
    }

    async fn reveal(&self, texts: &[String]) -> Result<Vec<String>, Error> {
        Ok(texts.to_vec())
    }

    async fn erase(&self, _customer: &str) -> Result<u64, Error> {
        Err(Error::NotConfigured(
            "erasing a customer needs a data key: this server runs without --data-key, so \
             personal data is stored in the clear"
                .into(),
        ))
    }
}

/// Encrypts the personal fields of `events`, appended to a `stream_type` stream whose data
/// belongs to `customer`.
///
/// # Errors
/// Those of [`PersonalData::protect`].
pub async fn protect_events(
    personal: &dyn PersonalData,
    customer: &str,
    stream_type: &str,
    events: &mut [NewEvent],
) -> Result<(), Error> {
    for event in events {
        let fields = personal_fields(stream_type, &event.event_type);
        let Value::Object(payload) = &mut event.payload else {
            continue;
        };
        let present: Vec<&str> = fields
            .iter()
            .copied()
            .filter(|field| payload.get(*field).is_some_and(Value::is_string))
            .collect();
        if present.is_empty() {
            continue;
        }
        let texts: Vec<String> = present
            .iter()
            .filter_map(|field| {
                payload
                    .get(*field)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect();
        let protected = personal.protect(customer, &texts).await?;
        for (field, text) in present.into_iter().zip(protected) {
            payload.insert(field.to_owned(), Value::String(text));
        }
    }
    Ok(())
}

/// Reveals every protected string anywhere in `values`, with one call to `personal`.
///
/// # Errors
/// Those of [`PersonalData::reveal`].
pub async fn reveal_values(
    personal: &dyn PersonalData,
    values: &mut [&mut Value],
) -> Result<(), Error> {
    let mut found = Vec::new();
    for value in values.iter_mut() {
        collect(value, &mut found);
    }
    if found.is_empty() {
        return Ok(());
    }
    let texts: Vec<String> = found.iter().map(|text| (**text).clone()).collect();
    let revealed = personal.reveal(&texts).await?;
    for (slot, text) in found.into_iter().zip(revealed) {
        *slot = text;
    }
    Ok(())
}

/// Reveals the protected strings of `texts` in place, with one call to `personal`.
///
/// # Errors
/// Those of [`PersonalData::reveal`].
pub async fn reveal_texts(
    personal: &dyn PersonalData,
    texts: &mut [&mut String],
) -> Result<(), Error> {
    let found: Vec<usize> = (0..texts.len())
        .filter(|i| texts[*i].starts_with(PROTECTED_PREFIX))
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    let protected: Vec<String> = found.iter().map(|i| texts[*i].clone()).collect();
    let revealed = personal.reveal(&protected).await?;
    for (i, text) in found.into_iter().zip(revealed) {
        *texts[i] = text;
    }
    Ok(())
}

fn collect<'a>(value: &'a mut Value, found: &mut Vec<&'a mut String>) {
    match value {
        Value::String(text) if text.starts_with(PROTECTED_PREFIX) => found.push(text),
        Value::Array(items) => items.iter_mut().for_each(|item| collect(item, found)),
        Value::Object(fields) => fields.values_mut().for_each(|item| collect(item, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    /// Protects by prefixing the customer, reveals by erasing whatever names `gone`.
    #[derive(Debug)]
    struct Marked;

    #[async_trait]
    impl PersonalData for Marked {
        async fn protect(&self, customer: &str, texts: &[String]) -> Result<Vec<String>, Error> {
            Ok(texts
                .iter()
                .map(|t| format!("{PROTECTED_PREFIX}{customer}:{t}"))
                .collect())
        }
        async fn reveal(&self, texts: &[String]) -> Result<Vec<String>, Error> {
            Ok(texts
                .iter()
                .map(|t| match t.strip_prefix(PROTECTED_PREFIX) {
                    Some(rest) if rest.starts_with("gone:") => ERASED.to_owned(),
                    Some(rest) => rest.split_once(':').map_or(rest, |(_, t)| t).to_owned(),
                    None => t.clone(),
                })
                .collect())
        }
        async fn erase(&self, _: &str) -> Result<u64, Error> {
            Ok(1)
        }
    }

    fn event(event_type: &str, payload: Value) -> NewEvent {
        NewEvent {
            event_id: Uuid::nil(),
            event_type: event_type.into(),
            event_version: 1,
            payload,
        }
    }

    #[tokio::test]
    async fn only_the_personal_fields_of_ticket_events_are_protected_and_reveal_back() {
        let mut events = vec![
            event(
                "TicketOpened",
                json!({ "customerId": "ann", "subject": "Mug", "message": "Broken", "orderId": null }),
            ),
            event(
                "TicketMessagePosted",
                json!({ "author": { "id": "ann" }, "body": "Hi" }),
            ),
            event("TicketClosed", json!({ "resolution": "Refunded" })),
            event("TicketAssigned", json!({ "agentId": "bob" })),
        ];
        protect_events(&Marked, "ann", "ticket", &mut events)
            .await
            .unwrap();
        assert_eq!(events[0].payload["subject"], "enc1:ann:Mug");
        assert_eq!(events[0].payload["message"], "enc1:ann:Broken");
        assert_eq!(events[0].payload["customerId"], "ann");
        assert_eq!(events[1].payload["body"], "enc1:ann:Hi");
        assert_eq!(events[1].payload["author"]["id"], "ann");
        assert_eq!(events[2].payload["resolution"], "enc1:ann:Refunded");
        assert_eq!(events[3].payload["agentId"], "bob");

        let mut order = vec![event("OrderPlaced", json!({ "customerId": "ann" }))];
        protect_events(&Marked, "ann", "order", &mut order)
            .await
            .unwrap();
        assert_eq!(order[0].payload["customerId"], "ann");

        let mut shown = json!({ "a": [events[0].payload.clone()], "b": "enc1:gone:x" });
        reveal_values(&Marked, &mut [&mut shown]).await.unwrap();
        assert_eq!(shown["a"][0]["subject"], "Mug");
        assert_eq!(shown["b"], ERASED);
        let (mut one, mut two) = ("enc1:ann:Hello".to_owned(), "plain".to_owned());
        reveal_texts(&Marked, &mut [&mut one, &mut two])
            .await
            .unwrap();
        assert_eq!((one.as_str(), two.as_str()), ("Hello", "plain"));
    }
}
