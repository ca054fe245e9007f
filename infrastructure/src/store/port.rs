//! [`PgEventStore`] as the application's event-store port.

use application::error::with_causes;
use application::event_log::{
    Append, Appended, Integrity, LoadedStream, Position, RecordedEvent, StreamRef,
};
use application::{AppendOutcome, EventStore, ForCommand};
use async_trait::async_trait;
use uuid::Uuid;

use super::{PgEventStore, ReadFilter};
use crate::Error;

#[async_trait]
impl EventStore for PgEventStore {
    async fn load(
        &self,
        stream: &StreamRef,
        snapshot_schema: i32,
    ) -> Result<LoadedStream, application::Error> {
        Ok(PgEventStore::load(self, stream, snapshot_schema).await?)
    }

    async fn load_for_command(
        &self,
        stream: &StreamRef,
        snapshot_schema: i32,
        command_id: Uuid,
    ) -> Result<ForCommand, application::Error> {
        Ok(PgEventStore::load_for_command(self, stream, snapshot_schema, command_id).await?)
    }

    async fn version(&self, stream: &StreamRef) -> Result<i64, application::Error> {
        Ok(PgEventStore::version(self, stream).await?)
    }

    async fn append(&self, append: &Append) -> Result<AppendOutcome, application::Error> {
        match PgEventStore::append_with_head(self, append).await {
            Ok((appended, head_hash)) => Ok(AppendOutcome::Appended {
                appended,
                head_hash,
            }),
            Err(Error::DuplicateCommand { .. }) => Ok(AppendOutcome::AlreadyApplied),
            Err(other) => Err(other.into()),
        }
    }

    async fn command_outcome(
        &self,
        command_id: Uuid,
    ) -> Result<Option<(StreamRef, Appended)>, application::Error> {
        Ok(PgEventStore::command_outcome(self, command_id).await?)
    }

    async fn read_filtered(
        &self,
        after: Position,
        limit: i64,
        filter: &ReadFilter,
    ) -> Result<Vec<RecordedEvent>, application::Error> {
        Ok(PgEventStore::read_all(self, after, limit, filter).await?)
    }

    async fn head(&self) -> Result<Position, application::Error> {
        let xmin: String =
            sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
                .fetch_one(self.pool())
                .await
                .map_err(Error::from)?;
        let xmin: u64 = xmin
            .parse()
            .map_err(|_| application::Error::Infrastructure(format!("snapshot xmin {xmin:?}")))?;
        Ok(Position {
            transaction_id: xmin.saturating_sub(1),
            position: i64::MAX,
        })
    }

    async fn count(&self, after: Position, filter: &ReadFilter) -> Result<i64, application::Error> {
        Ok(PgEventStore::count(self, after, filter).await?)
    }

    async fn read_stream(
        &self,
        stream: &StreamRef,
        after_version: i64,
    ) -> Result<Vec<RecordedEvent>, application::Error> {
        Ok(PgEventStore::read_stream(self, stream, after_version).await?)
    }

    async fn verify(&self, stream: Option<&StreamRef>) -> Result<Integrity, application::Error> {
        Ok(PgEventStore::verify(self, stream).await?)
    }
}

impl From<Error> for application::Error {
    fn from(error: Error) -> Self {
        match error {
            Error::Conflict {
                stream,
                expected_version,
            } => Self::Conflict {
                stream,
                expected_version,
            },
            other if other.is_unavailable() => Self::Unavailable(with_causes(&other)),
            other => Self::Infrastructure(with_causes(&other)),
        }
    }
}
