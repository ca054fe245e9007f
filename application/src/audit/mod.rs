//! The audit use cases, for auditors and operators (every other role is refused): the
//! event history read straight from the log, never from a read model, as pages or streamed
//! whole in flat memory; an aggregate's state as it stood at a version or an instant; and
//! the hash chains recomputed from the stored content.
//!
//! Pages of the history show customers' personal fields in the plain (or as erased, once
//! the customer's keys are destroyed); the whole-log stream behind exports keeps them as
//! stored, encrypted, so that an export can be checked against the hashes offline and
//! holds nothing readable of a customer erased after it was taken.

mod batches;
mod selection;

use std::fmt;
use std::sync::Arc;

use futures::Stream;

pub use batches::EXPORT_BATCH;
pub use selection::{STREAM_TYPES, Selection, parse_time, stream_ref};

use crate::event_log::{Integrity, Position, ReadFilter, RecordedEvent, StreamRef};
use crate::history::{AsOf, Past, state_as_of};
use crate::personal_data::{PersonalData, Unprotected, reveal_values};
use crate::repository::stream;
use crate::{Actor, Error, EventSourced, EventStore, Role, Upcasters};

/// The roles that read the history.
const READERS: [Role; 2] = [Role::Auditor, Role::Operator];

/// Reading the event log for audit, over the event-store port.
#[derive(Clone)]
pub struct Audit {
    store: Arc<dyn EventStore>,
    upcasters: Arc<Upcasters>,
    personal: Arc<dyn PersonalData>,
}

impl fmt::Debug for Audit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Audit").finish_non_exhaustive()
    }
}

impl Audit {
    /// The history kept in `store`, decoded with the current upcasters.
    #[must_use]
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Self {
            store,
            upcasters: Arc::new(Upcasters::current()),
            personal: Arc::new(Unprotected),
        }
    }

    /// This history, showing customers' personal fields as `personal` reveals them.
    #[must_use]
    pub fn with_personal_data(self, personal: Arc<dyn PersonalData>) -> Self {
        Self { personal, ..self }
    }

    /// Refuses every role but auditor and operator.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for the other roles.
    pub fn may_read(actor: &Actor) -> Result<(), Error> {
        actor.require(&READERS, "read the event history")
    }

    /// Up to `limit` events after `after` that `filter` keeps, in the global order, with
    /// personal fields revealed.
    ///
    /// # Errors
    /// [`Error::Forbidden`]; the store's error; that of revealing.
    pub async fn events(
        &self,
        actor: &Actor,
        after: Position,
        filter: &ReadFilter,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, Error> {
        Self::may_read(actor)?;
        let mut events = self.store.read_filtered(after, limit, filter).await?;
        let mut payloads: Vec<&mut serde_json::Value> =
            events.iter_mut().map(|event| &mut event.payload).collect();
        reveal_values(self.personal.as_ref(), &mut payloads).await?;
        Ok(events)
    }

    /// How many events the selection holds now: what a long export measures its progress
    /// against.
    ///
    /// # Errors
    /// [`Error::Forbidden`]; the store's error.
    pub async fn count(
        &self,
        actor: &Actor,
        after: Position,
        filter: &ReadFilter,
    ) -> Result<i64, Error> {
        Self::may_read(actor)?;
        self.store.count(after, filter).await
    }

    /// Every event of the selection, [`EXPORT_BATCH`] at a time, up to the end of what is
    /// readable now; one batch is held at a time.
    ///
    /// # Errors
    /// [`Error::Forbidden`] before anything is read.
    pub fn stream(
        &self,
        actor: &Actor,
        after: Position,
        filter: ReadFilter,
    ) -> Result<impl Stream<Item = Result<Vec<RecordedEvent>, Error>> + Send + 'static, Error> {
        Self::may_read(actor)?;
        Ok(batches::batches(
            Arc::clone(&self.store),
            after,
            filter,
            EXPORT_BATCH,
        ))
    }

    /// Recomputes the hash chains (of `stream`, or of all) from the stored content.
    ///
    /// # Errors
    /// [`Error::Forbidden`]; the store's error.
    pub async fn verify(
        &self,
        actor: &Actor,
        stream: Option<&StreamRef>,
    ) -> Result<Integrity, Error> {
        Self::may_read(actor)?;
        self.store.verify(stream).await
    }

    /// Aggregate `id`'s state as of `as_of`, folded from its events with the domain code;
    /// `None` when nothing of it is that old.
    ///
    /// # Errors
    /// [`Error::Forbidden`]; [`Error::Schema`] when a stored event does not decode; the
    /// store's error.
    pub async fn as_of<A: EventSourced>(
        &self,
        actor: &Actor,
        id: &str,
        as_of: &AsOf,
    ) -> Result<Option<Past<A>>, Error> {
        Self::may_read(actor)?;
        let events = self.store.read_stream(&stream::<A>(id), 0).await?;
        state_as_of::<A>(events, as_of, &self.upcasters)
    }
}
