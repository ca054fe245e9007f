//! What every projection is: a named, idempotent handler of events.

use application::event_log::RecordedEvent;
use async_trait::async_trait;
use sqlx::PgConnection;

use crate::Error;

/// Turns events of the global order into rows of read-model tables.
///
/// A worker calls [`Projection::apply`] for every event of the log, in order, inside the
/// transaction that also advances the projection's checkpoint. Delivery is at least once:
/// every row records the stream version it has applied, and an event at or below it
/// changes nothing.
#[async_trait]
pub trait Projection: Send + Sync + std::fmt::Debug {
    /// The projection's name: its checkpoint row and its advisory lock.
    fn name(&self) -> &'static str;

    /// Applies one event (ignoring those of streams it does not follow).
    ///
    /// # Errors
    /// [`Error::Application`] when the event does not decode; [`Error::Database`] when a
    /// statement fails; [`Error::Unexpected`] for a stored value the read model cannot hold.
    async fn apply(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), Error>;
}
