//! The input limits of the mutations, the same the REST bodies enforce, so both transports
//! refuse the same requests with the same `VALIDATION` code. The text, identity, price and
//! currency checks are REST's own ([`crate::rest::command`]); the rest mirror the REST
//! bodies' checks for GraphQL's signed `Int` and its `ID`s.

use async_graphql::ID;
use uuid::Uuid;

use crate::error::ApiError;
pub use crate::rest::command::{check_currency, check_id, check_price, check_text};

/// The largest stock quantity (initial quantity, threshold, restock).
pub const MAX_STOCK_QUANTITY: i32 = 1_000_000_000;
/// The largest quantity of one order line.
pub const MAX_LINE_QUANTITY: i32 = 1_000_000;
/// The most lines an order may have.
pub const MAX_ORDER_LINES: usize = 100;

/// Checks a quantity is between `min` and `max` and returns it unsigned.
///
/// # Errors
/// [`ApiError::Validation`] otherwise.
pub fn check_quantity(field: &str, value: i32, min: i32, max: i32) -> Result<u32, ApiError> {
    if (min..=max).contains(&value)
        && let Ok(value) = u32::try_from(value)
    {
        return Ok(value);
    }
    Err(ApiError::Validation(format!(
        "{field} must be between {min} and {max}"
    )))
}

/// Parses an id that must be a UUID.
///
/// # Errors
/// [`ApiError::Validation`] when it is not one.
pub fn parse_uuid(field: &str, id: &ID) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| ApiError::Validation(format!("{field} must be a UUID")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_validation(result: Result<impl std::fmt::Debug, ApiError>) -> bool {
        matches!(result, Err(ApiError::Validation(_)))
    }

    #[test]
    fn quantities_are_bounded_and_unsigned() {
        assert_eq!(check_quantity("q", 0, 0, MAX_STOCK_QUANTITY).ok(), Some(0));
        assert_eq!(
            check_quantity("q", MAX_STOCK_QUANTITY, 1, MAX_STOCK_QUANTITY).ok(),
            Some(1_000_000_000)
        );
        assert!(is_validation(check_quantity("q", 0, 1, MAX_STOCK_QUANTITY)));
        assert!(is_validation(check_quantity(
            "q",
            -1,
            0,
            MAX_STOCK_QUANTITY
        )));
        assert!(is_validation(check_quantity(
            "q",
            MAX_STOCK_QUANTITY + 1,
            0,
            MAX_STOCK_QUANTITY
        )));
        assert!(is_validation(check_quantity(
            "q",
            MAX_LINE_QUANTITY + 1,
            1,
            MAX_LINE_QUANTITY
        )));
    }

    #[test]
    fn currencies_are_three_upper_case_letters() {
        assert!(check_currency("BRL").is_ok());
        assert!(is_validation(check_currency("brl")));
        assert!(is_validation(check_currency("BR")));
        assert!(is_validation(check_currency("BRLX")));
        assert!(is_validation(check_currency("B1L")));
    }

    #[test]
    fn ids_must_be_uuids() {
        let id = Uuid::now_v7();
        assert_eq!(parse_uuid("orderId", &ID(id.to_string())).ok(), Some(id));
        assert!(is_validation(parse_uuid("orderId", &ID("42".into()))));
    }
}
