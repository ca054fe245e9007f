//! What each command's input must meet before it is decided: one list per command, checked
//! the same way whichever transport carried it (REST bodies, GraphQL inputs). A failure is
//! [`Error::Validation`] naming the first field out of bounds, in the order listed here.

use super::{OpenTicket, PlaceOrder, RegisterProduct, RepriceProduct};
use crate::Error;
use crate::input::{
    MAX_LINE_QUANTITY, MAX_STOCK_QUANTITY, check_currency, check_id, check_line_count, check_price,
    check_quantity, check_text,
};
use crate::queries::sku;
use domain::order::MAX_PAYMENT_TOKEN_LEN;
use domain::stock::MAX_NAME_LEN;
use domain::ticket::{MAX_MESSAGE_LEN, MAX_RESOLUTION_LEN, MAX_SUBJECT_LEN};

impl RegisterProduct {
    /// Checks the SKU, name, quantities, price and currency.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the first field out of bounds.
    pub fn check(self) -> Result<Self, Error> {
        sku(&self.sku)?;
        check_text("name", &self.name, MAX_NAME_LEN)?;
        stock_quantity("initialQuantity", self.initial_quantity, 0)?;
        stock_quantity("lowStockThreshold", self.low_stock_threshold, 0)?;
        check_price("price", &self.price)?;
        check_currency(&self.currency)?;
        Ok(self)
    }
}

impl RepriceProduct {
    /// Checks the SKU, then the new price and its currency ([`RepriceProduct::check_price`]).
    ///
    /// # Errors
    /// [`Error::Validation`] naming the first field out of bounds.
    pub fn check(self) -> Result<Self, Error> {
        sku(&self.sku)?;
        Self::check_price(&self.price, self.currency.as_deref())?;
        Ok(self)
    }

    /// Checks a new price and its currency, when one is given.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the first field out of bounds.
    pub fn check_price(price: &str, currency: Option<&str>) -> Result<(), Error> {
        check_price("price", price)?;
        currency.map_or(Ok(()), check_currency)
    }
}

/// Checks how many units arrive with a restock.
///
/// # Errors
/// [`Error::Validation`] for a quantity out of bounds.
pub fn restock_quantity(quantity: u32) -> Result<u32, Error> {
    stock_quantity("quantity", quantity, 1)
}

impl PlaceOrder {
    /// Checks the customer, currency, lines (each SKU, quantity and stated price) and
    /// payment token.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the first field out of bounds.
    pub fn check(self) -> Result<Self, Error> {
        if let Some(customer) = &self.customer_id {
            check_id("customerId", customer)?;
        }
        check_currency(&self.currency)?;
        check_line_count(self.lines.len())?;
        for line in &self.lines {
            sku(&line.sku)?;
            check_quantity("quantity", line.quantity, 1, MAX_LINE_QUANTITY)?;
            if let Some(price) = &line.unit_price {
                check_price("unitPrice", price)?;
            }
        }
        check_text("paymentToken", &self.payment_token, MAX_PAYMENT_TOKEN_LEN)?;
        Ok(self)
    }
}

impl OpenTicket {
    /// Checks the customer, subject and first message.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the first field out of bounds.
    pub fn check(self) -> Result<Self, Error> {
        if let Some(customer) = &self.customer_id {
            check_id("customerId", customer)?;
        }
        check_text("subject", &self.subject, MAX_SUBJECT_LEN)?;
        check_text("message", &self.message, MAX_MESSAGE_LEN)?;
        Ok(self)
    }
}

/// Checks a message for a ticket's thread.
///
/// # Errors
/// [`Error::Validation`] for a blank, too long or control-laden text.
pub fn ticket_message(body: String) -> Result<String, Error> {
    check_text("body", &body, MAX_MESSAGE_LEN)?;
    Ok(body)
}

/// Checks the agent a ticket is assigned to.
///
/// # Errors
/// [`Error::Validation`] for an id that is empty, too long or holds spaces or controls.
pub fn agent(agent: String) -> Result<String, Error> {
    check_id("agentId", &agent)?;
    Ok(agent)
}

/// Checks how a ticket was resolved.
///
/// # Errors
/// [`Error::Validation`] for a blank, too long or control-laden text.
pub fn resolution(resolution: String) -> Result<String, Error> {
    check_text("resolution", &resolution, MAX_RESOLUTION_LEN)?;
    Ok(resolution)
}

/// A count of units as GraphQL's signed integers carry it: a negative count becomes one no
/// bound admits, so the bounds' message names it.
#[must_use]
pub fn units(count: i32) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

fn stock_quantity(field: &str, quantity: u32, min: u32) -> Result<u32, Error> {
    check_quantity(field, quantity, min, MAX_STOCK_QUANTITY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::OrderLineInput;

    fn order(lines: usize, quantity: i32) -> PlaceOrder {
        let line = OrderLineInput {
            sku: "SKU-1".into(),
            quantity: units(quantity),
            unit_price: Some("12.50".into()),
        };
        PlaceOrder {
            customer_id: None,
            currency: "BRL".into(),
            lines: vec![line; lines],
            payment_token: "tok_visa".into(),
        }
    }

    fn message(result: Result<PlaceOrder, Error>) -> String {
        match result {
            Err(Error::Validation(message)) => message,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn an_order_within_its_limits_passes_unchanged() {
        assert_eq!(
            order(100, 1_000_000).check().ok(),
            Some(order(100, 1_000_000))
        );
    }

    #[test]
    fn an_order_out_of_its_limits_names_the_field() {
        assert_eq!(
            message(order(0, 1).check()),
            "lines must hold 1 to 100 lines"
        );
        assert_eq!(
            message(order(101, 1).check()),
            "lines must hold 1 to 100 lines"
        );
        let bounds = "quantity must be between 1 and 1000000";
        assert_eq!(message(order(1, 1_000_001).check()), bounds);
        assert_eq!(message(order(1, 0).check()), bounds);
        assert_eq!(message(order(1, -1).check()), bounds, "a negative count");
    }

    #[test]
    fn stock_counts_start_at_zero_and_restocks_at_one() {
        assert_eq!(restock_quantity(1).ok(), Some(1));
        assert!(restock_quantity(0).is_err());
        assert!(restock_quantity(units(-5)).is_err());
        assert!(restock_quantity(MAX_STOCK_QUANTITY + 1).is_err());
    }
}
