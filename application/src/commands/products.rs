//! Registering products, pricing them and restocking them.

use domain::{Currency, Quantity, Sku, stock};

use super::Commands;
use crate::event_log::CommandMetadata;
use crate::money::parse_amount;
use crate::{Actor, CommandResult, Error, Role};

/// A new product, its price and its opening stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterProduct {
    /// Its SKU.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// Units on hand from the start.
    pub initial_quantity: u32,
    /// Available stock below this raises a low-stock alert.
    pub low_stock_threshold: u32,
    /// What one unit costs, as a decimal string, e.g. `"12.50"`.
    pub price: String,
    /// The ISO 4217 code of the price.
    pub currency: String,
}

/// A product's new price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepriceProduct {
    /// The product.
    pub sku: String,
    /// What one unit costs from now on, as a decimal string.
    pub price: String,
    /// The ISO 4217 code of the price; `None` keeps the product's current currency.
    pub currency: Option<String>,
}

impl Commands {
    /// Registers a product (operators only).
    ///
    /// # Errors
    /// [`Error::Forbidden`] for other roles; [`Error::Validation`] for a bad SKU, price or
    /// currency; [`Error::Rejected`] (`AlreadyRegistered`, `InvalidName`,
    /// `NonPositivePrice`) from the stock rules.
    #[tracing::instrument(skip(self, metadata), fields(actor = %actor.subject))]
    pub async fn register_product(
        &self,
        actor: &Actor,
        input: RegisterProduct,
        metadata: &CommandMetadata,
    ) -> Result<CommandResult, Error> {
        actor.require(&[Role::Operator], "register products")?;
        let sku = Sku::parse(&input.sku)?;
        let price = parse_amount(&input.price, Currency::parse(&input.currency)?)?;
        let command = stock::Command::Register {
            sku: sku.clone(),
            name: input.name,
            low_stock_threshold: input.low_stock_threshold,
            initial_quantity: input.initial_quantity,
            price,
        };
        self.stock.execute(sku.as_str(), command, metadata).await
    }

    /// Changes what one unit of a product costs (operators only). Orders placed from then
    /// on are charged the new price; orders already placed keep theirs.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for other roles; [`Error::Validation`] for a bad SKU, price or
    /// currency, or no currency for a product that has no price yet; [`Error::NotFound`]
    /// for an unknown product; [`Error::Rejected`] (`NonPositivePrice`) from the stock
    /// rules; [`Error::Conflict`] when the product's currency changed while the price was
    /// read in it.
    #[tracing::instrument(skip(self, metadata), fields(actor = %actor.subject))]
    pub async fn reprice_product(
        &self,
        actor: &Actor,
        input: RepriceProduct,
        metadata: &CommandMetadata,
    ) -> Result<CommandResult, Error> {
        actor.require(&[Role::Operator], "reprice products")?;
        let sku = Sku::parse(&input.sku)?;
        let named = input.currency.as_deref().map(Currency::parse).transpose()?;
        let currency = match named {
            Some(currency) => currency,
            None => self.current_currency(&sku).await?,
        };
        let price = parse_amount(&input.price, currency)?;
        self.stock
            .execute_if(
                sku.as_str(),
                stock::Command::Reprice { price },
                metadata,
                |state, version| {
                    exists(version, || format!("product {sku}"))?;
                    // The amount was read in the currency the product had a moment ago.
                    match (named, state.0.price()) {
                        (None, Some(now)) if now.currency() != currency => Err(Error::Conflict {
                            stream: format!("stock/{sku}"),
                            expected_version: version,
                        }),
                        _ => Ok(()),
                    }
                },
            )
            .await
    }

    /// Adds units on hand (operators only).
    ///
    /// # Errors
    /// [`Error::Forbidden`] for other roles; [`Error::Validation`] for a bad SKU or a zero
    /// quantity; [`Error::NotFound`] for an unknown product.
    #[tracing::instrument(skip(self, metadata), fields(actor = %actor.subject))]
    pub async fn restock(
        &self,
        actor: &Actor,
        sku: &str,
        quantity: u32,
        metadata: &CommandMetadata,
    ) -> Result<CommandResult, Error> {
        actor.require(&[Role::Operator], "restock products")?;
        let sku = Sku::parse(sku)?;
        let quantity = Quantity::new(quantity)?;
        self.stock
            .execute_if(
                sku.as_str(),
                stock::Command::Restock { quantity },
                metadata,
                |_, version| exists(version, || format!("product {sku}")),
            )
            .await
    }
}

impl Commands {
    /// The currency `sku` is priced in now, for a new price that names none.
    async fn current_currency(&self, sku: &Sku) -> Result<Currency, Error> {
        let (stock, version) = self.stock.load(sku.as_str()).await?;
        exists(version, || format!("product {sku}"))?;
        stock
            .0
            .price()
            .map(|price| price.currency())
            .ok_or_else(|| {
                Error::Validation(format!(
                    "currency is required: {sku} has no price yet to take it from"
                ))
            })
    }
}

/// [`Error::NotFound`] for a stream with no events.
pub(super) fn exists(version: i64, what: impl FnOnce() -> String) -> Result<(), Error> {
    if version == 0 {
        Err(Error::NotFound { what: what() })
    } else {
        Ok(())
    }
}
