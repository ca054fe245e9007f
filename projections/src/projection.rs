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

    /// The read-model tables it writes (and only it writes): what a rebuild fills in the
    /// shadow schema and swaps in.
    fn tables(&self) -> &'static [&'static str];

    /// Applies one event (ignoring those of streams it does not follow).
    ///
    /// # Errors
    /// [`Error::Application`] when the event does not decode; [`Error::Database`] when a
    /// statement fails; [`Error::Unexpected`] for a stored value the read model cannot hold.
    async fn apply(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), Error>;
}

/// Applies `events` in order through `projection` on `tx`; on failure, the index of the
/// failing event and an [`Error::Handler`] naming it.
pub(crate) async fn apply_all(
    projection: &dyn Projection,
    tx: &mut PgConnection,
    events: &[RecordedEvent],
) -> Result<(), (usize, Error)> {
    for (at, event) in events.iter().enumerate() {
        if let Err(cause) = projection.apply(tx, event).await {
            return Err((
                at,
                Error::Handler {
                    projection: projection.name(),
                    position: event.position,
                    stream: event.stream.to_string(),
                    version: event.version,
                    event_type: event.event_type.clone(),
                    cause: Box::new(cause),
                },
            ));
        }
    }
    Ok(())
}
