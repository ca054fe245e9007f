//! The event-store port: what the use cases need from whatever stores the events.

use async_trait::async_trait;
use uuid::Uuid;

use crate::Error;
use crate::event_log::{Append, Appended, LoadedStream, Position, RecordedEvent, StreamRef};

/// What became of an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOutcome {
    /// The events were appended.
    Appended(Appended),
    /// The command id was already applied; nothing was appended.
    AlreadyApplied,
}

/// Stores and loads event streams.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// The stream's latest snapshot of `snapshot_schema` and the events after it.
    ///
    /// # Errors
    /// [`Error::Infrastructure`] when the store cannot be read.
    async fn load(&self, stream: &StreamRef, snapshot_schema: i32) -> Result<LoadedStream, Error>;

    /// Appends one command's events atomically with its command record and snapshot.
    ///
    /// # Errors
    /// [`Error::Conflict`] when the stream moved past `append.expected_version`;
    /// [`Error::Infrastructure`] when the store fails.
    async fn append(&self, append: &Append) -> Result<AppendOutcome, Error>;

    /// The stream and result of an already applied command.
    ///
    /// # Errors
    /// [`Error::Infrastructure`] when the store cannot be read.
    async fn command_outcome(
        &self,
        command_id: Uuid,
    ) -> Result<Option<(StreamRef, Appended)>, Error>;

    /// Up to `limit` events after `after` in the global order `(transaction_id, position)`.
    ///
    /// Only events of transactions older than every transaction still running are
    /// returned, so a reader resuming from the last position it saw never skips an event
    /// that commits late.
    ///
    /// # Errors
    /// [`Error::Infrastructure`] when the store cannot be read.
    async fn read_all(&self, after: Position, limit: i64) -> Result<Vec<RecordedEvent>, Error>;
}
