//! `domainflow dead-letters list|retry ID`: the saga's failed actions, and their redrive.

use std::sync::Arc;

use application::operations::{Operations, Redrive};
use application::personal_data::{PersonalData, Unprotected};
use application::{Actor, Commands, RepositoryOptions};
use sqlx::PgPool;

use super::database::with_pool;
use super::table::table;
use super::{DeadLettersCommand, FileSettings, provider_settings};
use crate::payment::ProviderSettings;
use crate::saga::{SagaConfig, SagaRuntime};

/// Runs a `dead-letters` subcommand; its output.
///
/// # Errors
/// Why the database could not be opened or read, an unknown id, or a redrive that failed
/// again (with its error).
pub async fn dead_letters(
    command: DeadLettersCommand,
    file: FileSettings,
) -> Result<String, String> {
    match command {
        DeadLettersCommand::List { database } => {
            with_pool(database, file, |pool| async move {
                // Listing writes nothing personal.
                let letters =
                    operations(&pool, &ProviderSettings::default(), Arc::new(Unprotected))?
                        .dead_letters(&Actor::console(), None, 1000)
                        .await
                        .map_err(|e| e.to_string())?;
                if letters.is_empty() {
                    return Ok("no dead letters".to_owned());
                }
                let rows: Vec<[String; 6]> = letters
                    .into_iter()
                    .map(|l| {
                        [
                            l.id.to_string(),
                            l.order.to_string(),
                            l.action,
                            l.attempts.to_string(),
                            l.last_failed_at.to_rfc3339(),
                            l.error,
                        ]
                    })
                    .collect();
                Ok(table(
                    ["ID", "ORDER", "ACTION", "ATTEMPTS", "LAST FAILED", "ERROR"],
                    &rows,
                    &[0, 3],
                ))
            })
            .await
        }
        DeadLettersCommand::Retry {
            id,
            database,
            provider,
            data_key,
        } => {
            // The redrive charges, looks up and refunds through the provider `serve` uses,
            // and the simulation's ledger is the one `serve` keeps in the database.
            let provider = provider_settings(provider, &file)?;
            provider.validate()?;
            let key = super::serve::data_key(data_key.as_ref(), &file)?;
            with_pool(database, file, |pool| async move {
                let personal = infrastructure::open_personal_data(&pool, key, false).await?;
                let operations = operations(&pool, &provider, personal)?;
                match operations.redrive(&Actor::console(), id).await {
                    Ok(Redrive::Completed) => Ok(format!("dead letter {id} redriven and removed")),
                    Ok(Redrive::Failed { error, attempts }) => Err(format!(
                        "dead letter {id} failed again (attempt {attempts}): {error}"
                    )),
                    Err(error) => Err(error.to_string()),
                }
            })
            .await
        }
    }
}

/// The operators' use cases over `pool`, redriving through the payment provider `provider`
/// names (the simulation keeps its ledger in the same database, as `serve` does) and
/// storing customers' personal data through `personal`, as `serve` does.
///
/// # Errors
/// Settings the provider cannot be built from.
pub(super) fn operations(
    pool: &PgPool,
    provider: &ProviderSettings,
    personal: Arc<dyn PersonalData>,
) -> Result<Operations, String> {
    let saga_config = SagaConfig::with_provider(provider, Some(pool))?;
    let commands = Commands::new(
        crate::app::event_store(pool),
        &RepositoryOptions::default(),
        std::sync::Arc::clone(&saga_config.provider),
    )
    .with_personal_data(personal);
    let saga = SagaRuntime::new(commands, &saga_config);
    Ok(crate::app::operations(pool, saga.fulfil))
}
