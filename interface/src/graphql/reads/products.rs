//! `Product`: a SKU's stock and price.

use application::queries::ProductView;
use async_graphql::Object;

/// A product's stock levels.
pub struct Product(pub ProductView);

#[Object]
impl Product {
    /// The SKU.
    async fn sku(&self) -> &str {
        &self.0.sku
    }

    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Units in the warehouse.
    async fn on_hand(&self) -> i64 {
        self.0.on_hand
    }

    /// Units reserved by orders not yet settled.
    async fn reserved(&self) -> i64 {
        self.0.reserved
    }

    /// Units that can still be ordered.
    async fn available(&self) -> i64 {
        self.0.available
    }

    /// The level at or under which stock is low.
    async fn low_stock_threshold(&self) -> i64 {
        self.0.low_stock_threshold
    }

    /// Whether stock is low.
    async fn low_stock(&self) -> bool {
        self.0.low_stock
    }

    /// What one unit costs, a decimal string in `currency`; null for a product registered
    /// before products had prices, until it is repriced.
    async fn price(&self) -> Option<&str> {
        self.0.price.as_deref()
    }

    /// ISO 4217 code of the price; null when there is no price.
    async fn currency(&self) -> Option<&str> {
        self.0.currency.as_deref()
    }
}
