//! Positive quantities of goods.

use std::fmt;

use super::InvalidValue;

/// A number of units, always at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quantity(u32);

impl Quantity {
    /// A quantity of `units`.
    ///
    /// # Errors
    /// [`InvalidValue::ZeroQuantity`] for zero.
    pub const fn new(units: u32) -> Result<Self, InvalidValue> {
        if units == 0 {
            Err(InvalidValue::ZeroQuantity)
        } else {
            Ok(Self(units))
        }
    }

    /// The number of units.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quantity_must_be_greater_than_zero() {
        assert_eq!(Quantity::new(0), Err(InvalidValue::ZeroQuantity));
        assert_eq!(Quantity::new(3).map(Quantity::get), Ok(3));
    }
}
