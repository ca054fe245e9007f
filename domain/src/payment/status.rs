//! Where a payment stands.

use std::fmt;

/// The lifecycle of a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Status {
    /// Nothing requested yet.
    #[default]
    NotRequested,
    /// Requested; waiting for the provider.
    Requested,
    /// The last attempt failed for a passing reason; another attempt may follow.
    FailedTransiently,
    /// Authorized and captured.
    Succeeded,
    /// The provider said no.
    Declined,
    /// No answer came before the deadline; the payment was given up.
    Expired,
    /// The captured amount was paid back.
    Refunded,
}

impl Status {
    /// The status name used on the wire. A transient failure and an expiry both read
    /// `FAILED`; the first may still turn into `SUCCEEDED`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotRequested => "NOT_REQUESTED",
            Self::Requested => "REQUESTED",
            Self::FailedTransiently | Self::Expired => "FAILED",
            Self::Succeeded => "SUCCEEDED",
            Self::Declined => "DECLINED",
            Self::Refunded => "REFUNDED",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
