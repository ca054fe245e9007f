//! Money as it crosses the wire: a decimal string plus a currency code.

use domain::{Currency, Money};
use rust_decimal::Decimal;

use crate::Error;

/// Parses `"12.50"` in `currency` into minor units. More decimals than the currency has,
/// a negative or non-numeric amount, or one that does not fit, is a validation error.
///
/// # Errors
/// [`Error::Validation`] naming what is wrong.
pub fn parse_amount(text: &str, currency: Currency) -> Result<Money, Error> {
    let amount: Decimal = text
        .trim()
        .parse()
        .map_err(|_| Error::Validation(format!("{text:?} is not a decimal amount")))?;
    let digits = currency.minor_digits();
    if amount.normalize().scale() > digits {
        return Err(Error::Validation(format!(
            "{text:?} has more decimals than {currency} allows ({digits})"
        )));
    }
    let minor = amount
        .checked_mul(Decimal::from(10_i64.pow(digits)))
        .and_then(|m| i64::try_from(m.trunc()).ok())
        .ok_or_else(|| Error::Validation(format!("{text:?} is too large")))?;
    Ok(Money::new(minor, currency))
}

/// Prints minor units as the decimal string clients see: `1250 BRL` → `"12.50"`.
#[must_use]
pub fn format_amount(money: Money) -> String {
    let mut decimal = Decimal::from(money.minor());
    // Scales above 28 do not exist for any currency.
    let _ = decimal.set_scale(money.currency().minor_digits());
    decimal.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brl() -> Currency {
        Currency::parse("BRL").unwrap()
    }

    #[test]
    fn decimal_strings_become_minor_units() {
        assert_eq!(parse_amount("12.50", brl()).unwrap().minor(), 1250);
        assert_eq!(parse_amount("12.5", brl()).unwrap().minor(), 1250);
        assert_eq!(parse_amount("7", brl()).unwrap().minor(), 700);
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(parse_amount("500", jpy).unwrap().minor(), 500);
    }

    #[test]
    fn more_decimals_than_the_currency_has_is_invalid() {
        assert!(parse_amount("12.505", brl()).is_err());
        assert!(parse_amount("1.5", Currency::parse("JPY").unwrap()).is_err());
        assert!(parse_amount("abc", brl()).is_err());
        assert!(parse_amount("99999999999999999999", brl()).is_err());
    }

    #[test]
    fn minor_units_print_with_the_currency_decimals() {
        assert_eq!(format_amount(Money::new(1250, brl())), "12.50");
        assert_eq!(format_amount(Money::new(5, brl())), "0.05");
    }
}
