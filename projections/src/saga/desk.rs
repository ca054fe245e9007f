//! The saga's dead letters as the application's [`DeadLetters`] port: listed from
//! `saga_dead_letters`, redriven through the saga's actions; and the sagas in flight.

use application::operations::{DeadLetter, DeadLetters, Redrive};
use application::queries::Tally;
use application::saga::Fulfil;
use async_trait::async_trait;
use sqlx::PgPool;

use super::dead_letters;

/// The dead letters of `pool`'s database, carried out again by `fulfil`.
#[derive(Debug, Clone)]
pub struct Desk {
    pool: PgPool,
    fulfil: Fulfil,
}

impl Desk {
    /// The desk over `pool`, redriving through `fulfil`.
    #[must_use]
    pub fn new(pool: PgPool, fulfil: Fulfil) -> Self {
        Self { pool, fulfil }
    }
}

#[async_trait]
impl DeadLetters for Desk {
    async fn list(
        &self,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<DeadLetter>, application::Error> {
        Ok(dead_letters::list(&self.pool, after, limit).await?)
    }

    async fn redrive(&self, id: i64) -> Result<Redrive, application::Error> {
        Ok(dead_letters::redrive(&self.pool, &self.fulfil, id).await?)
    }

    async fn in_flight(&self) -> Result<Vec<Tally>, application::Error> {
        Ok(super::gauges::in_flight(&self.pool).await?)
    }
}
