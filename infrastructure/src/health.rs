//! The database's side of readiness: the migrations applied, and the projections parked.

use application::operations::{HealthCheck, Readiness};
use async_trait::async_trait;
use sqlx::PgPool;

use crate::{Error, MIGRATOR};

/// Asks `pool`'s database.
#[derive(Debug, Clone)]
pub struct PgHealth {
    pool: PgPool,
}

impl PgHealth {
    /// Readiness of `pool`'s database.
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl HealthCheck for PgHealth {
    async fn readiness(&self) -> Result<Readiness, application::Error> {
        let applied: i64 =
            sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await
                .map_err(Error::from)?;
        let parked = sqlx::query_as(
            "SELECT name, error FROM projection_checkpoints WHERE state = 'parked' ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(Error::from)?;
        Ok(Readiness {
            migrations_applied: applied,
            migrations_known: i64::try_from(MIGRATOR.iter().count()).unwrap_or(i64::MAX),
            parked,
        })
    }
}
