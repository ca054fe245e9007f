//! The `api_keys` table: the [`ApiKeyStore`] port over PostgreSQL.

use application::Role;
use application::api_keys::{ApiKeyStore, KeyHash};
use sqlx::PgPool;
use uuid::Uuid;

use crate::Error;

/// API key hashes in the `api_keys` table.
#[derive(Debug, Clone)]
pub struct PgApiKeys {
    pool: PgPool,
}

impl PgApiKeys {
    /// The keys in `pool`'s database.
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait::async_trait]
impl ApiKeyStore for PgApiKeys {
    async fn insert(
        &self,
        name: &str,
        role: Role,
        hash: &KeyHash,
    ) -> Result<bool, application::Error> {
        let inserted =
            sqlx::query("INSERT INTO api_keys (id, name, role, key_hash) VALUES ($1, $2, $3, $4)")
                .bind(Uuid::now_v7())
                .bind(name)
                .bind(role.as_str())
                .bind(&hash[..])
                .execute(&self.pool)
                .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(sqlx::Error::Database(e))
                if e.is_unique_violation() && e.constraint() == Some("api_keys_name_key") =>
            {
                Ok(false)
            }
            Err(e) => Err(Error::from(e).into()),
        }
    }

    async fn find(&self, hash: &KeyHash) -> Result<Option<(String, String)>, application::Error> {
        // Looked up by hash: an index walk leaks nothing usable about a preimage.
        sqlx::query_as("SELECT name, role FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
            .bind(&hash[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| Error::from(e).into())
    }

    async fn revoke(&self, name: &str) -> Result<bool, application::Error> {
        let revoked = sqlx::query(
            "UPDATE api_keys SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL",
        )
        .bind(name)
        .execute(&self.pool)
        .await
        .map_err(Error::from)?;
        Ok(revoked.rows_affected() > 0)
    }
}
