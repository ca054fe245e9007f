//! The database's side of readiness: the migrations applied, and where each follower of the
//! log stands (parked or not, how old the first event after its checkpoint is).

use application::operations::{FollowerHealth, HealthCheck, Readiness};
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
        let followers: Vec<(String, Option<String>, String, f64)> = sqlx::query_as(
            "SELECT c.name, c.error, c.state,
                    COALESCE(GREATEST(EXTRACT(EPOCH FROM now() - (
                        SELECT e.recorded_at FROM events e
                        WHERE (e.transaction_id, e.position) > (c.transaction_id, c.position)
                        ORDER BY e.transaction_id, e.position
                        LIMIT 1
                    )), 0), 0)::float8
             FROM projection_checkpoints c
             ORDER BY c.name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(Error::from)?;
        let followers = followers
            .into_iter()
            .map(|(name, error, state, lag_seconds)| FollowerHealth {
                name,
                parked: (state == "parked").then(|| error.unwrap_or_default()),
                lag_seconds,
            })
            .collect();
        Ok(Readiness {
            migrations_applied: applied,
            migrations_known: i64::try_from(MIGRATOR.iter().count()).unwrap_or(i64::MAX),
            followers,
        })
    }
}
