//! The application layer's one error type.

use domain::{InvalidValue, order, payment, stock, ticket};

/// Why a use case did not do what it was asked.
///
/// Each variant is one answer a caller can act on; the interface layer maps them to HTTP
/// statuses and GraphQL codes in one place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A domain rule refused the command. Nothing was recorded. The refusal stays the
    /// domain's own typed error, so callers match its variants, never its text.
    #[error(transparent)]
    Rejected(Rejection),
    /// The input is malformed before any rule looks at it (a bad SKU, a zero quantity).
    #[error("invalid input: {0}")]
    Validation(String),
    /// An order line cannot be charged what the client stated: its unit price is not the
    /// catalog price, or the product is priced in another currency than the order.
    #[error(transparent)]
    PriceMismatch(order::PriceError),
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
    /// No credential, or one that does not hold. The texts are fixed and never echo the
    /// credential.
    #[error(transparent)]
    Unauthenticated(#[from] Unauthenticated),
    /// The same work is already under way (a rebuild of the projection, say); nothing was
    /// started.
    #[error("{0}")]
    Busy(String),
    /// The same idempotency key came with a different request.
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyMismatch,
    /// A read model did not reach the requested position in time (or the position names no
    /// event).
    #[error("the read model has not caught up with the requested position")]
    Stale,
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
    /// The database or the payment provider cannot be reached right now (a restart, a
    /// network cut, every connection busy): nothing was done, and the same request may
    /// succeed shortly.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The server was not set up for what was asked (erasing a customer without a data
    /// key): nothing was done. The message is for the client, and names the setting.
    #[error("{0}")]
    NotConfigured(String),
    /// The server sheds load: new orders wait while fulfilment is too far behind. Nothing
    /// was done; the message is for the client, who may try again shortly.
    #[error("{0}")]
    Overloaded(String),
}

/// `error` with its causes, outermost first, for the logs: `a: b: c`. A cause whose text
/// the message already holds is not repeated.
#[must_use]
pub fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let said = inner.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = inner.source();
    }
    text
}

/// Why a caller is not authenticated: all verdicts on the caller, safe to show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unauthenticated {
    /// Neither a bearer token nor an API key was presented.
    #[error("missing credentials: send `Authorization: Bearer <token>` or `X-Api-Key`")]
    Missing,
    /// The credential is malformed, forged, unknown or revoked. The reason is a fixed text.
    #[error("invalid credentials: {0}")]
    Invalid(&'static str),
    /// The token was genuine but its `exp` has passed.
    #[error("expired credentials")]
    Expired,
}

/// A domain rule's refusal, as the aggregate that refused it said it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// An order's rule.
    #[error(transparent)]
    Order(order::Error),
    /// A product's stock rule.
    #[error(transparent)]
    Stock(stock::Error),
    /// A payment's rule.
    #[error(transparent)]
    Payment(payment::Error),
    /// A ticket's rule.
    #[error(transparent)]
    Ticket(ticket::Error),
    /// A catalog rule: the product has no price yet.
    #[error(transparent)]
    Price(order::PriceError),
}

impl Rejection {
    /// The rule, named after the domain error variant (`"AlreadyCancelled"`); stable,
    /// reported to API clients as the reason code.
    #[must_use]
    pub const fn rule(&self) -> &'static str {
        match self {
            Self::Order(error) => error.rule_name(),
            Self::Stock(error) => error.rule_name(),
            Self::Payment(error) => error.rule_name(),
            Self::Ticket(error) => error.rule_name(),
            Self::Price(error) => error.rule_name(),
        }
    }
}

macro_rules! rejected_from {
    ($($error:ty => $variant:ident),* $(,)?) => {$(
        impl From<$error> for Error {
            fn from(error: $error) -> Self {
                Self::Rejected(Rejection::$variant(error))
            }
        }
    )*};
}

rejected_from!(
    order::Error => Order,
    stock::Error => Stock,
    payment::Error => Payment,
    ticket::Error => Ticket,
);

impl From<order::PriceError> for Error {
    fn from(error: order::PriceError) -> Self {
        match error {
            order::PriceError::Mismatch { .. } | order::PriceError::CurrencyMismatch { .. } => {
                Self::PriceMismatch(error)
            }
            // Not the client's mistake to correct: the product needs a price first.
            order::PriceError::Unpriced { .. } => Self::Rejected(Rejection::Price(error)),
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
    fn a_domain_refusal_stays_typed_with_its_rule_name_and_message() {
        let error = Error::from(order::Error::AlreadyCancelled);
        assert_eq!(
            error,
            Error::Rejected(Rejection::Order(order::Error::AlreadyCancelled))
        );
        assert_eq!(error.to_string(), "the order is already cancelled");
        let error = Error::from(ticket::Error::InvalidMessage(InvalidValue::Empty {
            field: "message",
        }));
        assert!(matches!(error, Error::Rejected(r) if r.rule() == "InvalidMessage"));
    }

    #[derive(Debug, thiserror::Error)]
    #[error("reading the log")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("database: {0}")]
    struct Middle(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("connection reset")]
    struct Inner;

    #[test]
    fn causes_follow_the_message_once_each() {
        assert_eq!(
            with_causes(&Outer(Middle(Inner))),
            "reading the log: database: connection reset"
        );
        assert_eq!(with_causes(&Inner), "connection reset");
    }
}
