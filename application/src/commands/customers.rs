//! Erasing a customer's personal data (crypto-shredding).

use domain::CustomerId;
use uuid::Uuid;

use super::{Commands, now};
use crate::event_log::{Append, CommandMetadata, NewEvent, StreamRef};
use crate::event_store::AppendOutcome;
use crate::schema::CustomerErased;
use crate::{Actor, CommandResult, Error, Role};

/// How many times recording an erasure is tried against a stream that moved meanwhile.
const ATTEMPTS: u32 = 5;

impl Commands {
    /// Erases customer `customer_id` (operators only): destroys every data key of theirs,
    /// so that the personal fields of their events (ticket subjects, messages and
    /// resolutions) read as erased everywhere from now on, and records the erasure as
    /// `CustomerErased` on the stream `customer/ID`. The log keeps the ciphertext, so its
    /// hash chains still hold. Erasing again destroys nothing more and is recorded again.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for other roles; [`Error::Validation`] for a malformed id;
    /// [`Error::NotConfigured`] when no data key is configured; the store's error.
    #[tracing::instrument(skip(self, metadata), fields(actor = %actor.subject))]
    pub async fn erase_customer(
        &self,
        actor: &Actor,
        customer_id: &str,
        metadata: &CommandMetadata,
    ) -> Result<CommandResult, Error> {
        actor.require(&[Role::Operator], "erase customers")?;
        let customer = CustomerId::parse(customer_id)?;
        // The keys go first: an erasure whose record failed is done, and trying again
        // records it; a record of an erasure that did not happen would be a lie.
        let keys_destroyed = self.personal.erase(customer.as_str()).await?;
        tracing::info!(customer = %customer, keys_destroyed, "customer erased");
        let stream = StreamRef::new(CustomerErased::STREAM_TYPE, customer.as_str());
        let encoded = CustomerErased::new(&customer, keys_destroyed, now()).encode();
        let mut attempt = 1;
        loop {
            let append = Append {
                stream: stream.clone(),
                expected_version: self.store.version(&stream).await?,
                head_hash: None,
                events: vec![NewEvent {
                    event_id: Uuid::now_v7(),
                    event_type: encoded.event_type.clone(),
                    event_version: encoded.event_version,
                    payload: encoded.payload.clone(),
                }],
                metadata: metadata.clone(),
                snapshot: None,
            };
            match self.store.append(&append).await {
                Ok(AppendOutcome::Appended { appended, .. }) => {
                    return Ok(CommandResult {
                        stream,
                        version: appended.version,
                        position: appended.position,
                    });
                }
                Ok(AppendOutcome::AlreadyApplied) => {
                    let (stream, appended) = self
                        .store
                        .command_outcome(metadata.command_id)
                        .await?
                        .ok_or_else(|| {
                            Error::Infrastructure("a recorded command vanished".into())
                        })?;
                    return Ok(CommandResult {
                        stream,
                        version: appended.version,
                        position: appended.position,
                    });
                }
                Err(Error::Conflict { .. }) if attempt < ATTEMPTS => attempt += 1,
                Err(error) => return Err(error),
            }
        }
    }
}
