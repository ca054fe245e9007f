//! Why an order refuses a command.

use std::fmt;

use crate::{Currency, InvalidValue, Sku};

/// A command the order refuses, naming the situation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The order already exists.
    AlreadyPlaced,
    /// The order does not exist yet.
    NotPlaced,
    /// An order needs at least one line.
    NoLines,
    /// More lines than allowed.
    TooManyLines {
        /// Lines given.
        count: usize,
        /// Lines allowed.
        max: usize,
    },
    /// A line is priced in another currency than the order.
    CurrencyMismatch {
        /// The order's currency.
        expected: Currency,
        /// The line's currency.
        found: Currency,
    },
    /// A unit price was zero or negative.
    NonPositivePrice {
        /// The line's SKU.
        sku: Sku,
    },
    /// The same SKU appears on two lines.
    DuplicateSku {
        /// The repeated SKU.
        sku: Sku,
    },
    /// A line total or the order total does not fit in 64-bit minor units.
    AmountOverflow,
    /// The payment token is not usable.
    InvalidPaymentToken(InvalidValue),
    /// The SKU is not on any line of the order.
    UnknownLine {
        /// The SKU.
        sku: Sku,
    },
    /// Lines are still waiting for their stock.
    NotFullyReserved {
        /// How many lines.
        missing: usize,
    },
    /// The payment has not succeeded.
    NotPaid,
    /// The order is already confirmed.
    AlreadyConfirmed,
    /// The order is not confirmed, so it cannot ship.
    NotConfirmed,
    /// The order is cancelled.
    AlreadyCancelled,
    /// The order is shipped.
    AlreadyShipped,
}

impl Error {
    /// The name of the rule that refused the command: the variant's name, e.g.
    /// `"AlreadyPlaced"`. Stable, so callers can report it as a reason code.
    #[must_use]
    pub const fn rule_name(&self) -> &'static str {
        match self {
            Self::AlreadyPlaced => "AlreadyPlaced",
            Self::NotPlaced => "NotPlaced",
            Self::NoLines => "NoLines",
            Self::TooManyLines { .. } => "TooManyLines",
            Self::CurrencyMismatch { .. } => "CurrencyMismatch",
            Self::NonPositivePrice { .. } => "NonPositivePrice",
            Self::DuplicateSku { .. } => "DuplicateSku",
            Self::AmountOverflow => "AmountOverflow",
            Self::InvalidPaymentToken(_) => "InvalidPaymentToken",
            Self::UnknownLine { .. } => "UnknownLine",
            Self::NotFullyReserved { .. } => "NotFullyReserved",
            Self::NotPaid => "NotPaid",
            Self::AlreadyConfirmed => "AlreadyConfirmed",
            Self::NotConfirmed => "NotConfirmed",
            Self::AlreadyCancelled => "AlreadyCancelled",
            Self::AlreadyShipped => "AlreadyShipped",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyPlaced => f.write_str("the order has already been placed"),
            Self::NotPlaced => f.write_str("the order has not been placed"),
            Self::NoLines => f.write_str("an order needs at least one line"),
            Self::TooManyLines { count, max } => {
                write!(
                    f,
                    "an order may have at most {max} lines, this one has {count}"
                )
            }
            Self::CurrencyMismatch { expected, found } => {
                write!(f, "every line must be priced in {expected}, found {found}")
            }
            Self::NonPositivePrice { sku } => {
                write!(f, "the unit price of {sku} must be greater than zero")
            }
            Self::DuplicateSku { sku } => write!(f, "{sku} appears on more than one line"),
            Self::AmountOverflow => f.write_str("the order total is too large"),
            Self::InvalidPaymentToken(why) => write!(f, "invalid payment token: {why}"),
            Self::UnknownLine { sku } => write!(f, "the order has no line for {sku}"),
            Self::NotFullyReserved { missing } => {
                write!(f, "{missing} line(s) are not reserved yet")
            }
            Self::NotPaid => f.write_str("the payment has not succeeded"),
            Self::AlreadyConfirmed => f.write_str("the order is already confirmed"),
            Self::NotConfirmed => f.write_str("only a confirmed order can be shipped"),
            Self::AlreadyCancelled => f.write_str("the order is already cancelled"),
            Self::AlreadyShipped => f.write_str("the order is already shipped"),
        }
    }
}

impl std::error::Error for Error {}
