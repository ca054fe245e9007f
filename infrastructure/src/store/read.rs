//! Reading events back: one stream, the global order, and filtered selections.

use application::ForCommand;
use application::event_log::{
    Appended, LoadedStream, Position, ReadFilter, RecordedEvent, Snapshot, StreamRef,
};
use sqlx::{QueryBuilder, Row};

use super::PgEventStore;
use super::row::{EVENT_COLUMNS, HEADER_COLUMNS, applied, recorded_event};
use crate::Error;
use uuid::Uuid;

impl PgEventStore {
    /// The stream's latest snapshot with `snapshot_schema` (an older schema is ignored:
    /// the state is then folded from the first event) and the events after it.
    ///
    /// # Errors
    /// [`Error::Database`] when the store cannot be read.
    pub async fn load(
        &self,
        stream: &StreamRef,
        snapshot_schema: i32,
    ) -> Result<LoadedStream, Error> {
        let (loaded, _) = self.load_with(stream, snapshot_schema, None).await?;
        Ok(loaded)
    }

    /// [`PgEventStore::load`], or the result of command `command_id` when it was applied
    /// already, in one statement.
    ///
    /// # Errors
    /// [`Error::Database`] when the store cannot be read.
    pub async fn load_for_command(
        &self,
        stream: &StreamRef,
        snapshot_schema: i32,
        command_id: Uuid,
    ) -> Result<ForCommand, Error> {
        Ok(
            match self
                .load_with(stream, snapshot_schema, Some(command_id))
                .await?
            {
                (_, Some((stream, appended))) => ForCommand::Applied(stream, appended),
                (loaded, None) => ForCommand::Loaded(loaded),
            },
        )
    }

    async fn load_with(
        &self,
        stream: &StreamRef,
        snapshot_schema: i32,
        command_id: Option<Uuid>,
    ) -> Result<(LoadedStream, Option<(StreamRef, Appended)>), Error> {
        // One statement (one round trip, one view of the data): the snapshot's columns and
        // the command's record on every row, then the events after the snapshot; a single
        // row of NULL events when there are none. The snapshot's state (kilobytes for a
        // SKU with many open reservations) only on the first row: versions are contiguous.
        let sql = format!(
            "SELECT s.version AS snapshot_version, s.schema_version AS snapshot_schema,
                    CASE WHEN e.version IS NULL OR e.version = s.version + 1 THEN s.state END
                        AS snapshot_state,
                    s.head_hash AS snapshot_hash,
                    c.stream_type AS applied_stream_type, c.stream_id AS applied_stream_id,
                    c.version AS applied_version, c.position AS applied_position,
                    c.transaction_id::text::bigint AS applied_transaction_id, e.*
             FROM (SELECT $1::text AS stream_type, $2::text AS stream_id) k
             LEFT JOIN snapshots s
               ON s.stream_type = k.stream_type AND s.stream_id = k.stream_id
              AND s.schema_version = $3
             LEFT JOIN commands c ON c.command_id = $4
             LEFT JOIN LATERAL (
               SELECT {EVENT_COLUMNS} FROM events
               WHERE events.stream_type = k.stream_type AND events.stream_id = k.stream_id
                 -- A scalar bound, so that it is the index's: joined to the snapshot row,
                 -- the planner scans the whole stream and filters.
                 AND events.version > coalesce(
                     (SELECT version FROM snapshots
                      WHERE stream_type = $1 AND stream_id = $2 AND schema_version = $3), 0)
             ) e ON true
             ORDER BY e.version"
        );
        let rows = sqlx::query(&sql)
            .bind(&stream.stream_type)
            .bind(&stream.stream_id)
            .bind(snapshot_schema)
            .bind(command_id)
            .fetch_all(&self.pool)
            .await?;
        let applied = rows.first().map(applied).transpose()?.flatten();
        let (snapshot, snapshot_hash) = match rows.first() {
            Some(row) => match row.try_get::<Option<i64>, _>("snapshot_version")? {
                Some(version) => (
                    Some(Snapshot {
                        version,
                        schema_version: row.try_get("snapshot_schema")?,
                        state: row.try_get("snapshot_state")?,
                    }),
                    row.try_get::<Option<Vec<u8>>, _>("snapshot_hash")?,
                ),
                None => (None, Some(Vec::new())),
            },
            None => (None, Some(Vec::new())),
        };
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            if row.try_get::<Option<i64>, _>("position")?.is_some() {
                events.push(recorded_event(row)?);
            }
        }
        let head_hash = match events.last() {
            Some(last) => Some(last.hash.clone()),
            None => snapshot_hash,
        };
        let loaded = LoadedStream {
            snapshot,
            events,
            head_hash,
        };
        Ok((loaded, applied))
    }

    /// The stream's version: the version of its last event, 0 when it has none (one probe
    /// of the stream's index).
    ///
    /// # Errors
    /// [`Error::Database`] when the store cannot be read.
    pub async fn version(&self, stream: &StreamRef) -> Result<i64, Error> {
        Ok(sqlx::query_scalar(
            "SELECT coalesce(max(version), 0) FROM events WHERE stream_type = $1 AND stream_id = $2",
        )
        .bind(&stream.stream_type)
        .bind(&stream.stream_id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// The stream's events after `after_version`, in version order.
    ///
    /// # Errors
    /// [`Error::Database`] when the store cannot be read.
    pub async fn read_stream(
        &self,
        stream: &StreamRef,
        after_version: i64,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE stream_type = $1 AND stream_id = $2 AND version > $3
             ORDER BY version"
        );
        sqlx::query(&sql)
            .bind(&stream.stream_type)
            .bind(&stream.stream_id)
            .bind(after_version)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(recorded_event)
            .collect()
    }

    /// Up to `limit` events after `after` in the global order, matching `filter`.
    ///
    /// Only events of transactions older than every transaction still in progress are
    /// returned, so a reader that resumes from the last position it saw never skips an
    /// event that commits late.
    ///
    /// # Errors
    /// [`Error::Database`] when the store cannot be read.
    pub async fn read_all(
        &self,
        after: Position,
        limit: i64,
        filter: &ReadFilter,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let mut query = match &filter.bodies_of {
            None => selection(EVENT_COLUMNS, after, filter),
            Some(followed) => {
                // Headers alone for the streams not followed: their JSON is neither sent
                // nor decoded.
                let mut query = QueryBuilder::new(format!("SELECT {HEADER_COLUMNS}, "));
                for column in ["payload", "metadata"] {
                    query.push("CASE WHEN stream_type = ANY(");
                    query.push_bind(followed.clone());
                    query.push(format!(
                        ") THEN {column} ELSE 'null'::jsonb END AS {column}, "
                    ));
                }
                query.push("recorded_at, prev_hash, hash FROM events WHERE ");
                narrowed(query, after, filter)
            }
        };
        // Qualified: the bare names would mean the computed output columns, which no index
        // provides (a full sort per batch).
        query.push(" ORDER BY events.transaction_id, events.position LIMIT ");
        query.push_bind(limit);
        query
            .build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(recorded_event)
            .collect()
    }

    /// How many events [`PgEventStore::read_all`] would return after `after` with `filter`
    /// and no limit, as of now: the total a long read measures its progress against.
    ///
    /// # Errors
    /// [`Error::Database`] when the store cannot be read.
    pub async fn count(&self, after: Position, filter: &ReadFilter) -> Result<i64, Error> {
        Ok(selection("count(*)", after, filter)
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await?)
    }
}

/// `SELECT columns ... WHERE` for the global order after `after`, below the oldest running
/// transaction, narrowed by `filter`. Parameters are pushed in a fixed order.
fn selection(
    columns: &str,
    after: Position,
    filter: &ReadFilter,
) -> QueryBuilder<'static, sqlx::Postgres> {
    narrowed(
        QueryBuilder::new(format!("SELECT {columns} FROM events WHERE ")),
        after,
        filter,
    )
}

/// `query` (which ends in `WHERE `) narrowed to the global order after `after`, below the
/// oldest running transaction, and to what `filter` keeps.
fn narrowed(
    mut query: QueryBuilder<'static, sqlx::Postgres>,
    after: Position,
    filter: &ReadFilter,
) -> QueryBuilder<'static, sqlx::Postgres> {
    query.push("(transaction_id, position) > (");
    query.push_bind(after.transaction_id.to_string());
    query.push("::xid8, ");
    query.push_bind(after.position);
    query.push(") AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())");
    if let Some(t) = &filter.stream_type {
        query.push(" AND stream_type = ").push_bind(t.clone());
    }
    if let Some(id) = &filter.stream_id {
        query.push(" AND stream_id = ").push_bind(id.clone());
    }
    if let Some(c) = filter.correlation_id {
        query
            .push(" AND metadata ->> 'correlationId' = ")
            .push_bind(c.to_string());
    }
    if let Some(from) = filter.from {
        query.push(" AND recorded_at >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        query.push(" AND recorded_at < ").push_bind(to);
    }
    if let Some(actor) = &filter.actor {
        query
            .push(" AND metadata ->> 'actor' = ")
            .push_bind(actor.clone());
    }
    query
}
