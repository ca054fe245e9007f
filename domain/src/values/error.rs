//! Why a raw value could not become a value object.

use std::fmt;

/// A raw value that does not make a valid value object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidValue {
    /// A text that must say something was empty or only whitespace.
    Empty {
        /// Which value.
        field: &'static str,
    },
    /// A text was longer than allowed.
    TooLong {
        /// Which value.
        field: &'static str,
        /// Its length in characters.
        length: usize,
        /// The most allowed.
        max: usize,
    },
    /// A text held characters it may not hold.
    BadCharacters {
        /// Which value.
        field: &'static str,
        /// What is allowed.
        allowed: &'static str,
    },
    /// A quantity was zero.
    ZeroQuantity,
    /// A currency code was not three upper-case letters.
    BadCurrency(String),
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty { field } => write!(f, "{field} must not be empty"),
            Self::TooLong { field, length, max } => {
                write!(
                    f,
                    "{field} has {length} characters, at most {max} are allowed"
                )
            }
            Self::BadCharacters { field, allowed } => {
                write!(f, "{field} may only contain {allowed}")
            }
            Self::ZeroQuantity => f.write_str("quantity must be greater than zero"),
            Self::BadCurrency(code) => {
                write!(f, "currency {code:?} is not a three-letter ISO 4217 code")
            }
        }
    }
}

impl std::error::Error for InvalidValue {}
