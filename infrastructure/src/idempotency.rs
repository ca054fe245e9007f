//! The `idempotency_keys` table: the records behind `application::idempotency`.

use std::time::Duration;

use serde_json::Value;
use sqlx::{PgPool, Row};

use application::idempotency::{Claim, IdempotencyStore};

use crate::Error;

/// The `idempotency_keys` table.
#[derive(Debug, Clone)]
pub struct IdempotencyKeys {
    pool: PgPool,
    /// An unfinished claim older than this is taken over (its owner died).
    stale_after: Duration,
}

impl IdempotencyKeys {
    /// The table in `pool`'s database; unfinished claims older than `stale_after` are
    /// taken over.
    #[must_use]
    pub fn new(pool: PgPool, stale_after: Duration) -> Self {
        Self { pool, stale_after }
    }

    async fn claim_row(
        &self,
        caller: &str,
        key: &str,
        request_hash: &[u8],
    ) -> Result<Claim, Error> {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (caller, key, request_hash) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(caller)
        .bind(key)
        .bind(request_hash)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(Claim::Owner);
        }
        let Some(row) = sqlx::query(
            "SELECT request_hash, response_status, response_body,
                    started_at < now() - make_interval(secs => $3) AS stale
             FROM idempotency_keys WHERE caller = $1 AND key = $2",
        )
        .bind(caller)
        .bind(key)
        .bind(self.stale_after.as_secs_f64())
        .fetch_optional(&self.pool)
        .await?
        else {
            // Released between our insert and our read: try again from the start.
            return Box::pin(self.claim_row(caller, key, request_hash)).await;
        };
        let stored_hash: Vec<u8> = row.try_get("request_hash")?;
        if stored_hash != request_hash {
            return Ok(Claim::Mismatch);
        }
        let status: Option<i16> = row.try_get("response_status")?;
        if let Some(status) = status {
            return Ok(Claim::Replay {
                status: u16::try_from(status).unwrap_or(500),
                body: row
                    .try_get::<Option<Value>, _>("response_body")?
                    .unwrap_or(Value::Null),
            });
        }
        if row.try_get::<bool, _>("stale")? && self.take_over(caller, key).await? {
            return Ok(Claim::Owner);
        }
        Ok(Claim::InProgress)
    }

    async fn take_over(&self, caller: &str, key: &str) -> Result<bool, Error> {
        let taken = sqlx::query(
            "UPDATE idempotency_keys SET started_at = now()
             WHERE caller = $1 AND key = $2 AND response_status IS NULL
               AND started_at < now() - make_interval(secs => $3)",
        )
        .bind(caller)
        .bind(key)
        .bind(self.stale_after.as_secs_f64())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(taken == 1)
    }

    async fn complete_row(
        &self,
        caller: &str,
        key: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), Error> {
        sqlx::query(
            "UPDATE idempotency_keys
             SET response_status = $3, response_body = $4, completed_at = now()
             WHERE caller = $1 AND key = $2",
        )
        .bind(caller)
        .bind(key)
        .bind(i16::try_from(status).unwrap_or(500))
        .bind(body)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn release_row(&self, caller: &str, key: &str) -> Result<(), Error> {
        sqlx::query(
            "DELETE FROM idempotency_keys
             WHERE caller = $1 AND key = $2 AND response_status IS NULL",
        )
        .bind(caller)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl IdempotencyStore for IdempotencyKeys {
    async fn claim(
        &self,
        caller: &str,
        key: &str,
        request_hash: &[u8],
    ) -> Result<Claim, application::Error> {
        Ok(self.claim_row(caller, key, request_hash).await?)
    }

    async fn complete(
        &self,
        caller: &str,
        key: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), application::Error> {
        Ok(self.complete_row(caller, key, status, body).await?)
    }

    async fn release(&self, caller: &str, key: &str) -> Result<(), application::Error> {
        Ok(self.release_row(caller, key).await?)
    }

    async fn forget(&self, age: Duration) -> Result<u64, application::Error> {
        let deleted = sqlx::query(
            "DELETE FROM idempotency_keys
             WHERE completed_at < now() - make_interval(secs => $1)",
        )
        .bind(age.as_secs_f64())
        .execute(&self.pool)
        .await
        .map_err(Error::from)?
        .rows_affected();
        Ok(deleted)
    }
}
