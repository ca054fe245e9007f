//! `domainflow customers erase ID` and `domainflow data-key generate FILE`: erasing a
//! customer's personal data from the command line, with the server's data key.

use application::event_log::CommandMetadata;
use application::{Actor, Commands, RepositoryOptions};
use uuid::Uuid;

use super::database::with_pool;
use super::serve::data_key;
use super::{CustomersCommand, DataKeyCommand, FileSettings};
use crate::app::event_store;

/// Runs a `customers` subcommand; its output.
///
/// # Errors
/// No data key, a malformed id, or why the database could not be opened or written.
pub async fn customers(command: CustomersCommand, file: FileSettings) -> Result<String, String> {
    let CustomersCommand::Erase {
        customer,
        data_key: key,
        database,
    } = command;
    let key = data_key(key.as_ref(), &file)?.ok_or_else(|| {
        "erasing a customer needs the server's data key: --data-key FILE".to_owned()
    })?;
    with_pool(database, file, |pool| async move {
        let personal = infrastructure::open_personal_data(&pool, Some(key), false).await?;
        // Registering a payment token is the one thing commands ask of the provider, and
        // an erasure places no order.
        let commands = Commands::new(
            event_store(&pool),
            &RepositoryOptions::default(),
            infrastructure::SimulatedProvider::simulation(),
        )
        .with_personal_data(personal);
        let console = Actor::console();
        let id = Uuid::now_v7();
        let metadata = CommandMetadata {
            command_id: id,
            correlation_id: id,
            causation_id: None,
            actor: console.subject.clone(),
            client_correlation_id: None,
        };
        let result = commands
            .erase_customer(&console, &customer, &metadata)
            .await
            .map_err(|e| e.to_string())?;
        Ok(format!(
            "customer {} erased: their personal data reads as erased from now on \
             (recorded as {} version {}, position {})",
            customer.trim(),
            result.stream,
            result.version,
            result.position.token()
        ))
    })
    .await
}

/// Runs a `data-key` subcommand; its output.
///
/// # Errors
/// Why the key could not be written.
pub fn data_key_command(command: DataKeyCommand) -> Result<String, String> {
    let DataKeyCommand::Generate { file } = command;
    infrastructure::DataKey::generate(&file)?;
    Ok(format!(
        "data key written to {} (readable by its owner only); start the server with \
         --data-key {}",
        file.display(),
        file.display()
    ))
}
