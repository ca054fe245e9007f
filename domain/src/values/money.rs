//! Amounts of money in integer minor units.

use std::fmt;

use super::{Currency, Quantity};

/// An amount in minor units (cents for BRL) of one currency. Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// `minor` units of `currency`.
    #[must_use]
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// The amount in minor units.
    #[must_use]
    pub const fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    #[must_use]
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// `self × quantity`, or `None` when it does not fit in 64 bits.
    #[must_use]
    pub fn times(&self, quantity: Quantity) -> Option<Self> {
        self.minor
            .checked_mul(i64::from(quantity.get()))
            .map(|minor| Self::new(minor, self.currency))
    }

    /// `self + other`, or `None` when the currencies differ or the sum does not fit.
    #[must_use]
    pub fn plus(&self, other: Self) -> Option<Self> {
        if self.currency != other.currency {
            return None;
        }
        self.minor
            .checked_add(other.minor)
            .map(|minor| Self::new(minor, self.currency))
    }
}

/// Prints `1250 BRL` as `12.50 BRL`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.currency.minor_digits();
        let scale = 10_u64.pow(digits);
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if digits == 0 {
            write!(f, "{sign}{abs} {}", self.currency)
        } else {
            let width = digits as usize;
            write!(
                f,
                "{sign}{}.{:0width$} {}",
                abs / scale,
                abs % scale,
                self.currency
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brl(minor: i64) -> Money {
        Money::new(minor, Currency::parse("BRL").unwrap())
    }

    #[test]
    fn money_prints_in_major_units() {
        assert_eq!(brl(1250).to_string(), "12.50 BRL");
        assert_eq!(brl(-5).to_string(), "-0.05 BRL");
    }

    #[test]
    fn arithmetic_that_overflows_answers_none() {
        assert_eq!(brl(i64::MAX).times(Quantity::new(2).unwrap()), None);
        assert_eq!(brl(i64::MAX).plus(brl(1)), None);
        assert_eq!(brl(2).plus(brl(3)), Some(brl(5)));
    }

    #[test]
    fn different_currencies_do_not_add() {
        let usd = Money::new(1, Currency::parse("USD").unwrap());
        assert_eq!(brl(1).plus(usd), None);
    }
}
