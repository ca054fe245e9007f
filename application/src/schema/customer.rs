//! The stored events of a customer (stream type `customer`, stream id the customer's id):
//! only the record of an erasure, which holds nothing personal. No aggregate decides them.

use domain::{CustomerId, Timestamp};
use serde::{Deserialize, Serialize};

use super::wire::Time;
use super::{EncodedEvent, Payload};

/// `CustomerErased` v1: the customer's data keys were destroyed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerErased {
    customer_id: String,
    keys_destroyed: u64,
    at: Time,
}

impl Payload for CustomerErased {
    const TYPE: &'static str = "CustomerErased";
    const VERSION: i32 = 1;
}

impl CustomerErased {
    /// The stream type of a customer's events.
    pub const STREAM_TYPE: &'static str = "customer";

    /// `customer`'s erasure at `at`, which destroyed `keys_destroyed` data keys.
    #[must_use]
    pub fn new(customer: &CustomerId, keys_destroyed: u64, at: Timestamp) -> Self {
        Self {
            customer_id: customer.as_str().to_owned(),
            keys_destroyed,
            at: Time(at),
        }
    }

    /// The event in its stored form.
    #[must_use]
    pub fn encode(&self) -> EncodedEvent {
        self.encoded()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::testing::stored;

    #[test]
    fn an_erasure_names_the_customer_and_nothing_they_wrote() {
        let erased = CustomerErased::new(
            &CustomerId::parse("ann").unwrap(),
            2,
            Timestamp::from_millis(1_767_225_600_000),
        );
        assert_eq!(
            erased.encode(),
            stored(
                "CustomerErased",
                1,
                json!({ "customerId": "ann", "keysDestroyed": 2, "at": "2026-01-01T00:00:00.000Z" })
            )
        );
    }
}
