//! The SKU format, checked the same way in paths and bodies.

use crate::error::ApiError;

/// Checks a SKU: 1 to 64 ASCII letters, digits, `-`, `_` and `.`.
///
/// # Errors
/// [`ApiError::Validation`] otherwise.
pub fn check(sku: &str) -> Result<(), ApiError> {
    domain::Sku::parse(sku)
        .map(|_| ())
        .map_err(|e| ApiError::Validation(format!("sku: {e}")))
}
