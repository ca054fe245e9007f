//! Waking the read side right after a commit: the event-store port, wrapped so that every
//! successful append notifies whoever waits (projection workers in this process). Workers in
//! other processes find new events by polling.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::Error;
use crate::event_log::{
    Append, Appended, Integrity, LoadedStream, Position, ReadFilter, RecordedEvent, StreamRef,
};
use crate::event_store::{AppendOutcome, EventStore, ForCommand};

/// An event store that signals `commits` after each append that committed events.
pub struct SignallingStore {
    inner: Arc<dyn EventStore>,
    commits: Arc<Notify>,
}

impl std::fmt::Debug for SignallingStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignallingStore").finish_non_exhaustive()
    }
}

impl SignallingStore {
    /// Wraps `inner`; `commits` is notified after every committed append.
    #[must_use]
    pub fn new(inner: Arc<dyn EventStore>, commits: Arc<Notify>) -> Self {
        Self { inner, commits }
    }
}

#[async_trait]
impl EventStore for SignallingStore {
    async fn load(&self, stream: &StreamRef, snapshot_schema: i32) -> Result<LoadedStream, Error> {
        self.inner.load(stream, snapshot_schema).await
    }

    async fn load_for_command(
        &self,
        stream: &StreamRef,
        snapshot_schema: i32,
        command_id: Uuid,
    ) -> Result<ForCommand, Error> {
        self.inner
            .load_for_command(stream, snapshot_schema, command_id)
            .await
    }

    async fn version(&self, stream: &StreamRef) -> Result<i64, Error> {
        self.inner.version(stream).await
    }

    async fn append(&self, append: &Append) -> Result<AppendOutcome, Error> {
        let outcome = self.inner.append(append).await?;
        if matches!(outcome, AppendOutcome::Appended { .. }) {
            self.commits.notify_waiters();
        }
        Ok(outcome)
    }

    async fn command_outcome(
        &self,
        command_id: Uuid,
    ) -> Result<Option<(StreamRef, Appended)>, Error> {
        self.inner.command_outcome(command_id).await
    }

    async fn read_filtered(
        &self,
        after: Position,
        limit: i64,
        filter: &ReadFilter,
    ) -> Result<Vec<RecordedEvent>, Error> {
        self.inner.read_filtered(after, limit, filter).await
    }

    async fn head(&self) -> Result<Position, Error> {
        self.inner.head().await
    }

    async fn count(&self, after: Position, filter: &ReadFilter) -> Result<i64, Error> {
        self.inner.count(after, filter).await
    }

    async fn read_stream(
        &self,
        stream: &StreamRef,
        after_version: i64,
    ) -> Result<Vec<RecordedEvent>, Error> {
        self.inner.read_stream(stream, after_version).await
    }

    async fn verify(&self, stream: Option<&StreamRef>) -> Result<Integrity, Error> {
        self.inner.verify(stream).await
    }
}
