//! How a customer pays, as the log may keep it: the payment provider's reference to a
//! payment method registered with it, and a fingerprint that tells methods apart without
//! revealing them. The customer's token itself goes to the provider and is never kept.

use super::{InvalidValue, bounded_text};

/// The longest reference or fingerprint accepted, in characters.
const MAX_LEN: usize = 128;

/// A payment method registered with the provider.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PaymentMethod {
    reference: String,
    fingerprint: String,
}

impl PaymentMethod {
    /// The method the provider registered as `reference`, told apart by `fingerprint`.
    ///
    /// # Errors
    /// [`InvalidValue`] when either is empty, padded or longer than 128 characters.
    pub fn new(reference: &str, fingerprint: &str) -> Result<Self, InvalidValue> {
        Ok(Self {
            reference: bounded_text("payment method reference", reference, MAX_LEN)?,
            fingerprint: bounded_text("payment method fingerprint", fingerprint, MAX_LEN)?,
        })
    }

    /// The provider's reference, which charges name.
    #[must_use]
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// The fingerprint: equal for the same method, and no way back to it.
    #[must_use]
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_method_needs_a_reference_and_a_fingerprint() {
        let method = PaymentMethod::new("pm_1", "fp_a").unwrap();
        assert_eq!((method.reference(), method.fingerprint()), ("pm_1", "fp_a"));
        assert!(PaymentMethod::new("", "fp_a").is_err());
        assert!(PaymentMethod::new("pm_1", " ").is_err());
        assert!(PaymentMethod::new(&"p".repeat(129), "fp_a").is_err());
    }
}
