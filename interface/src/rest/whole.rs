//! Whole numbers as JSON Schema sees them: `3` and `3.0` are the same integer.

use serde::{Deserialize, Deserializer, de::Error};

/// Reads a non-negative whole number that fits in `u32`, written with or without a zero
/// fraction.
///
/// # Errors
/// A serde error for fractions, negatives and numbers out of range.
pub fn u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    if let Some(n) = number.as_u64() {
        return u32::try_from(n).map_err(|_| D::Error::custom(format!("{n} is too large")));
    }
    match number.as_f64() {
        Some(f) if f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&f) => {
            // Checked just above: whole and within range.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(f as u32)
        }
        _ => Err(D::Error::custom(format!(
            "{number} is not a whole number from 0 to {}",
            u32::MAX
        ))),
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct Q {
        #[serde(deserialize_with = "super::u32")]
        n: u32,
    }

    fn n(json: &str) -> Result<u32, serde_json::Error> {
        serde_json::from_str::<Q>(json).map(|q| q.n)
    }

    #[test]
    fn integers_with_or_without_zero_fraction_are_read() {
        assert_eq!(n(r#"{"n": 3}"#).unwrap(), 3);
        assert_eq!(n(r#"{"n": 3.0}"#).unwrap(), 3);
        assert!(n(r#"{"n": 3.5}"#).is_err());
        assert!(n(r#"{"n": -1}"#).is_err());
        assert!(n(r#"{"n": 4294967296}"#).is_err());
    }
}
