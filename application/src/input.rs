//! The checks of raw input every transport makes the same way, with the same messages: the
//! limits the OpenAPI document and the GraphQL schema state for text, identities, prices
//! and currencies. A failed check is [`Error::Validation`] naming the field.

use uuid::Uuid;

use crate::Error;

/// The largest stock quantity (initial quantity, threshold, restock).
pub const MAX_STOCK_QUANTITY: u32 = 1_000_000_000;
/// The largest quantity of one order line.
pub const MAX_LINE_QUANTITY: u32 = 1_000_000;
/// The most lines an order may have.
pub const MAX_ORDER_LINES: usize = domain::order::MAX_LINES;

/// Checks a text field's length in characters.
///
/// # Errors
/// [`Error::Validation`] when it is shorter than `min` or longer than `max`.
pub fn check_len(field: &str, value: &str, min: usize, max: usize) -> Result<(), Error> {
    let length = value.chars().count();
    if length < min || length > max {
        return Err(Error::Validation(format!(
            "{field} must have between {min} and {max} characters, it has {length}"
        )));
    }
    Ok(())
}

/// Checks free text the way the domain will: 1 to `max` characters, not blank, no control
/// characters other than line breaks and tabs (the OpenAPI pattern says the same).
///
/// # Errors
/// [`Error::Validation`] naming the field.
pub fn check_text(field: &str, value: &str, max: usize) -> Result<(), Error> {
    check_len(field, value, 1, max)?;
    if value.trim().is_empty() {
        return Err(Error::Validation(format!("{field} must not be blank")));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(Error::Validation(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(())
}

/// Checks an identity (customer or agent id): 1 to 128 characters, no whitespace, no
/// control characters.
///
/// # Errors
/// [`Error::Validation`] naming the field.
pub fn check_id(field: &str, value: &str) -> Result<(), Error> {
    check_len(field, value, 1, 128)?;
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::Validation(format!(
            "{field} must not contain whitespace or control characters"
        )));
    }
    Ok(())
}

/// Checks a price field (`unitPrice`, `price`): a positive decimal with at most 15 integer
/// digits and two decimals (currencies with other minor units are checked again when
/// parsed).
///
/// # Errors
/// [`Error::Validation`].
pub fn check_price(field: &str, value: &str) -> Result<(), Error> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let valid = (1..=15).contains(&whole.len())
        && digits(whole)
        && (!value.contains('.') || (1..=2).contains(&fraction.len()))
        && digits(fraction)
        && value.bytes().any(|b| (b'1'..=b'9').contains(&b));
    if valid {
        Ok(())
    } else {
        Err(Error::Validation(format!(
            "{field} {value:?} must be a positive decimal like \"12.50\""
        )))
    }
}

/// Checks a currency code: three upper-case ASCII letters.
///
/// # Errors
/// [`Error::Validation`] otherwise.
pub fn check_currency(currency: &str) -> Result<(), Error> {
    if currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(Error::Validation(
            "currency must be three upper-case letters".into(),
        ))
    }
}

/// Checks a quantity is between `min` and `max`.
///
/// # Errors
/// [`Error::Validation`] otherwise.
pub fn check_quantity(field: &str, value: u32, min: u32, max: u32) -> Result<u32, Error> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(Error::Validation(format!(
            "{field} must be between {min} and {max}"
        )))
    }
}

/// Checks an order has 1 to [`MAX_ORDER_LINES`] lines.
///
/// # Errors
/// [`Error::Validation`] otherwise.
pub fn check_line_count(lines: usize) -> Result<(), Error> {
    if (1..=MAX_ORDER_LINES).contains(&lines) {
        Ok(())
    } else {
        Err(Error::Validation(format!(
            "lines must hold 1 to {MAX_ORDER_LINES} lines"
        )))
    }
}

/// Parses a position token (an event's `position`, a command's answer) given as `field`.
///
/// # Errors
/// [`Error::Validation`] when it is not one.
pub fn parse_position(field: &str, token: &str) -> Result<crate::event_log::Position, Error> {
    crate::event_log::Position::from_token(token)
        .ok_or_else(|| Error::Validation(format!("{field} is not a position token")))
}

/// Parses an id that must be a UUID.
///
/// # Errors
/// [`Error::Validation`] when it is not one.
pub fn parse_uuid(field: &str, id: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(id).map_err(|_| Error::Validation(format!("{field} must be a UUID")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_validation<T: std::fmt::Debug>(result: Result<T, Error>) -> bool {
        matches!(result, Err(Error::Validation(_)))
    }

    #[test]
    fn quantities_are_bounded() {
        assert_eq!(check_quantity("q", 0, 0, MAX_STOCK_QUANTITY).ok(), Some(0));
        assert_eq!(
            check_quantity("q", MAX_STOCK_QUANTITY, 1, MAX_STOCK_QUANTITY).ok(),
            Some(1_000_000_000)
        );
        assert!(is_validation(check_quantity("q", 0, 1, MAX_STOCK_QUANTITY)));
        let over = MAX_STOCK_QUANTITY + 1;
        assert!(is_validation(check_quantity(
            "q",
            over,
            0,
            MAX_STOCK_QUANTITY
        )));
        let over = MAX_LINE_QUANTITY + 1;
        assert!(is_validation(check_quantity(
            "q",
            over,
            1,
            MAX_LINE_QUANTITY
        )));
    }

    #[test]
    fn currencies_are_three_upper_case_letters() {
        assert!(check_currency("BRL").is_ok());
        for bad in ["brl", "BR", "BRLX", "B1L"] {
            assert!(is_validation(check_currency(bad)), "{bad}");
        }
    }

    #[test]
    fn ids_must_be_uuids() {
        let id = Uuid::now_v7();
        assert_eq!(parse_uuid("orderId", &id.to_string()).ok(), Some(id));
        assert!(is_validation(parse_uuid("orderId", "42")));
    }

    #[test]
    fn orders_hold_one_to_a_hundred_lines() {
        assert!(check_line_count(1).is_ok() && check_line_count(MAX_ORDER_LINES).is_ok());
        assert!(is_validation(check_line_count(0)));
        assert!(is_validation(check_line_count(MAX_ORDER_LINES + 1)));
    }
}
