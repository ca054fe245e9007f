//! [`PgEventStore`] as a cqrs-es event store, so `CqrsFramework` runs on our aggregates
//! over our log. Snapshots, hash chains, the global order and command records work the
//! same as through [`application::Repository`]; cqrs-es's own snapshot and aggregate stores
//! (which apply events twice) are not used.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use application::event_log::{Append, CommandMetadata, StreamRef};
use application::repository::{new_event, rehydrate, snapshot_due, stream};
use application::{EventSourced, Upcasters};
use cqrs_es::{AggregateContext, AggregateError, EventEnvelope};
use uuid::Uuid;

use super::PgEventStore;
use crate::Error;

/// Metadata keys read from cqrs-es's string map; missing ids are generated.
const COMMAND_ID: &str = "commandId";
const CORRELATION_ID: &str = "correlationId";
const CAUSATION_ID: &str = "causationId";
const ACTOR: &str = "actor";

/// Our store, typed for one aggregate, as cqrs-es wants it.
pub struct CqrsEventStore<A> {
    store: PgEventStore,
    upcasters: Arc<Upcasters>,
    snapshot_every: i64,
    aggregate: PhantomData<fn() -> A>,
}

impl<A> std::fmt::Debug for CqrsEventStore<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CqrsEventStore")
            .field("snapshot_every", &self.snapshot_every)
            .finish_non_exhaustive()
    }
}

impl<A> CqrsEventStore<A> {
    /// cqrs-es access to `store`, storing a snapshot every `snapshot_every` events.
    #[must_use]
    pub fn new(store: PgEventStore, upcasters: Arc<Upcasters>, snapshot_every: i64) -> Self {
        Self {
            store,
            upcasters,
            snapshot_every,
            aggregate: PhantomData,
        }
    }
}

/// An aggregate loaded for one command, with the version it was loaded at.
#[derive(Debug)]
pub struct Loaded<A> {
    id: String,
    version: i64,
    head_hash: Option<Vec<u8>>,
    aggregate: A,
}

impl<A: cqrs_es::Aggregate> AggregateContext<A> for Loaded<A> {
    fn aggregate(&mut self) -> &mut A {
        &mut self.aggregate
    }
}

fn unexpected<E: std::error::Error>(
    error: impl std::error::Error + Send + Sync + 'static,
) -> AggregateError<E> {
    AggregateError::UnexpectedError(Box::new(error))
}

fn from_store<E: std::error::Error>(error: Error) -> AggregateError<E> {
    match error {
        Error::Conflict { .. } => AggregateError::AggregateConflict,
        Error::Database(e) => AggregateError::DatabaseConnectionError(Box::new(e)),
        other => unexpected(other),
    }
}

fn from_application<E: std::error::Error>(error: application::Error) -> AggregateError<E> {
    AggregateError::DeserializationError(Box::new(error))
}

impl<A: EventSourced> cqrs_es::EventStore<A> for CqrsEventStore<A>
where
    A::Event: Send,
{
    type AC = Loaded<A>;

    async fn load_events(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        let events = self
            .store
            .read_stream(&stream::<A>(aggregate_id), 0)
            .await
            .map_err(from_store)?;
        events
            .into_iter()
            .map(|recorded| {
                let encoded = self
                    .upcasters
                    .upcast(
                        A::TYPE,
                        application::EncodedEvent {
                            event_type: recorded.event_type,
                            event_version: recorded.event_version,
                            payload: recorded.payload,
                        },
                    )
                    .map_err(from_application)?;
                Ok(EventEnvelope {
                    aggregate_id: aggregate_id.to_owned(),
                    sequence: usize::try_from(recorded.version).unwrap_or_default(),
                    payload: A::decode(encoded).map_err(from_application)?,
                    metadata: string_map(&recorded.metadata),
                })
            })
            .collect()
    }

    async fn load_aggregate(
        &self,
        aggregate_id: &str,
    ) -> Result<Loaded<A>, AggregateError<A::Error>> {
        let loaded = self
            .store
            .load(&stream::<A>(aggregate_id), A::SNAPSHOT_SCHEMA)
            .await
            .map_err(from_store)?;
        Ok(Loaded {
            id: aggregate_id.to_owned(),
            version: loaded.version(),
            head_hash: loaded.head_hash.clone(),
            aggregate: rehydrate::<A>(&loaded, &self.upcasters).map_err(from_application)?,
        })
    }

    async fn commit(
        &self,
        events: Vec<A::Event>,
        context: Loaded<A>,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        if events.is_empty() {
            return Ok(vec![]);
        }
        let count = i64::try_from(events.len()).unwrap_or(i64::MAX);
        let new_version = context.version + count;
        let snapshot = snapshot_due(context.version, new_version, self.snapshot_every).then(|| {
            application::event_log::Snapshot {
                version: new_version,
                schema_version: A::SNAPSHOT_SCHEMA,
                // The context's aggregate already has the new events applied (by the sink).
                state: context.aggregate.snapshot(),
            }
        });
        let append = Append {
            stream: StreamRef::new(A::TYPE, context.id.clone()),
            expected_version: context.version,
            head_hash: context.head_hash.clone(),
            events: events.iter().map(new_event::<A>).collect(),
            metadata: command_metadata(&metadata),
            snapshot,
        };
        match self.store.append(&append).await {
            Ok(_) => {}
            // The same command id was applied before: nothing new happened.
            Err(Error::DuplicateCommand { .. }) => return Ok(vec![]),
            Err(other) => return Err(from_store(other)),
        }
        Ok(events
            .into_iter()
            .zip(context.version + 1..)
            .map(|(payload, version)| EventEnvelope {
                aggregate_id: context.id.clone(),
                sequence: usize::try_from(version).unwrap_or_default(),
                payload,
                metadata: metadata.clone(),
            })
            .collect())
    }
}

fn command_metadata(map: &HashMap<String, String>) -> CommandMetadata {
    let id = |key: &str| map.get(key).and_then(|v| Uuid::parse_str(v).ok());
    let correlation_id = id(CORRELATION_ID).unwrap_or_else(Uuid::now_v7);
    CommandMetadata {
        command_id: id(COMMAND_ID).unwrap_or_else(Uuid::now_v7),
        correlation_id,
        causation_id: id(CAUSATION_ID),
        actor: map.get(ACTOR).cloned().unwrap_or_else(|| "cqrs-es".into()),
        client_correlation_id: None,
    }
}

fn string_map(metadata: &serde_json::Value) -> HashMap<String, String> {
    metadata
        .as_object()
        .map(|object| {
            object
                .iter()
                .map(|(key, value)| {
                    let text = value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_owned);
                    (key.clone(), text)
                })
                .collect()
        })
        .unwrap_or_default()
}
