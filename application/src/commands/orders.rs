//! Placing, cancelling and shipping orders.

use domain::order::{self, CancellationReason, Line};
use domain::{Currency, CustomerId, OrderId, Quantity, Sku};
use uuid::Uuid;

use super::products::exists;
use super::{Commands, now};
use crate::event_log::CommandMetadata;
use crate::money::parse_amount;
use crate::{Actor, CommandResult, Error, OrderAggregate, Role};

/// One line of a new order, as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLineInput {
    /// What.
    pub sku: String,
    /// How many.
    pub quantity: u32,
    /// The unit price as a decimal string, e.g. `"12.50"`.
    pub unit_price: String,
}

/// A new order, as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceOrder {
    /// Whose order: taken from the token for customers; required from operators.
    pub customer_id: Option<String>,
    /// The currency of every line.
    pub currency: String,
    /// What is bought.
    pub lines: Vec<OrderLineInput>,
    /// How to pay.
    pub payment_token: String,
}

impl Commands {
    /// Places an order (customers for themselves, operators for anyone). The order's id is
    /// the command's id, so a repeated request names the same order.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for other roles or a customer ordering for someone else;
    /// [`Error::Validation`] for malformed input; [`Error::Rejected`] from the order rules.
    #[tracing::instrument(skip(self, input, metadata), fields(actor = %actor.subject))]
    pub async fn place_order(
        &self,
        actor: &Actor,
        input: PlaceOrder,
        metadata: &CommandMetadata,
    ) -> Result<CommandResult, Error> {
        actor.require(&[Role::Customer, Role::Operator], "place orders")?;
        let customer = customer_for(actor, input.customer_id.as_deref())?;
        let currency = Currency::parse(&input.currency)?;
        let lines = input
            .lines
            .iter()
            .map(|line| {
                Ok(Line {
                    sku: Sku::parse(&line.sku)?,
                    quantity: Quantity::new(line.quantity)?,
                    unit_price: parse_amount(&line.unit_price, currency)?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let order = OrderId::from_u128(metadata.command_id.as_u128());
        let command = order::Command::Place {
            order,
            customer,
            currency,
            lines,
            payment_token: input.payment_token,
            at: now(),
        };
        self.orders
            .execute(&order.to_string(), command, metadata)
            .await
    }

    /// Cancels an order at the customer's request (its owner, or an operator).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown order; [`Error::Forbidden`] for someone else's
    /// order or another role; [`Error::Rejected`] (`AlreadyCancelled`, `AlreadyShipped`).
    #[tracing::instrument(skip(self, metadata), fields(actor = %actor.subject))]
    pub async fn cancel_order(
        &self,
        actor: &Actor,
        order: Uuid,
        metadata: &CommandMetadata,
    ) -> Result<CommandResult, Error> {
        actor.require(&[Role::Customer, Role::Operator], "cancel orders")?;
        let command = order::Command::Cancel {
            reason: CancellationReason::CustomerRequest,
            at: now(),
        };
        self.orders
            .execute_if(&order.to_string(), command, metadata, |state, version| {
                owned_order(actor, state, version, order)
            })
            .await
    }

    /// Ships a confirmed order (operators only).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown order; [`Error::Forbidden`] for other roles;
    /// [`Error::Rejected`] (`NotConfirmed`, `AlreadyCancelled`, `AlreadyShipped`).
    #[tracing::instrument(skip(self, metadata), fields(actor = %actor.subject))]
    pub async fn ship_order(
        &self,
        actor: &Actor,
        order: Uuid,
        metadata: &CommandMetadata,
    ) -> Result<CommandResult, Error> {
        actor.require(&[Role::Operator], "ship orders")?;
        let command = order::Command::Ship { at: now() };
        self.orders
            .execute_if(&order.to_string(), command, metadata, |_, version| {
                exists(version, || format!("order {order}"))
            })
            .await
    }
}

/// The customer an order or ticket is for: a customer acts for themselves (naming someone
/// else is forbidden); staff must name the customer.
pub(super) fn customer_for(actor: &Actor, named: Option<&str>) -> Result<CustomerId, Error> {
    match (actor.role, named) {
        (Role::Customer, None) => Ok(CustomerId::parse(&actor.subject)?),
        (Role::Customer, Some(named)) if named.trim() == actor.subject => {
            Ok(CustomerId::parse(named)?)
        }
        (Role::Customer, Some(_)) => Err(Error::Forbidden(
            "a customer acts only for themselves".into(),
        )),
        (_, Some(named)) => Ok(CustomerId::parse(named)?),
        (_, None) => Err(Error::Validation("customerId is required".into())),
    }
}

fn owned_order(actor: &Actor, state: &OrderAggregate, version: i64, id: Uuid) -> Result<(), Error> {
    exists(version, || format!("order {id}"))?;
    let owner = state.0.customer().map_or("", CustomerId::as_str);
    if !actor.sees(owner) {
        return Err(Error::Forbidden(
            "this order belongs to another customer".into(),
        ));
    }
    Ok(())
}
