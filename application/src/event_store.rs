//! The event-store port: what the use cases need from whatever stores the events.

use async_trait::async_trait;
use uuid::Uuid;

use crate::Error;
use crate::event_log::{
    Append, Appended, Integrity, LoadedStream, Position, ReadFilter, RecordedEvent, StreamRef,
};

/// What became of an append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendOutcome {
    /// The events were appended.
    Appended {
        /// Where they landed.
        appended: Appended,
        /// The hash of the stream's last event now (the next append's head hash).
        head_hash: Vec<u8>,
    },
    /// The command id was already applied; nothing was appended.
    AlreadyApplied,
}

/// A stream loaded to decide a command on, unless that command was applied already.
#[derive(Debug, Clone)]
pub enum ForCommand {
    /// The command was applied before: the stream it went to, and where its events landed.
    Applied(StreamRef, Appended),
    /// The stream, to decide the command on.
    Loaded(LoadedStream),
}

/// Stores and loads event streams.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// The stream's latest snapshot of `snapshot_schema` and the events after it.
    ///
    /// # Errors
    /// [`Error::Infrastructure`] when the store cannot be read.
    async fn load(&self, stream: &StreamRef, snapshot_schema: i32) -> Result<LoadedStream, Error>;

    /// [`EventStore::load`] for deciding command `command_id`, or that command's result
    /// when it was applied already ([`EventStore::command_outcome`]), in one look.
    ///
    /// # Errors
    /// [`Error::Infrastructure`] when the store cannot be read.
    async fn load_for_command(
        &self,
        stream: &StreamRef,
        snapshot_schema: i32,
        command_id: Uuid,
    ) -> Result<ForCommand, Error>;

    /// The stream's version: the version of its last event, 0 when it has none.
    ///
    /// # Errors
    /// [`Error::Infrastructure`] when the store cannot be read.
    async fn version(&self, stream: &StreamRef) -> Result<i64, Error>;

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
    async fn read_all(&self, after: Position, limit: i64) -> Result<Vec<RecordedEvent>, Error> {
        self.read_filtered(after, limit, &ReadFilter::default())
            .await
    }

    /// Where a reader that wants only what is appended from now on starts: after
    /// everything committed and visible now (an event of a transaction still running
    /// counts as new).
    ///
    /// # Errors
    /// [`Error::Infrastructure`] when the store cannot be read.
    async fn head(&self) -> Result<Position, Error>;

    /// [`EventStore::read_all`] narrowed to the events `filter` keeps.
    ///
    /// # Errors
    /// [`Error::Infrastructure`] when the store cannot be read.
    async fn read_filtered(
        &self,
        after: Position,
        limit: i64,
        filter: &ReadFilter,
    ) -> Result<Vec<RecordedEvent>, Error>;

    /// How many events [`EventStore::read_filtered`] would return with no limit, as of now.
    ///
    /// # Errors
    /// [`Error::Infrastructure`] when the store cannot be read.
    async fn count(&self, after: Position, filter: &ReadFilter) -> Result<i64, Error>;

    /// The stream's events after `after_version`, in version order.
    ///
    /// # Errors
    /// [`Error::Infrastructure`] when the store cannot be read.
    async fn read_stream(
        &self,
        stream: &StreamRef,
        after_version: i64,
    ) -> Result<Vec<RecordedEvent>, Error>;

    /// Recomputes every link of the hash chains (of `stream`, or of all) from the stored
    /// content.
    ///
    /// # Errors
    /// [`Error::Infrastructure`] when the store cannot be read.
    async fn verify(&self, stream: Option<&StreamRef>) -> Result<Integrity, Error>;
}
