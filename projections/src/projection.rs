//! What every projection is: a named, idempotent handler of batches of events.

use application::event_log::RecordedEvent;
use async_trait::async_trait;
use sqlx::{Executor as _, PgConnection};

use crate::Error;
use crate::decode::{DomainEvent, decode};

/// Turns events of the global order into rows of read-model tables.
///
/// A worker calls [`Projection::apply`] with each batch of the log, in order, inside the
/// transaction that also advances the projection's checkpoint. A projection reads the rows
/// the batch touches once, folds the batch into them in memory and writes each table once,
/// so a batch costs a few statements whatever its length. Delivery is at least once: every
/// row records the stream version it has applied, and an event at or below it changes
/// nothing.
///
/// The first statement on each table locks the rows it reads (`SELECT ... FOR UPDATE`),
/// which takes the table's ROW SHARE lock before any write: a rebuild's swap locks the
/// tables in EXCLUSIVE mode and then renames them, and a worker that only read a table
/// (ACCESS SHARE) before writing to it would deadlock with it.
#[async_trait]
pub trait Projection: Send + Sync + std::fmt::Debug {
    /// The projection's name: its checkpoint row and its advisory lock.
    fn name(&self) -> &'static str;

    /// The read-model tables it writes (and only it writes): what a rebuild fills in the
    /// shadow schema and swaps in.
    fn tables(&self) -> &'static [&'static str];

    /// The types of the streams whose events it applies; it reads the others' headers
    /// alone, to step past them.
    fn follows(&self) -> &'static [&'static str];

    /// Applies `events` in order (ignoring those of streams it does not follow).
    ///
    /// # Errors
    /// [`Error::Handler`] naming the event when one event is at fault (it does not decode,
    /// or holds a value the read model cannot); the error of a statement otherwise, which
    /// belongs to the batch as a whole.
    async fn apply(&self, tx: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), Error>;
}

/// `cause`, which `event` caused in `projection`, as the error naming that event.
pub(crate) fn caused_by(projection: &'static str, event: &RecordedEvent, cause: Error) -> Error {
    Error::Handler {
        projection,
        position: event.position,
        stream: event.stream.to_string(),
        version: event.version,
        event_type: event.event_type.clone(),
        cause: Box::new(cause),
    }
}

/// The events of `events` on streams of the types `follows` that `pick` keeps, decoded,
/// beside their records. Events of other streams are not decoded at all.
///
/// # Errors
/// [`Error::Handler`] naming the first event that does not decode.
pub(crate) fn decoded<'a, T>(
    projection: &'static str,
    events: &'a [RecordedEvent],
    follows: &[&str],
    pick: impl Fn(DomainEvent) -> Option<T>,
) -> Result<Vec<(&'a RecordedEvent, T)>, Error> {
    let mut kept = Vec::new();
    for event in events {
        if !follows.contains(&event.stream.stream_type.as_str()) {
            continue;
        }
        match decode(event) {
            Ok(Some(domain_event)) => {
                if let Some(picked) = pick(domain_event) {
                    kept.push((event, picked));
                }
            }
            Ok(None) => {}
            Err(cause) => return Err(caused_by(projection, event, cause)),
        }
    }
    Ok(kept)
}

/// Where in `events` the event an error names sits; `None` when the error is the batch's.
pub(crate) fn failed_at(events: &[RecordedEvent], error: &Error) -> Option<usize> {
    let Error::Handler { position, .. } = error else {
        return None;
    };
    events.iter().position(|event| event.position == *position)
}

/// Applies `events` through `projection` in `tx`. When they fail as a whole (a statement over
/// all their rows names no event), they are applied again one at a time in the same
/// transaction, so the error names the event at fault; a failure that passes (a deadlock,
/// say) then goes through.
///
/// # Errors
/// [`Error::Handler`] naming the event at fault; a lost connection's error as it is.
pub(crate) async fn apply_naming(
    projection: &dyn Projection,
    tx: &mut PgConnection,
    events: &[RecordedEvent],
) -> Result<(), Error> {
    let name = projection.name();
    let lone = |event: &RecordedEvent, error: Error| match error {
        Error::Handler { .. } => error,
        other if other.is_connection_lost() => other,
        other => caused_by(name, event, other),
    };
    if let [event] = events {
        return projection
            .apply(tx, events)
            .await
            .map_err(|e| lone(event, e));
    }
    tx.execute("SAVEPOINT batch").await?;
    match projection.apply(tx, events).await {
        Ok(()) => Ok(()),
        Err(error) if failed_at(events, &error).is_some() || error.is_connection_lost() => {
            Err(error)
        }
        Err(error) => {
            tracing::debug!(%error, "batch failed as a whole; applying its events one at a time");
            tx.execute("ROLLBACK TO SAVEPOINT batch").await?;
            for event in events {
                projection
                    .apply(tx, std::slice::from_ref(event))
                    .await
                    .map_err(|e| lone(event, e))?;
            }
            Ok(())
        }
    }
}
