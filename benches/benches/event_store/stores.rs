//! The stores the contenders append and read through: our event store, postgres-es's
//! repository, and the raw `UNNEST` insert and keyset query.

use std::hint::black_box;

use application::aggregates::OrderAggregate;
use application::event_log::{Append, Position, StreamRef};
use cqrs_es::persist::{PersistedEventRepository, SerializedEvent};
use infrastructure::{PgEventStore, ReadFilter};
use postgres_es::PostgresEventRepository;
use sqlx::{PgPool, Row};

use super::{Command, Contender, READ_BATCH, READ_EVENTS, Reader, STREAM_TYPE};

const RAW_INSERT: &str = "
INSERT INTO raw_events (stream_type, stream_id, version, event_id, event_type, event_version,
                        payload, metadata)
SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::uuid[], $5::text[],
                     $6::integer[], $7::jsonb[], $8::jsonb[])";

/// `read_all`'s query, rows left undecoded but for the keyset columns.
const RAW_READ: &str = "
SELECT position, transaction_id::text::bigint AS transaction_id, stream_type, stream_id,
       version, event_id, event_type, event_version, payload, metadata, recorded_at,
       prev_hash, hash
FROM events
WHERE (transaction_id, position) > ($1::text::xid8, $2)
  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY events.transaction_id, events.position
LIMIT $3";

/// Everything the contenders write and read through.
pub(super) struct Stores {
    pub(super) pool: PgPool,
    pub(super) ours: PgEventStore,
    pub(super) postgres_es: PostgresEventRepository,
}

impl Stores {
    pub(super) async fn append(&self, contender: Contender, command: Command) {
        match contender {
            Contender::Ours => self.append_ours(command).await,
            Contender::PostgresEs => self.append_postgres_es(command).await,
            Contender::RawUnnest => self.append_raw(command).await,
        }
    }

    async fn append_ours(&self, command: Command) {
        let append = Append {
            stream: StreamRef::new(STREAM_TYPE, command.stream_id),
            expected_version: 0,
            head_hash: Some(Vec::new()),
            events: command.events,
            metadata: command.metadata,
            snapshot: None,
        };
        self.ours.append(&append).await.expect("our append");
    }

    async fn append_postgres_es(&self, command: Command) {
        let metadata = serde_json::to_value(&command.metadata).expect("metadata");
        let events: Vec<SerializedEvent> = (command.events.into_iter().zip(1..))
            .map(|(event, sequence)| SerializedEvent {
                aggregate_id: command.stream_id.clone(),
                sequence,
                aggregate_type: STREAM_TYPE.to_owned(),
                event_type: event.event_type,
                event_version: event.event_version.to_string(),
                payload: event.payload,
                metadata: metadata.clone(),
            })
            .collect();
        self.postgres_es
            .persist::<OrderAggregate>(&events, None)
            .await
            .expect("postgres-es persist");
    }

    async fn append_raw(&self, command: Command) {
        let metadata = serde_json::to_value(&command.metadata).expect("metadata");
        let events = &command.events;
        let n = events.len();
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        sqlx::query(RAW_INSERT)
            .bind(vec![STREAM_TYPE; n])
            .bind(vec![command.stream_id.as_str(); n])
            .bind((1..=i64::try_from(n).expect("count")).collect::<Vec<_>>())
            .bind(events.iter().map(|e| e.event_id).collect::<Vec<_>>())
            .bind(&types)
            .bind(events.iter().map(|e| e.event_version).collect::<Vec<_>>())
            .bind(events.iter().map(|e| &e.payload).collect::<Vec<_>>())
            .bind(vec![&metadata; n])
            .execute(&self.pool)
            .await
            .expect("raw insert");
    }

    /// Reads the first `READ_EVENTS` events of the global order, in batches of `READ_BATCH`.
    pub(super) async fn read(&self, reader: Reader) {
        let (mut after, mut read) = (Position::START, 0);
        while read < READ_EVENTS {
            let last = match reader {
                Reader::Ours => self.read_all_batch(after).await,
                Reader::RawKeyset => self.raw_batch(after).await,
            };
            let Some((position, count)) = last else { break };
            after = position;
            read += count;
        }
        assert!(read >= READ_EVENTS, "only {read} events to read");
    }

    /// One batch through `read_all`: the last position and the count, `None` past the end.
    async fn read_all_batch(&self, after: Position) -> Option<(Position, usize)> {
        let filter = ReadFilter::default();
        let batch = self.ours.read_all(after, READ_BATCH, &filter).await;
        let batch = batch.expect("read_all");
        let last = batch.last().map(|e| (e.position, batch.len()));
        black_box(batch);
        last
    }

    /// One batch through the bare keyset query, likewise.
    async fn raw_batch(&self, after: Position) -> Option<(Position, usize)> {
        let batch = sqlx::query(RAW_READ)
            .bind(after.transaction_id.to_string())
            .bind(after.position)
            .bind(READ_BATCH)
            .fetch_all(&self.pool)
            .await
            .expect("raw read");
        let last = batch.last().map(|row| {
            let transaction_id: i64 = row.try_get("transaction_id").expect("transaction_id");
            Position {
                transaction_id: u64::try_from(transaction_id).expect("an xid8"),
                position: row.try_get("position").expect("position"),
            }
        });
        let count = batch.len();
        black_box(batch);
        last.map(|position| (position, count))
    }
}
