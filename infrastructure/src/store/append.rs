//! Appending one command's events: one statement, one round trip.

use application::event_log::{Append, Appended, Position, StreamRef};
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::PgEventStore;
use super::hash::{Content, event_hash};
use super::row::applied;
use crate::Error;

const APPEND: &str = include_str!("../sql/append.sql");

/// SQLSTATE of a unique violation.
const UNIQUE_VIOLATION: &str = "23505";

impl PgEventStore {
    /// Appends `append.events` to the stream if it is still at `append.expected_version`
    /// (and its head still has `append.head_hash`; without one the head is read first),
    /// together with the hash chain, the command record and the optional snapshot, in one
    /// statement.
    ///
    /// # Errors
    /// - [`Error::Conflict`] when the stream is no longer at the expected version (another
    ///   command got there first): load again and decide again.
    /// - [`Error::DuplicateCommand`] when the command id was already applied; nothing was
    ///   appended, and [`PgEventStore::command_outcome`] has the first result.
    /// - [`Error::Database`] for anything else.
    pub async fn append(&self, append: &Append) -> Result<Appended, Error> {
        Ok(self.append_with_head(append).await?.0)
    }

    /// [`PgEventStore::append`], answering also the hash of the stream's new last event.
    ///
    /// # Errors
    /// Those of [`PgEventStore::append`].
    pub async fn append_with_head(&self, append: &Append) -> Result<(Appended, Vec<u8>), Error> {
        if append.events.is_empty() {
            return Err(Error::NothingToAppend);
        }
        let head_hash = match &append.head_hash {
            Some(hash) => hash.clone(),
            None => match self.head(&append.stream).await? {
                (version, hash) if version == append.expected_version => hash,
                _ => return Err(conflict(append)),
            },
        };
        let prepared = Prepared::new(append.clone(), head_hash)?;
        self.group.append(&self.pool, prepared).await
    }

    /// The stream's version and the hash of its last event (`0` and empty for a new one).
    async fn head(&self, stream: &StreamRef) -> Result<(i64, Vec<u8>), Error> {
        let row = sqlx::query(
            "SELECT version, hash FROM events WHERE stream_type = $1 AND stream_id = $2
             ORDER BY version DESC LIMIT 1",
        )
        .bind(&stream.stream_type)
        .bind(&stream.stream_id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok((row.try_get("version")?, row.try_get("hash")?)),
            None => Ok((0, Vec::new())),
        }
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
            "SELECT stream_type AS applied_stream_type, stream_id AS applied_stream_id,
                    version AS applied_version, position AS applied_position,
                    transaction_id::text::bigint AS applied_transaction_id
             FROM commands WHERE command_id = $1",
        )
        .bind(command_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(applied).transpose()?.flatten())
    }
}

/// One command's append, ready to be written: its events hashed onto the head they expect.
#[derive(Debug)]
pub(super) struct Prepared {
    pub(super) append: Append,
    pub(super) head_hash: Vec<u8>,
    pub(super) metadata: serde_json::Value,
    pub(super) recorded_at: DateTime<Utc>,
    /// The hash each event links to, and its own.
    pub(super) prev_hashes: Vec<Vec<u8>>,
    pub(super) hashes: Vec<Vec<u8>>,
}

impl Prepared {
    fn new(append: Append, head_hash: Vec<u8>) -> Result<Self, Error> {
        let metadata =
            serde_json::to_value(&append.metadata).map_err(|e| Error::Encode(e.to_string()))?;
        // Stored with microsecond precision, and hashed as stored.
        let now = Utc::now();
        let recorded_at =
            DateTime::<Utc>::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
        let count = append.events.len();
        let (mut prev_hashes, mut hashes) = (Vec::with_capacity(count), Vec::with_capacity(count));
        let mut prev = head_hash.clone();
        for (event, version) in append.events.iter().zip(append.expected_version + 1..) {
            let hash = event_hash(
                &prev,
                &Content {
                    stream_type: &append.stream.stream_type,
                    stream_id: &append.stream.stream_id,
                    version,
                    event_id: event.event_id,
                    event_type: &event.event_type,
                    event_version: event.event_version,
                    recorded_at,
                    metadata: &metadata,
                    payload: &event.payload,
                },
            );
            prev_hashes.push(std::mem::replace(&mut prev, hash.clone()));
            hashes.push(hash);
        }
        Ok(Self {
            append,
            head_hash,
            metadata,
            recorded_at,
            prev_hashes,
            hashes,
        })
    }

    /// The hash of the stream's last event once this is appended.
    pub(super) fn new_head(&self) -> Vec<u8> {
        self.hashes.last().cloned().unwrap_or_default()
    }
}

/// The error of an append whose stream is no longer at its expected version.
pub(super) fn conflict(append: &Append) -> Error {
    Error::Conflict {
        stream: append.stream.to_string(),
        expected_version: append.expected_version,
    }
}

/// Writes one prepared append in one statement.
pub(super) async fn append_one(
    pool: &PgPool,
    prepared: &Prepared,
) -> Result<(Appended, Vec<u8>), Error> {
    let append = &prepared.append;
    let ids: Vec<Uuid> = append.events.iter().map(|e| e.event_id).collect();
    let types: Vec<&str> = append
        .events
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    let versions: Vec<i32> = append.events.iter().map(|e| e.event_version).collect();
    let payloads: Vec<&serde_json::Value> = append.events.iter().map(|e| &e.payload).collect();
    let snapshot = append.snapshot.as_ref();
    let result = sqlx::query(APPEND)
        .bind(&append.stream.stream_type)
        .bind(&append.stream.stream_id)
        .bind(append.expected_version)
        .bind(&prepared.head_hash)
        .bind(&ids)
        .bind(&types)
        .bind(&versions)
        .bind(&payloads)
        .bind(&prepared.prev_hashes)
        .bind(&prepared.hashes)
        .bind(&prepared.metadata)
        .bind(prepared.recorded_at)
        .bind(append.metadata.command_id)
        .bind(snapshot.map(|s| s.schema_version))
        .bind(snapshot.map(|s| &s.state))
        .bind(snapshot.map(|s| s.version))
        .fetch_optional(pool)
        .await;
    let row = match result {
        Ok(Some(row)) => row,
        // The head guard let nothing through: the stream moved on.
        Ok(None) => return Err(conflict(append)),
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some(UNIQUE_VIOLATION) => {
            return Err(match db.constraint() {
                Some("commands_pkey") => Error::DuplicateCommand {
                    command_id: append.metadata.command_id,
                },
                _ => conflict(append),
            });
        }
        Err(other) => return Err(other.into()),
    };
    let appended = Appended {
        version: row.try_get("version")?,
        position: Position {
            transaction_id: transaction_id(row.try_get("transaction_id")?),
            position: row.try_get("position")?,
        },
    };
    Ok((appended, prepared.new_head()))
}

/// xid8 values are read as bigint: they stay below 2^63 for the life of any cluster
/// (2^32 transactions per epoch, 2^31 epochs).
pub(super) fn transaction_id(raw: i64) -> u64 {
    u64::try_from(raw).unwrap_or_default()
}
