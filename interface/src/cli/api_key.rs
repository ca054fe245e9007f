//! `domainflow api-key create|revoke`: API keys for programs, stored hashed.

use std::sync::Arc;

use application::Role;
use application::api_keys::ApiKeys;
use infrastructure::PgApiKeys;

use super::database::with_pool;
use super::{ApiKeyCommand, FileSettings};

/// Creates or revokes an API key; a new key is returned (it is shown once, only its hash
/// is stored).
///
/// # Errors
/// A message for an unknown role, a taken or malformed name, or an unreachable database.
pub async fn api_key(command: ApiKeyCommand, file: FileSettings) -> Result<String, String> {
    match command {
        ApiKeyCommand::Create {
            name,
            role,
            database,
        } => {
            let role: Role = role.parse()?;
            with_pool(database, file, |pool| async move {
                keys(pool)
                    .create(&name, role)
                    .await
                    .map_err(|e| e.to_string())
            })
            .await
        }
        ApiKeyCommand::Revoke { name, database } => {
            with_pool(database, file, |pool| async move {
                match keys(pool).revoke(&name).await {
                    Ok(()) => Ok(format!("revoked API key {name}")),
                    Err(application::Error::NotFound { .. }) => {
                        Err(format!("no live API key named {name}"))
                    }
                    Err(error) => Err(error.to_string()),
                }
            })
            .await
        }
    }
}

fn keys(pool: sqlx::PgPool) -> ApiKeys {
    ApiKeys::new(Arc::new(PgApiKeys::new(pool)))
}
