//! Where a payment stands.

use std::fmt;

use super::Event;

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
    /// The status a payment has after `event`; `None` when the event leaves it as it was
    /// (a deadline passing while the provider is still asked).
    #[must_use]
    pub const fn after(event: &Event) -> Option<Self> {
        match event {
            Event::Requested { .. } => Some(Self::Requested),
            Event::Authorized { .. } => Some(Self::Succeeded),
            Event::Declined { .. } => Some(Self::Declined),
            Event::FailedTransiently { .. } => Some(Self::FailedTransiently),
            Event::Expired => Some(Self::Expired),
            Event::Refunded { .. } => Some(Self::Refunded),
            Event::DeadlinePassed => None,
        }
    }

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
