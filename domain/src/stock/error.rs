//! Why a SKU's stock refuses a command.

use std::fmt;

use crate::{InvalidValue, OrderId};

/// A command the stock refuses, naming the situation. Running out of stock is not an error:
/// it is recorded as a `ReservationRejected` event so the saga can react to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The product is already registered.
    AlreadyRegistered,
    /// The product is not registered.
    NotRegistered,
    /// The product name is not usable.
    InvalidName(InvalidValue),
    /// The count would not fit in 32 bits.
    QuantityOverflow,
    /// A price must be more than zero.
    NonPositivePrice,
    /// The order holds no reservation here.
    NothingReserved {
        /// The order.
        order: OrderId,
    },
}

impl Error {
    /// The name of the rule that refused the command: the variant's name, e.g.
    /// `"AlreadyRegistered"`. Stable, so callers can report it as a reason code.
    #[must_use]
    pub const fn rule_name(&self) -> &'static str {
        match self {
            Self::AlreadyRegistered => "AlreadyRegistered",
            Self::NotRegistered => "NotRegistered",
            Self::InvalidName(_) => "InvalidName",
            Self::QuantityOverflow => "QuantityOverflow",
            Self::NonPositivePrice => "NonPositivePrice",
            Self::NothingReserved { .. } => "NothingReserved",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyRegistered => f.write_str("the product is already registered"),
            Self::NotRegistered => f.write_str("the product is not registered"),
            Self::InvalidName(why) => write!(f, "invalid product name: {why}"),
            Self::QuantityOverflow => f.write_str("the quantity on hand would be too large"),
            Self::NonPositivePrice => f.write_str("a price must be greater than zero"),
            Self::NothingReserved { order } => {
                write!(f, "order {order} has no reservation to commit")
            }
        }
    }
}

impl std::error::Error for Error {}
