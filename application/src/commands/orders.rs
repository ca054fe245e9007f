//! Placing, cancelling and shipping orders.

use std::collections::{BTreeMap, BTreeSet};

use domain::order::{self, CancellationReason, Line};
use domain::{Currency, CustomerId, Money, OrderId, Quantity, Sku};
use uuid::Uuid;

use super::products::exists;
use super::{Commands, now};
use crate::backoff::Backoff;
use crate::event_log::CommandMetadata;
use crate::money::parse_amount;
use crate::saga::{ProviderError, Registration};
use crate::schema::REDACTED;
use crate::{Actor, CommandResult, Error, OrderAggregate, Role};

/// How many times a payment token is offered to a provider that failed at once.
const REGISTER_ATTEMPTS: u32 = 3;

/// A registration that failed within this is tried again.
const FAST_FAILURE: std::time::Duration = std::time::Duration::from_secs(1);

/// One line of a new order, as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLineInput {
    /// What.
    pub sku: String,
    /// How many.
    pub quantity: u32,
    /// The unit price the client expects, as a decimal string, e.g. `"12.50"`. The line is
    /// charged the catalog price; a different one here is refused. `None`: the catalog price.
    pub unit_price: Option<String>,
}

/// A new order, as the client sent it. Its `Debug` leaves the payment token out.
#[derive(Clone, PartialEq, Eq)]
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

impl std::fmt::Debug for PlaceOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlaceOrder")
            .field("customer_id", &self.customer_id)
            .field("currency", &self.currency)
            .field("lines", &self.lines)
            .field("payment_token", &"(hidden)")
            .finish()
    }
}

impl Commands {
    /// The payment method the provider registers for `token`. A registration that failed
    /// at once (within [`FAST_FAILURE`]: the provider, or its connection, busy for a
    /// moment) is tried again, twice at most, after a short pause; a slow failure or a
    /// timeout is not, as the client waits meanwhile. A registration has no effect until an
    /// order names it, so a repeat is harmless.
    ///
    /// # Errors
    /// [`Error::Validation`] when the provider refuses the token; [`Error::Unavailable`]
    /// when it cannot be reached.
    async fn register(&self, token: &str) -> Result<domain::PaymentMethod, Error> {
        let pause = Backoff {
            base: std::time::Duration::from_millis(50),
            cap: std::time::Duration::from_millis(400),
        };
        let mut attempt = 1;
        loop {
            let started = tokio::time::Instant::now();
            match self.provider.register(token).await {
                // `redacted` names the methods of orders placed while tokens were kept: a
                // provider answering it would have its orders never charged.
                Ok(Registration::Registered(method)) if method.reference() == REDACTED => {
                    return Err(Error::Unavailable(
                        "the payment provider answered a reserved payment method reference".into(),
                    ));
                }
                Ok(Registration::Registered(method)) => return Ok(method),
                // The provider's reasons stay out of the answer and the logs: they may
                // quote the token.
                Ok(Registration::Refused) => {
                    return Err(Error::Validation(
                        "paymentToken was refused by the payment provider".into(),
                    ));
                }
                Err(ProviderError::Unavailable(why))
                    if attempt < REGISTER_ATTEMPTS && started.elapsed() < FAST_FAILURE =>
                {
                    tracing::debug!(attempt, %why, "registering the payment token again");
                    tokio::time::sleep(pause.delay(attempt)).await;
                    attempt += 1;
                }
                Err(error) => return Err(Error::Unavailable(error.to_string())),
            }
        }
    }

    /// Places an order (customers for themselves, operators for anyone). The order's id is
    /// the command's id, so a repeated request names the same order.
    ///
    /// Each line is charged its product's catalog price, read from the product's stock
    /// stream (not the read model), so a product registered or repriced a moment ago is
    /// charged as it stands now.
    ///
    /// A line for a SKU nobody registered is taken at the price the client states: such an
    /// order is accepted and fulfilment cancels it `OUT_OF_STOCK` without charging it, the
    /// outcome clients already rely on for unknown products.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for other roles or a customer ordering for someone else;
    /// [`Error::Validation`] for malformed input; [`Error::NotFound`] for a line for an
    /// unregistered SKU without a unit price; [`Error::PriceMismatch`] for a line whose unit price is not the catalog
    /// price or whose product is priced in another currency; [`Error::Rejected`]
    /// (`Unpriced`) for a product without a price, and from the order rules;
    /// [`Error::Validation`] when the payment provider refuses the token;
    /// [`Error::Unavailable`] when it cannot register it now.
    ///
    /// The payment token goes to the provider, which registers it; the order keeps only
    /// the method it answers (a reference and a fingerprint).
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
        let asked = input
            .lines
            .iter()
            .map(|line| {
                Ok((
                    Sku::parse(&line.sku)?,
                    Quantity::new(line.quantity)?,
                    line.unit_price
                        .as_deref()
                        .map(|price| parse_amount(price, currency))
                        .transpose()?,
                ))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let token = order::payment_token(&input.payment_token)?;
        // Well-formed orders wait while fulfilment is too far behind.
        self.admission.admit()?;
        let catalog = self
            .catalog_prices(asked.iter().map(|(sku, ..)| sku))
            .await?;
        let lines = asked
            .into_iter()
            .map(|(sku, quantity, asked)| {
                let unit_price = match catalog.get(&sku) {
                    Some(Catalog::Registered(price)) => {
                        order::unit_price(&sku, *price, currency, asked)?
                    }
                    // Without a stated price there is nothing to take the line at.
                    Some(Catalog::Unregistered) | None => asked.ok_or_else(|| Error::NotFound {
                        what: format!("product {sku}"),
                    })?,
                };
                Ok(Line {
                    sku,
                    quantity,
                    unit_price,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        // A fresh random id (UUID v7), never derived from the caller or the idempotency key:
        // a resent command is recognised by its command id, whose record names this order.
        let order = OrderId::from_u128(Uuid::now_v7().as_u128());
        let payment = self.register(&token).await?;
        let command = order::Command::Place {
            order,
            customer,
            currency,
            lines,
            payment,
            at: now(),
        };
        self.orders
            .execute(&order.to_string(), command, metadata)
            .await
    }

    /// Cancels an order at the customer's request (its owner, or an operator).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown order or another customer's; [`Error::Forbidden`]
    /// for another role; [`Error::Rejected`] (`AlreadyCancelled`, `AlreadyShipped`).
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

/// What the catalog says about one SKU.
enum Catalog {
    /// Registered, with its price (`None` for a product from before prices).
    Registered(Option<Money>),
    /// Nobody registered it.
    Unregistered,
}

impl Commands {
    /// The catalog entry of each of `skus`, each product read once (from what this process
    /// keeps when its stream has not moved since, loaded otherwise) and all of them at the
    /// same time.
    async fn catalog_prices<'a>(
        &self,
        skus: impl Iterator<Item = &'a Sku>,
    ) -> Result<BTreeMap<Sku, Catalog>, Error> {
        let distinct: Vec<&Sku> = skus.collect::<BTreeSet<_>>().into_iter().collect();
        let reads = distinct.iter().map(|sku| {
            self.stock.read(sku.as_str(), |stock, version| {
                if version == 0 {
                    Catalog::Unregistered
                } else {
                    Catalog::Registered(stock.0.price())
                }
            })
        });
        let entries = futures::future::try_join_all(reads).await?;
        Ok(distinct.into_iter().cloned().zip(entries).collect())
    }
}

/// The customer an order or ticket is for: a customer acts for themselves (naming someone
/// else is forbidden); staff must name the customer.
pub(super) fn customer_for(actor: &Actor, named: Option<&str>) -> Result<CustomerId, Error> {
    match (actor.role, named) {
        (Role::Customer, None) => actor.customer_id(),
        (Role::Customer, Some(named)) if named.trim() == actor.subject => actor.customer_id(),
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
    // Another customer's order answers as one that does not exist: a customer learns
    // nothing of ids that are not theirs.
    if !actor.sees(owner) {
        return Err(Error::NotFound {
            what: format!("order {id}"),
        });
    }
    Ok(())
}
