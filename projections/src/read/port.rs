//! The `rm_*` tables as the application's [`ReadModels`] port.

use std::time::Duration;

use application::event_log::Position;
use application::queries::{
    KeyCursor, OrderFilter, OrderView, Page, PaymentView, ProductView, ReadModels, SkuCursor,
    Tally, TicketFilter, TicketView,
};
use async_trait::async_trait;
use domain::Sku;
use sqlx::PgPool;
use uuid::Uuid;

use super::WaitError;

/// The read models in `pool`'s database.
#[derive(Debug, Clone)]
pub struct PgReadModels {
    pool: PgPool,
}

impl PgReadModels {
    /// The read models of `pool`'s database.
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

type Answer<T> = Result<T, application::Error>;

#[async_trait]
impl ReadModels for PgReadModels {
    async fn order(&self, id: Uuid) -> Answer<Option<OrderView>> {
        Ok(super::order(&self.pool, id).await?)
    }

    async fn orders_by_id(&self, ids: &[Uuid]) -> Answer<Vec<OrderView>> {
        Ok(super::orders_by_id(&self.pool, ids).await?)
    }

    async fn orders(
        &self,
        filter: &OrderFilter,
        after: Option<KeyCursor>,
        first: usize,
    ) -> Answer<Page<(KeyCursor, OrderView)>> {
        Ok(super::orders(&self.pool, filter, after, first).await?)
    }

    async fn ticket(&self, id: Uuid) -> Answer<Option<TicketView>> {
        Ok(super::ticket(&self.pool, id).await?)
    }

    async fn tickets(
        &self,
        filter: &TicketFilter,
        after: Option<KeyCursor>,
        first: usize,
    ) -> Answer<Page<(KeyCursor, TicketView)>> {
        Ok(super::tickets(&self.pool, filter, after, first).await?)
    }

    async fn product(&self, sku: &Sku) -> Answer<Option<ProductView>> {
        Ok(super::product(&self.pool, sku).await?)
    }

    async fn products(
        &self,
        low_stock_only: bool,
        after: Option<&SkuCursor>,
        first: usize,
    ) -> Answer<Page<(SkuCursor, ProductView)>> {
        Ok(super::products(&self.pool, low_stock_only, after, first).await?)
    }

    async fn payments(&self, order_ids: &[Uuid]) -> Answer<Vec<PaymentView>> {
        Ok(super::payments(&self.pool, order_ids).await?)
    }

    async fn order_counts(&self) -> Answer<Vec<Tally>> {
        Ok(super::order_counts(&self.pool).await?)
    }

    async fn wait_until(
        &self,
        names: &[&str],
        position: Position,
        timeout: Duration,
    ) -> Answer<()> {
        match super::wait_until(&self.pool, names, position, timeout).await {
            Ok(()) => Ok(()),
            Err(WaitError::Stale) => Err(application::Error::Stale),
            Err(WaitError::Unknown) => Err(application::Error::Validation(
                WaitError::Unknown.to_string(),
            )),
            Err(WaitError::Database(error)) => Err(crate::Error::from(error).into()),
        }
    }
}
