//! The `input` objects of the mutations, each checked against the limits the REST bodies
//! enforce before its use case runs.

use application::commands::{
    OpenTicket, OrderLineInput as OrderLine, PlaceOrder, RegisterProduct, RepriceProduct,
};
use async_graphql::{Enum, ID, InputObject};
use uuid::Uuid;

use application::input::{
    MAX_LINE_QUANTITY, MAX_STOCK_QUANTITY, check_currency, check_id, check_line_count, check_price,
    check_quantity, check_text, parse_uuid,
};

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
        application::queries::sku(&self.sku)?;
        check_text("name", &self.name, 200)?;
        let initial_quantity = check_quantity(
            "initialQuantity",
            i64::from(self.initial_quantity),
            0,
            MAX_STOCK_QUANTITY,
        )?;
        let low_stock_threshold = check_quantity(
            "lowStockThreshold",
            i64::from(self.low_stock_threshold),
            0,
            MAX_STOCK_QUANTITY,
        )?;
        check_price("price", &self.price)?;
        check_currency(&self.currency)?;
        Ok(RegisterProduct {
            sku: self.sku,
            name: self.name,
            initial_quantity,
            low_stock_threshold,
            price: self.price,
            currency: self.currency,
        })
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
        application::queries::sku(&self.sku)?;
        check_price("price", &self.price)?;
        if let Some(currency) = &self.currency {
            check_currency(currency)?;
        }
        Ok(RepriceProduct {
            sku: self.sku,
            price: self.price,
            currency: self.currency,
        })
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
        let quantity = check_quantity("quantity", i64::from(self.quantity), 1, MAX_STOCK_QUANTITY)?;
        Ok((self.sku, quantity))
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
        if let Some(customer) = &self.customer_id {
            check_id("customerId", customer)?;
        }
        check_currency(&self.currency)?;
        check_line_count(self.lines.len())?;
        let lines = self
            .lines
            .into_iter()
            .map(|line| {
                application::queries::sku(&line.sku)?;
                let quantity =
                    check_quantity("quantity", i64::from(line.quantity), 1, MAX_LINE_QUANTITY)?;
                if let Some(price) = &line.unit_price {
                    check_price("unitPrice", price)?;
                }
                Ok(OrderLine {
                    sku: line.sku,
                    quantity,
                    unit_price: line.unit_price,
                })
            })
            .collect::<Result<Vec<_>, application::Error>>()?;
        check_text("paymentToken", &self.payment_token, 128)?;
        Ok(PlaceOrder {
            customer_id: self.customer_id.map(|id| id.0),
            currency: self.currency,
            lines,
            payment_token: self.payment_token,
        })
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
        if let Some(customer) = &self.customer_id {
            check_id("customerId", customer)?;
        }
        check_text("subject", &self.subject, 200)?;
        check_text("message", &self.message, 4000)?;
        let order_id = self
            .order_id
            .as_ref()
            .map(|id| parse_uuid("orderId", id))
            .transpose()?;
        Ok(OpenTicket {
            customer_id: self.customer_id.map(|id| id.0),
            subject: self.subject,
            message: self.message,
            order_id,
        })
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
        check_text("body", &self.body, 4000)?;
        Ok((ticket, self.body))
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
        check_id("agentId", &self.agent_id)?;
        Ok((ticket, self.agent_id.0))
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
        check_text("resolution", &self.resolution, 1000)?;
        Ok((ticket, self.resolution))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn line(sku: &str, quantity: i32, unit_price: &str) -> OrderLineInput {
        OrderLineInput {
            sku: sku.into(),
            quantity,
            unit_price: Some(unit_price.into()),
        }
    }

    fn order(lines: Vec<OrderLineInput>) -> PlaceOrderInput {
        PlaceOrderInput {
            customer_id: None,
            currency: "BRL".into(),
            lines,
            payment_token: "tok_visa".into(),
        }
    }

    fn is_validation<T: std::fmt::Debug>(result: Result<T, application::Error>) -> bool {
        matches!(result, Err(application::Error::Validation(_)))
    }

    #[test]
    fn a_valid_order_becomes_the_command() {
        let command = order(vec![line("SKU-1", 2, "12.50")]).into_command();
        assert_eq!(
            command.ok(),
            Some(PlaceOrder {
                customer_id: None,
                currency: "BRL".into(),
                lines: vec![OrderLine {
                    sku: "SKU-1".into(),
                    quantity: 2,
                    unit_price: Some("12.50".into()),
                }],
                payment_token: "tok_visa".into(),
            })
        );
    }

    #[test]
    fn orders_refuse_what_rest_refuses() {
        assert!(is_validation(order(vec![]).into_command()));
        assert!(is_validation(
            order(vec![line("A", 1, "1"); 101]).into_command()
        ));
        assert!(order(vec![line("A", 1, "1"); 100]).into_command().is_ok());
        assert!(is_validation(order(vec![line("A", 0, "1")]).into_command()));
        assert!(is_validation(
            order(vec![line("A", 1_000_001, "1")]).into_command()
        ));
        assert!(is_validation(
            order(vec![line("a b", 1, "1")]).into_command()
        ));
        assert!(is_validation(order(vec![line("A", 1, "")]).into_command()));
        assert!(is_validation(order(vec![line("A", 1, "0")]).into_command()));
        assert!(is_validation(
            order(vec![line("A", 1, "1.505")]).into_command()
        ));
        let mut lower = order(vec![line("A", 1, "1")]);
        lower.currency = "brl".into();
        assert!(is_validation(lower.into_command()));
        let mut blank_token = order(vec![line("A", 1, "1")]);
        blank_token.payment_token = "  ".into();
        assert!(is_validation(blank_token.into_command()));
        let mut no_price = order(vec![line("A", 1, "1")]);
        no_price.lines[0].unit_price = None;
        assert!(no_price.into_command().is_ok());
        let mut no_customer = order(vec![line("A", 1, "1")]);
        no_customer.customer_id = Some(ID(String::new()));
        assert!(is_validation(no_customer.into_command()));
    }

    #[test]
    fn products_refuse_what_rest_refuses() {
        let product = |sku: &str, name: &str, initial: i32, threshold: i32| RegisterProductInput {
            sku: sku.into(),
            name: name.into(),
            initial_quantity: initial,
            low_stock_threshold: threshold,
            price: "12.50".into(),
            currency: "BRL".into(),
        };
        assert!(product("A", "Apple", 0, 0).into_command().is_ok());
        let mut free = product("A", "Apple", 0, 0);
        free.price = "0".into();
        assert!(is_validation(free.into_command()));
        let mut lower = product("A", "Apple", 0, 0);
        lower.currency = "brl".into();
        assert!(is_validation(lower.into_command()));
        let reprice = |price: &str, currency: Option<&str>| RepriceProductInput {
            sku: "A".into(),
            price: price.into(),
            currency: currency.map(Into::into),
        };
        assert!(reprice("14.90", None).into_command().is_ok());
        assert!(reprice("14.90", Some("USD")).into_command().is_ok());
        assert!(is_validation(reprice("-1", None).into_command()));
        assert!(is_validation(reprice("1", Some("usd")).into_command()));
        assert!(is_validation(product("A", " ", 0, 0).into_command()));
        assert!(is_validation(product("A", "Apple", -1, 0).into_command()));
        assert!(is_validation(
            product("A", "Apple", 0, 1_000_000_001).into_command()
        ));
        let restock = |quantity| RestockInput {
            sku: "A".into(),
            quantity,
        };
        assert_eq!(restock(5).into_command().ok(), Some(("A".into(), 5)));
        assert!(is_validation(restock(0).into_command()));
    }

    #[test]
    fn cancelling_needs_an_order_id() {
        let id = Uuid::now_v7();
        let cancel = |reason| CancelOrderInput {
            order_id: ID(id.to_string()),
            reason,
        };
        assert_eq!(cancel(None).into_command().ok(), Some(id));
        let by_request = cancel(Some(ClientCancellationReason::CustomerRequest));
        assert_eq!(by_request.into_command().ok(), Some(id));
        let bad_id = CancelOrderInput {
            order_id: ID("not-a-uuid".into()),
            reason: None,
        };
        assert!(is_validation(bad_id.into_command()));
    }

    #[test]
    fn tickets_refuse_what_rest_refuses() {
        let open = |subject: &str, message: &str, order: Option<&str>| OpenTicketInput {
            customer_id: None,
            subject: subject.into(),
            message: message.into(),
            order_id: order.map(|o| ID(o.into())),
        };
        assert!(open("Help", "Where is it?", None).into_command().is_ok());
        assert!(is_validation(open("", "m", None).into_command()));
        assert!(is_validation(
            open("s", &"m".repeat(4001), None).into_command()
        ));
        assert!(is_validation(open("s", "m", Some("nope")).into_command()));
        let ticket = ID(Uuid::now_v7().to_string());
        let message = |body: &str| PostTicketMessageInput {
            ticket_id: ticket.clone(),
            body: body.into(),
        };
        assert!(message("hi").into_command().is_ok());
        assert!(is_validation(message(" ").into_command()));
        assert!(is_validation(message("a\u{0}b").into_command()));
        let assign = |agent: &str| AssignTicketInput {
            ticket_id: ticket.clone(),
            agent_id: ID(agent.into()),
        };
        assert!(assign("bob").into_command().is_ok());
        assert!(is_validation(assign(&"b".repeat(129)).into_command()));
        assert!(is_validation(assign("bob smith").into_command()));
        let close = |resolution: &str| CloseTicketInput {
            ticket_id: ticket.clone(),
            resolution: resolution.into(),
        };
        assert!(close("fixed").into_command().is_ok());
        assert!(is_validation(close(&"r".repeat(1001)).into_command()));
        let reopen = ReopenTicketInput {
            ticket_id: ID("x".into()),
        };
        assert!(is_validation(reopen.into_command()));
    }
}
