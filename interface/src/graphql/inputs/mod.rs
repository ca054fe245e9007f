//! The `input` objects of the mutations, each turned into its command and checked against
//! the command's limits (`application::commands::limits`) before its use case runs.

use application::commands::{
    OpenTicket, OrderLineInput as OrderLine, PlaceOrder, RegisterProduct, RepriceProduct,
};
use async_graphql::{Enum, ID, InputObject};
use uuid::Uuid;

use application::commands::limits::{self, units};
use application::input::parse_uuid;

/// A new product.
#[derive(Debug, Clone, InputObject)]
pub struct RegisterProductInput {
    /// 1 to 64 ASCII letters, digits, `-`, `_` and `.`.
    pub sku: String,
    /// The product's name (1 to 200 characters).
    pub name: String,
    /// Units on hand from the start (0 to 1000000000).
    #[graphql(default)]
    pub initial_quantity: i32,
    /// Available stock below this raises a low-stock alert (0 to 1000000000).
    #[graphql(default)]
    pub low_stock_threshold: i32,
    /// What one unit costs: a positive decimal string with at most the currency's
    /// decimals, e.g. `"12.50"`. Orders are charged this price.
    pub price: String,
    /// ISO 4217 code of the price, e.g. `BRL`.
    pub currency: String,
}

impl RegisterProductInput {
    /// The checked command.
    ///
    /// # Errors
    /// [`application::Error::Validation`] naming the first field out of bounds.
    pub fn into_command(self) -> Result<RegisterProduct, application::Error> {
        RegisterProduct {
            sku: self.sku,
            name: self.name,
            initial_quantity: units(self.initial_quantity),
            low_stock_threshold: units(self.low_stock_threshold),
            price: self.price,
            currency: self.currency,
        }
        .check()
    }
}

/// A product's new price.
#[derive(Debug, Clone, InputObject)]
pub struct RepriceProductInput {
    /// The product's SKU.
    pub sku: String,
    /// What one unit costs from now on: a positive decimal string with at most the
    /// currency's decimals.
    pub price: String,
    /// ISO 4217 code of the price. Absent: the product's current currency (required for a
    /// product that has no price yet).
    pub currency: Option<String>,
}

impl RepriceProductInput {
    /// The checked command.
    ///
    /// # Errors
    /// [`application::Error::Validation`] naming the first field out of bounds.
    pub fn into_command(self) -> Result<RepriceProduct, application::Error> {
        RepriceProduct {
            sku: self.sku,
            price: self.price,
            currency: self.currency,
        }
        .check()
    }
}

/// Units arriving for a product.
#[derive(Debug, Clone, InputObject)]
pub struct RestockInput {
    /// The product's SKU.
    pub sku: String,
    /// How many units (1 to 1000000000).
    pub quantity: i32,
}

impl RestockInput {
    /// The checked SKU and quantity.
    ///
    /// # Errors
    /// [`application::Error::Validation`] naming the first field out of bounds.
    pub fn into_command(self) -> Result<(String, u32), application::Error> {
        application::queries::sku(&self.sku)?;
        Ok((self.sku, limits::restock_quantity(units(self.quantity))?))
    }
}

/// One line of a new order.
#[derive(Debug, Clone, InputObject)]
pub struct OrderLineInput {
    /// The product's SKU.
    pub sku: String,
    /// How many units (1 to 1000000).
    pub quantity: i32,
    /// The unit price the client expects, a decimal string with at most the currency's
    /// decimals, e.g. `"12.50"`. Optional: the line is charged the product's catalog
    /// price, and a different price here is refused with `PRICE_MISMATCH`. Required for a
    /// SKU that is not registered (`NOT_FOUND` without it; with it, the order is accepted
    /// and cancelled `OUT_OF_STOCK`).
    pub unit_price: Option<String>,
}

/// A new order.
#[derive(Debug, Clone, InputObject)]
pub struct PlaceOrderInput {
    /// Whose order. Customers may omit it (it is their token's subject); operators must
    /// give it. 1 to 128 characters.
    pub customer_id: Option<ID>,
    /// ISO 4217 code of every price, e.g. `BRL`.
    pub currency: String,
    /// What is bought: 1 to 100 lines.
    pub lines: Vec<OrderLineInput>,
    /// A payment method token (1 to 128 characters): `tok_visa`, `tok_chargeDeclined`,
    /// `tok_timeout`, `tok_flaky` with the simulated provider.
    pub payment_token: String,
}

impl PlaceOrderInput {
    /// The checked command.
    ///
    /// # Errors
    /// [`application::Error::Validation`] naming the first field out of bounds.
    pub fn into_command(self) -> Result<PlaceOrder, application::Error> {
        let lines = self.lines.into_iter().map(|line| OrderLine {
            sku: line.sku,
            quantity: units(line.quantity),
            unit_price: line.unit_price,
        });
        PlaceOrder {
            customer_id: self.customer_id.map(|id| id.0),
            currency: self.currency,
            lines: lines.collect(),
            payment_token: self.payment_token,
        }
        .check()
    }
}

/// An order to cancel at its customer's request.
#[derive(Debug, Clone, InputObject)]
pub struct CancelOrderInput {
    /// The order's id (a UUID).
    pub order_id: ID,
    /// Why: only `CUSTOMER_REQUEST` (the default); the other reasons (`OUT_OF_STOCK`,
    /// `PAYMENT_DECLINED`, `PAYMENT_TIMEOUT`) belong to order fulfilment.
    pub reason: Option<ClientCancellationReason>,
}

/// The cancellation reasons a client may give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ClientCancellationReason {
    /// The customer asked.
    CustomerRequest,
}

impl CancelOrderInput {
    /// The checked order id (the reason can only be the customer's request).
    ///
    /// # Errors
    /// [`application::Error::Validation`] for a malformed id.
    pub fn into_command(self) -> Result<Uuid, application::Error> {
        parse_uuid("orderId", &self.order_id)
    }
}

/// An order to ship.
#[derive(Debug, Clone, InputObject)]
pub struct ShipOrderInput {
    /// The order's id (a UUID).
    pub order_id: ID,
}

impl ShipOrderInput {
    /// The checked order id.
    ///
    /// # Errors
    /// [`application::Error::Validation`] for a malformed id.
    pub fn into_command(self) -> Result<Uuid, application::Error> {
        parse_uuid("orderId", &self.order_id)
    }
}

/// A new support ticket.
#[derive(Debug, Clone, InputObject)]
pub struct OpenTicketInput {
    /// Whose ticket. Customers may omit it; agents must give it. 1 to 128 characters.
    pub customer_id: Option<ID>,
    /// What it is about (1 to 200 characters).
    pub subject: String,
    /// The first message (1 to 4000 characters).
    pub message: String,
    /// The order it concerns (a UUID).
    pub order_id: Option<ID>,
}

impl OpenTicketInput {
    /// The checked command.
    ///
    /// # Errors
    /// [`application::Error::Validation`] naming the first field out of bounds.
    pub fn into_command(self) -> Result<OpenTicket, application::Error> {
        let raw_order = self.order_id;
        let mut ticket = OpenTicket {
            customer_id: self.customer_id.map(|id| id.0),
            subject: self.subject,
            message: self.message,
            order_id: None,
        }
        .check()?;
        ticket.order_id = raw_order
            .as_ref()
            .map(|id| parse_uuid("orderId", id))
            .transpose()?;
        Ok(ticket)
    }
}

/// A message for a ticket's thread.
#[derive(Debug, Clone, InputObject)]
pub struct PostTicketMessageInput {
    /// The ticket's id (a UUID).
    pub ticket_id: ID,
    /// The text (1 to 4000 characters).
    pub body: String,
}

impl PostTicketMessageInput {
    /// The checked ticket id and text.
    ///
    /// # Errors
    /// [`application::Error::Validation`] naming the first field out of bounds.
    pub fn into_command(self) -> Result<(Uuid, String), application::Error> {
        let ticket = parse_uuid("ticketId", &self.ticket_id)?;
        Ok((ticket, limits::ticket_message(self.body)?))
    }
}

/// Who takes a ticket.
#[derive(Debug, Clone, InputObject)]
pub struct AssignTicketInput {
    /// The ticket's id (a UUID).
    pub ticket_id: ID,
    /// The agent's id (1 to 128 characters).
    pub agent_id: ID,
}

impl AssignTicketInput {
    /// The checked ticket id and agent.
    ///
    /// # Errors
    /// [`application::Error::Validation`] naming the first field out of bounds.
    pub fn into_command(self) -> Result<(Uuid, String), application::Error> {
        let ticket = parse_uuid("ticketId", &self.ticket_id)?;
        Ok((ticket, limits::agent(self.agent_id.0)?))
    }
}

/// How a ticket was resolved.
#[derive(Debug, Clone, InputObject)]
pub struct CloseTicketInput {
    /// The ticket's id (a UUID).
    pub ticket_id: ID,
    /// The resolution (1 to 1000 characters).
    pub resolution: String,
}

impl CloseTicketInput {
    /// The checked ticket id and resolution.
    ///
    /// # Errors
    /// [`application::Error::Validation`] naming the first field out of bounds.
    pub fn into_command(self) -> Result<(Uuid, String), application::Error> {
        let ticket = parse_uuid("ticketId", &self.ticket_id)?;
        Ok((ticket, limits::resolution(self.resolution)?))
    }
}

/// A closed ticket to reopen.
#[derive(Debug, Clone, InputObject)]
pub struct ReopenTicketInput {
    /// The ticket's id (a UUID).
    pub ticket_id: ID,
}

impl ReopenTicketInput {
    /// The checked ticket id.
    ///
    /// # Errors
    /// [`application::Error::Validation`] for a malformed id.
    pub fn into_command(self) -> Result<Uuid, application::Error> {
        parse_uuid("ticketId", &self.ticket_id)
    }
}

/// The customer to erase.
#[derive(Debug, InputObject)]
pub struct EraseCustomerInput {
    /// The customer's id.
    pub customer_id: String,
}

#[cfg(test)]
mod tests;
