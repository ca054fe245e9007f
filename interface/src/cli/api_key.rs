//! `domainflow api-key create|revoke`: API keys for programs, stored hashed.

use std::sync::Arc;

use application::Role;
use application::api_keys::ApiKeys;
use infrastructure::PgApiKeys;

use super::settings::default_data_dir;
use super::{ApiKeyCommand, Database, FileSettings};

/// Creates or revokes an API key; a new key is returned (it is shown once, only its hash
/// is stored).
///
/// # Errors
/// A message for an unknown role, a taken or malformed name, or an unreachable database.
pub async fn api_key(command: ApiKeyCommand, file: FileSettings) -> Result<String, String> {
    let (database, outcome) = match command {
        ApiKeyCommand::Create {
            name,
            role,
            database,
        } => {
            let role: Role = role.parse()?;
            let db = open(database, file).await?;
            let outcome = create(&db, &name, role).await;
            (db, outcome)
        }
        ApiKeyCommand::Revoke { name, database } => {
            let db = open(database, file).await?;
            let outcome = revoke(&db, &name).await;
            (db, outcome)
        }
    };
    database.close().await;
    outcome
}

async fn open(args: super::DatabaseArgs, file: FileSettings) -> Result<Database, String> {
    let data_dir = args
        .data_dir
        .or(file.data_dir)
        .unwrap_or_else(default_data_dir);
    Database::open(args.database_url.or(file.database_url), &data_dir).await
}

async fn pool(database: &Database) -> Result<sqlx::PgPool, String> {
    infrastructure::connect(&database.url, &infrastructure::DatabaseOptions::default())
        .await
        .map_err(|e| e.to_string())
}

async fn keys(database: &Database) -> Result<(ApiKeys, sqlx::PgPool), String> {
    let pool = pool(database).await?;
    Ok((ApiKeys::new(Arc::new(PgApiKeys::new(pool.clone()))), pool))
}

async fn create(database: &Database, name: &str, role: Role) -> Result<String, String> {
    let (keys, pool) = keys(database).await?;
    let key = keys.create(name, role).await.map_err(|e| e.to_string());
    pool.close().await;
    key
}

async fn revoke(database: &Database, name: &str) -> Result<String, String> {
    let (keys, pool) = keys(database).await?;
    let revoked = keys.revoke(name).await;
    pool.close().await;
    match revoked {
        Ok(()) => Ok(format!("revoked API key {name}")),
        Err(application::Error::NotFound { .. }) => Err(format!("no live API key named {name}")),
        Err(error) => Err(error.to_string()),
    }
}
