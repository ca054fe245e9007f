//! Registering products and restocking them.

use domain::{Quantity, Sku, stock};

use super::Commands;
use crate::event_log::CommandMetadata;
use crate::{Actor, CommandResult, Error, Role};

/// A new product and its opening stock.
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
}

impl Commands {
    /// Registers a product (operators only).
    ///
    /// # Errors
    /// [`Error::Forbidden`] for other roles; [`Error::Validation`] for a bad SKU;
    /// [`Error::Rejected`] (`AlreadyRegistered`, `InvalidName`) from the stock rules.
    #[tracing::instrument(skip(self, metadata), fields(actor = %actor.subject))]
    pub async fn register_product(
        &self,
        actor: &Actor,
        input: RegisterProduct,
        metadata: &CommandMetadata,
    ) -> Result<CommandResult, Error> {
        actor.require(&[Role::Operator], "register products")?;
        let sku = Sku::parse(&input.sku)?;
        let command = stock::Command::Register {
            sku: sku.clone(),
            name: input.name,
            low_stock_threshold: input.low_stock_threshold,
            initial_quantity: input.initial_quantity,
        };
        self.stock.execute(sku.as_str(), command, metadata).await
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

/// [`Error::NotFound`] for a stream with no events.
pub(super) fn exists(version: i64, what: impl FnOnce() -> String) -> Result<(), Error> {
    if version == 0 {
        Err(Error::NotFound { what: what() })
    } else {
        Ok(())
    }
}
