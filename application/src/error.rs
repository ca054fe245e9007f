//! The application layer's one error type.

use domain::{InvalidValue, order, payment, stock, ticket};

/// Why a use case did not do what it was asked.
///
/// Each variant is one answer a caller can act on; the interface layer maps them to HTTP
/// statuses and GraphQL codes in one place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A domain rule refused the command. Nothing was recorded.
    #[error("{message}")]
    Rejected {
        /// The rule, named after the domain error variant (`"AlreadyCancelled"`); stable,
        /// reported to API clients as the reason code.
        rule: &'static str,
        /// The domain's explanation, fit for the client.
        message: String,
    },
    /// The input is malformed before any rule looks at it (a bad SKU, a zero quantity).
    #[error("invalid input: {0}")]
    Validation(String),
    /// An order line cannot be charged what the client stated: its unit price is not the
    /// catalog price, or the product is priced in another currency than the order.
    #[error("{0}")]
    PriceMismatch(String),
    /// The thing asked about does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, e.g. `order 0192…`.
        what: String,
    },
    /// Another command changed the stream first; deciding again on the new state may work.
    #[error("concurrency conflict on {stream}: it is no longer at version {expected_version}")]
    Conflict {
        /// The stream, `type/id`.
        stream: String,
        /// The version the command was decided on.
        expected_version: i64,
    },
    /// The caller may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Stored data (an event or a snapshot) does not decode: an unknown event type or
    /// version, a missing upcaster, or a value the domain refuses. Needs an operator.
    #[error("stored data does not decode: {0}")]
    Schema(String),
    /// The store or another dependency failed. The message is for the logs, not for clients.
    #[error("infrastructure failure: {0}")]
    Infrastructure(String),
    /// The database cannot be reached right now (a restart, a network cut, every connection
    /// busy): nothing was done, and the same request may succeed shortly.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
}

macro_rules! rejected_from {
    ($($error:ty),* $(,)?) => {$(
        impl From<$error> for Error {
            fn from(error: $error) -> Self {
                Self::Rejected {
                    rule: error.rule_name(),
                    message: error.to_string(),
                }
            }
        }
    )*};
}

rejected_from!(order::Error, stock::Error, payment::Error, ticket::Error);

impl From<order::PriceError> for Error {
    fn from(error: order::PriceError) -> Self {
        match error {
            order::PriceError::Mismatch { .. } | order::PriceError::CurrencyMismatch { .. } => {
                Self::PriceMismatch(error.to_string())
            }
            // Not the client's mistake to correct: the product needs a price first.
            order::PriceError::Unpriced { .. } => Self::Rejected {
                rule: error.rule_name(),
                message: error.to_string(),
            },
        }
    }
}

impl From<InvalidValue> for Error {
    fn from(error: InvalidValue) -> Self {
        Self::Validation(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_refusal_keeps_its_rule_name_and_message() {
        assert_eq!(
            Error::from(order::Error::AlreadyCancelled),
            Error::Rejected {
                rule: "AlreadyCancelled",
                message: "the order is already cancelled".into(),
            }
        );
        let error = Error::from(ticket::Error::InvalidMessage(InvalidValue::Empty {
            field: "message",
        }));
        assert!(matches!(
            error,
            Error::Rejected {
                rule: "InvalidMessage",
                ..
            }
        ));
    }
}
