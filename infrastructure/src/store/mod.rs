//! Our PostgreSQL event store: append-only, globally ordered without gaps, hash-chained
//! per stream, with snapshots and command idempotency.

mod append;
mod cqrs;
mod group;
pub mod hash;
mod port;
mod read;
pub(crate) mod row;
mod verify;

use std::sync::Arc;

use sqlx::PgPool;

use group::Group;

pub use application::event_log::ReadFilter;
pub use cqrs::{CqrsEventStore, Loaded};

/// The event store over one PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgEventStore {
    pool: PgPool,
    /// Appends waiting to be written together.
    group: Arc<Group>,
}

impl PgEventStore {
    /// A store over `pool` (migrations already applied).
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            group: Arc::default(),
        }
    }

    /// The pool the store uses.
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
