//! Why a payment refuses a command.

use std::fmt;

use super::Status;

/// A command the payment refuses, naming the situation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A charge was already requested for this order.
    AlreadyRequested,
    /// No charge has been requested.
    NotRequested,
    /// The amount must be greater than zero.
    NonPositiveAmount,
    /// The payment already has its final answer.
    AlreadySettled {
        /// That answer.
        status: Status,
    },
    /// Only a captured payment can be refunded.
    NotCaptured,
    /// The payment was already refunded.
    AlreadyRefunded,
}

impl Error {
    /// The name of the rule that refused the command: the variant's name, e.g.
    /// `"AlreadyRequested"`. Stable, so callers can report it as a reason code.
    #[must_use]
    pub const fn rule_name(&self) -> &'static str {
        match self {
            Self::AlreadyRequested => "AlreadyRequested",
            Self::NotRequested => "NotRequested",
            Self::NonPositiveAmount => "NonPositiveAmount",
            Self::AlreadySettled { .. } => "AlreadySettled",
            Self::NotCaptured => "NotCaptured",
            Self::AlreadyRefunded => "AlreadyRefunded",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyRequested => f.write_str("the payment has already been requested"),
            Self::NotRequested => f.write_str("no payment has been requested"),
            Self::NonPositiveAmount => f.write_str("the amount must be greater than zero"),
            Self::AlreadySettled { status } => {
                write!(f, "the payment is already settled ({status})")
            }
            Self::NotCaptured => f.write_str("only a succeeded payment can be refunded"),
            Self::AlreadyRefunded => f.write_str("the payment has already been refunded"),
        }
    }
}

impl std::error::Error for Error {}
