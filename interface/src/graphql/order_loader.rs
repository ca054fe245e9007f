//! The order [`DataLoader`] behind `Ticket.order`: one query for every ticket of a page.

use std::collections::HashMap;
use std::sync::Arc;

use application::queries::{OrderView, ReadModels};
use async_graphql::dataloader::{DataLoader, Loader};
use uuid::Uuid;

use crate::state::AppState;

/// Batches `Ticket.order` lookups of one request into one query.
pub struct OrderLoader {
    reads: Arc<dyn ReadModels>,
}

impl Loader<Uuid> for OrderLoader {
    type Value = OrderView;
    type Error = Arc<String>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, OrderView>, Self::Error> {
        let orders = self
            .reads
            .orders_by_id(keys)
            .await
            .map_err(|e| Arc::new(e.to_string()))?;
        Ok(orders.into_iter().map(|o| (o.id, o)).collect())
    }
}

/// An order loader for one request.
#[must_use]
pub fn order_loader(state: &AppState) -> Arc<DataLoader<OrderLoader>> {
    Arc::new(DataLoader::new(
        OrderLoader {
            reads: Arc::clone(state.queries.reads()),
        },
        tokio::spawn,
    ))
}
