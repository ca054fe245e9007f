//! ISO 4217 currency codes.

use std::fmt;

use super::InvalidValue;

/// A currency: three upper-case ASCII letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Validates a currency code.
    ///
    /// # Errors
    /// [`InvalidValue::BadCurrency`] unless it is three upper-case ASCII letters.
    pub fn parse(code: &str) -> Result<Self, InvalidValue> {
        match code.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err(InvalidValue::BadCurrency(code.to_owned())),
        }
    }

    /// The code as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// How many decimal digits the currency's minor unit has (2 for BRL, 0 for JPY, 3 for KWD).
    #[must_use]
    pub fn minor_digits(&self) -> u32 {
        match &self.0 {
            b"BIF" | b"CLP" | b"DJF" | b"GNF" | b"ISK" | b"JPY" | b"KMF" | b"KRW" | b"PYG"
            | b"RWF" | b"UGX" | b"UYI" | b"VND" | b"VUV" | b"XAF" | b"XOF" | b"XPF" => 0,
            b"BHD" | b"IQD" | b"JOD" | b"KWD" | b"LYD" | b"OMR" | b"TND" => 3,
            _ => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_currency_is_three_upper_case_letters() {
        assert!(Currency::parse("BRL").is_ok());
        assert!(Currency::parse("brl").is_err());
        assert!(Currency::parse("EURO").is_err());
        assert_eq!(Currency::parse("JPY").map(|c| c.minor_digits()), Ok(0));
    }
}
