//! Appending one command's events: one statement, one round trip.

use application::event_log::{Append, Appended, Position, StreamRef};
use sqlx::Row;
use uuid::Uuid;

use super::PgEventStore;
use crate::Error;

const APPEND: &str = include_str!("../sql/append.sql");

/// SQLSTATE of a unique violation.
const UNIQUE_VIOLATION: &str = "23505";

impl PgEventStore {
    /// Appends `append.events` to the stream if it is still at `append.expected_version`,
    /// together with the command record and the optional snapshot, atomically.
    ///
    /// # Errors
    /// - [`Error::Conflict`] when the stream is no longer at the expected version (another
    ///   command got there first): load again and decide again.
    /// - [`Error::DuplicateCommand`] when the command id was already applied; nothing was
    ///   appended, and [`PgEventStore::command_outcome`] has the first result.
    /// - [`Error::Database`] for anything else.
    pub async fn append(&self, append: &Append) -> Result<Appended, Error> {
        let conflict = || Error::Conflict {
            stream: append.stream.to_string(),
            expected_version: append.expected_version,
        };
        if append.events.is_empty() {
            return Err(Error::NothingToAppend);
        }
        let mut ids = Vec::with_capacity(append.events.len());
        let mut types = Vec::with_capacity(append.events.len());
        let mut versions = Vec::with_capacity(append.events.len());
        let mut payloads = Vec::with_capacity(append.events.len());
        for event in &append.events {
            ids.push(event.event_id);
            types.push(event.event_type.as_str());
            versions.push(event.event_version);
            payloads.push(&event.payload);
        }
        let metadata =
            serde_json::to_value(&append.metadata).map_err(|e| Error::Encode(e.to_string()))?;
        let snapshot = append.snapshot.as_ref();
        let result = sqlx::query(APPEND)
            .bind(&append.stream.stream_type)
            .bind(&append.stream.stream_id)
            .bind(append.expected_version)
            .bind(&ids)
            .bind(&types)
            .bind(&versions)
            .bind(&payloads)
            .bind(&metadata)
            .bind(Some(append.metadata.command_id))
            .bind(snapshot.map(|s| s.schema_version))
            .bind(snapshot.map(|s| &s.state))
            .bind(snapshot.map(|s| s.version))
            .fetch_optional(&self.pool)
            .await;
        let row = match result {
            Ok(Some(row)) => row,
            // The version guard let nothing through: the stream moved on.
            Ok(None) => return Err(conflict()),
            Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some(UNIQUE_VIOLATION) => {
                return Err(match db.constraint() {
                    Some("commands_pkey") => Error::DuplicateCommand {
                        command_id: append.metadata.command_id,
                    },
                    _ => conflict(),
                });
            }
            Err(other) => return Err(other.into()),
        };
        Ok(Appended {
            version: row.try_get("version")?,
            position: Position {
                transaction_id: transaction_id(row.try_get("transaction_id")?),
                position: row.try_get("position")?,
            },
        })
    }

    /// The result of an already applied command, if `command_id` was applied.
    ///
    /// # Errors
    /// [`Error::Database`] when the store cannot be read.
    pub async fn command_outcome(
        &self,
        command_id: Uuid,
    ) -> Result<Option<(StreamRef, Appended)>, Error> {
        let row = sqlx::query(
            "SELECT stream_type, stream_id, version, position,
                    transaction_id::text::bigint AS transaction_id
             FROM commands WHERE command_id = $1",
        )
        .bind(command_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok((
                StreamRef::new(
                    row.try_get::<String, _>("stream_type")?,
                    row.try_get::<String, _>("stream_id")?,
                ),
                Appended {
                    version: row.try_get("version")?,
                    position: Position {
                        transaction_id: transaction_id(row.try_get("transaction_id")?),
                        position: row.try_get("position")?,
                    },
                },
            ))
        })
        .transpose()
    }
}

/// xid8 values are read as bigint: they stay below 2^63 for the life of any cluster
/// (2^32 transactions per epoch, 2^31 epochs).
pub(super) fn transaction_id(raw: i64) -> u64 {
    u64::try_from(raw).unwrap_or_default()
}
