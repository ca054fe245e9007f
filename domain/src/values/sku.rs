//! Stock keeping units.

use std::fmt;

use super::InvalidValue;

/// A stock keeping unit: 1 to 64 characters of ASCII letters, digits, `-`, `_` and `.`.
///
/// The alphabet is narrow on purpose: a SKU is also the id of its stock stream and appears
/// in URLs, so it never needs escaping.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sku(String);

impl Sku {
    /// The longest SKU accepted.
    pub const MAX_LEN: usize = 64;

    /// Validates a SKU.
    ///
    /// # Errors
    /// [`InvalidValue`] when it is empty, too long or holds other characters.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if raw.is_empty() {
            return Err(InvalidValue::Empty { field: "sku" });
        }
        if raw.len() > Self::MAX_LEN {
            return Err(InvalidValue::TooLong {
                field: "sku",
                length: raw.chars().count(),
                max: Self::MAX_LEN,
            });
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(InvalidValue::BadCharacters {
                field: "sku",
                allowed: "ASCII letters, digits, '-', '_' and '.'",
            });
        }
        Ok(Self(raw.to_owned()))
    }

    /// The SKU as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sku_accepts_letters_digits_and_separators_only() {
        assert!(Sku::parse("ABC-1_2.x").is_ok());
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse("a/b").is_err());
        assert!(Sku::parse(&"x".repeat(65)).is_err());
    }
}
