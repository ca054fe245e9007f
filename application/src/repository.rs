//! Running a command against one aggregate: load, decide, append, with snapshots,
//! idempotent command ids and bounded retries on concurrency conflicts. The aggregates this
//! process wrote last are kept ([`AggregateCache`]), so a command on one of them skips the
//! load, and so does a command that starts its stream; the append's head check stands guard
//! over both shortcuts.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use cqrs_es::event_sink::EventSink;
use uuid::Uuid;

use crate::aggregate_cache::{AggregateCache, Kept};
use crate::backoff::Backoff;
use crate::event_log::{
    Append, CommandMetadata, LoadedStream, NewEvent, Position, Snapshot, StreamRef,
};
use crate::event_store::{AppendOutcome, EventStore, ForCommand};
use crate::locks::StreamLocks;
use crate::personal_data::{PersonalData, Unprotected, protect_events};
use crate::{Error, EventSourced, Upcasters, instruments};

/// What a command did: where its aggregate stands now and where its events sit in the
/// global order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandResult {
    /// The aggregate's stream.
    pub stream: StreamRef,
    /// The aggregate's version after the command.
    pub version: i64,
    /// The global position of the command's last event; for a command that changed nothing,
    /// the position of the stream's last event as far as it is known.
    pub position: Position,
}

/// How a repository behaves.
#[derive(Debug, Clone)]
pub struct RepositoryOptions {
    /// A snapshot is stored each time a stream's version crosses a multiple of this
    /// (0: never).
    pub snapshot_every: i64,
    /// How many times a command that lost a concurrency race is decided again against
    /// fresh state before [`Error::Conflict`] reaches the caller.
    pub max_attempts: u32,
    /// How many aggregates of each type this process keeps after writing them, to decide
    /// the next command on them without a load (0: none).
    pub keep: usize,
}

impl Default for RepositoryOptions {
    fn default() -> Self {
        Self {
            snapshot_every: 100,
            max_attempts: 8,
            keep: 4096,
        }
    }
}

/// Loads and saves aggregates of type `A` through the event-store port.
pub struct Repository<A> {
    store: Arc<dyn EventStore>,
    upcasters: Arc<Upcasters>,
    options: RepositoryOptions,
    locks: Arc<StreamLocks>,
    kept: Arc<AggregateCache<A>>,
    /// Encrypts the personal fields of the events appended.
    personal: Arc<dyn PersonalData>,
    aggregate: PhantomData<fn() -> A>,
}

impl<A> Clone for Repository<A> {
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
            upcasters: Arc::clone(&self.upcasters),
            options: self.options.clone(),
            locks: Arc::clone(&self.locks),
            kept: Arc::clone(&self.kept),
            personal: Arc::clone(&self.personal),
            aggregate: PhantomData,
        }
    }
}

impl<A> std::fmt::Debug for Repository<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<A> Repository<A>
where
    A: EventSourced,
    A::Command: Clone + Send,
{
    /// A repository over `store`.
    #[must_use]
    pub fn new(
        store: Arc<dyn EventStore>,
        upcasters: Arc<Upcasters>,
        options: RepositoryOptions,
    ) -> Self {
        Self {
            store,
            upcasters,
            kept: Arc::new(AggregateCache::new(options.keep)),
            options,
            locks: Arc::default(),
            personal: Arc::new(Unprotected),
            aggregate: PhantomData,
        }
    }

    /// This repository, storing the personal fields of its events encrypted by `personal`.
    #[must_use]
    pub fn with_personal_data(self, personal: Arc<dyn PersonalData>) -> Self {
        Self { personal, ..self }
    }

    /// The aggregate `id` as it stands now, with its version (a fresh aggregate at version
    /// 0 when the stream is empty).
    ///
    /// # Errors
    /// [`Error::Schema`] when a stored event or snapshot does not decode;
    /// [`Error::Infrastructure`] when the store fails.
    pub async fn load(&self, id: &str) -> Result<(A, i64), Error> {
        let loaded = self
            .store
            .load(&stream::<A>(id), A::SNAPSHOT_SCHEMA)
            .await?;
        let version = loaded.version();
        Ok((rehydrate::<A>(&loaded, &self.upcasters)?, version))
    }

    /// What `look` sees in aggregate `id` as it stands now (with its version, 0 for an empty
    /// stream). When this process keeps the aggregate and its stream has not moved since,
    /// that costs one look at the stream's version instead of a load.
    ///
    /// # Errors
    /// Those of [`Repository::load`].
    pub async fn read<R>(&self, id: &str, look: impl Fn(&A, i64) -> R) -> Result<R, Error> {
        let seen = self.kept.peek(id, |kept| {
            (kept.version, look(&kept.aggregate, kept.version))
        });
        if let Some((version, seen)) = seen
            && self.store.version(&stream::<A>(id)).await? == version
        {
            return Ok(seen);
        }
        let (aggregate, version) = self.load(id).await?;
        Ok(look(&aggregate, version))
    }

    /// Runs `command` against aggregate `id`.
    ///
    /// A command id already applied returns its first result and appends nothing. Commands
    /// on one aggregate queue in this process; one that still loses a race (with another
    /// process) is decided again against the fresh state, up to `max_attempts` times.
    ///
    /// # Errors
    /// [`Error::Rejected`] when a business rule refuses the command; [`Error::Conflict`]
    /// when every attempt lost its race; [`Error::Schema`] or [`Error::Infrastructure`]
    /// when the store cannot be read or written.
    pub async fn execute(
        &self,
        id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
    ) -> Result<CommandResult, Error> {
        self.execute_if(id, command, metadata, |_, _| Ok(())).await
    }

    /// Like [`Repository::execute`], but first asks `guard` about the loaded aggregate
    /// (who owns it, whether it exists) and stops with its error.
    ///
    /// # Errors
    /// The guard's error, or those of [`Repository::execute`].
    #[tracing::instrument(
        skip(self, command, metadata, guard),
        fields(aggregate = A::TYPE, command_id = %metadata.command_id)
    )]
    pub async fn execute_if(
        &self,
        id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
        guard: impl Fn(&A, i64) -> Result<(), Error> + Send + Sync,
    ) -> Result<CommandResult, Error> {
        let timer = instruments::CommandTimer::start(A::TYPE, A::command_name(&command));
        let result = self.run(id, command, metadata, guard).await;
        timer.finish(&result);
        result
    }

    /// [`Repository::execute_if`] without its metrics.
    async fn run(
        &self,
        id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
        guard: impl Fn(&A, i64) -> Result<(), Error> + Send + Sync,
    ) -> Result<CommandResult, Error> {
        let _queued = self.locks.lock(&format!("{}/{id}", A::TYPE)).await;
        // What this process wrote last; for a command that starts its stream, nothing yet.
        let kept = self.kept.take(id).or_else(|| {
            A::starts_stream(&command).then(|| Kept {
                aggregate: A::default(),
                version: 0,
                head_hash: Vec::new(),
                position: Position::START,
            })
        });
        if let Some(kept) = kept
            && let Some(done) = self
                .on_kept(id, kept, command.clone(), metadata, &guard)
                .await
        {
            return Ok(done);
        }
        let mut attempt = 1;
        loop {
            match self.attempt(id, command.clone(), metadata, &guard).await {
                Err(Error::Conflict { .. }) if attempt < self.options.max_attempts => {
                    tracing::debug!(attempt, "concurrency conflict, deciding again");
                    metrics::counter!(instruments::CONFLICTS_RETRIED, "aggregate" => A::TYPE)
                        .increment(1);
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn previous_result(&self, command_id: Uuid) -> Result<Option<CommandResult>, Error> {
        Ok(self
            .store
            .command_outcome(command_id)
            .await?
            .map(|(stream, appended)| CommandResult {
                stream,
                version: appended.version,
                position: appended.position,
            }))
    }

    async fn attempt(
        &self,
        id: &str,
        command: A::Command,
        metadata: &CommandMetadata,
        guard: &(impl Fn(&A, i64) -> Result<(), Error> + Send + Sync),
    ) -> Result<CommandResult, Error> {
        let stream = stream::<A>(id);
        let loaded = match self
            .store
            .load_for_command(&stream, A::SNAPSHOT_SCHEMA, metadata.command_id)
            .await?
        {
            // Applied before (a resend, a retry after a lost answer): answer what it answered.
            ForCommand::Applied(stream, appended) => {
                return Ok(CommandResult {
                    stream,
                    version: appended.version,
                    position: appended.position,
                });
            }
            ForCommand::Loaded(loaded) => loaded,
        };
        let version = loaded.version();
        let aggregate = rehydrate::<A>(&loaded, &self.upcasters)?;
        let kept = Kept {
            aggregate,
            version,
            head_hash: loaded.head_hash.clone().unwrap_or_default(),
            position: loaded.events.last().map_or(Position::START, |e| e.position),
        };
        // Without a hash kept with an old snapshot, the store reads the head itself.
        let head_hash = loaded.head_hash.is_some();
        match self
            .decide(id, kept, head_hash, command, metadata, guard)
            .await?
        {
            Decided::Appended(result) | Decided::Unchanged(result) => Ok(result),
        }
    }

    /// Decides `command` on the aggregate kept from this process's last append to it: the
    /// result when that settled the command (its events appended, or it was applied
    /// before); `None` when the command must be decided on the stream as stored (the kept
    /// aggregate was stale, or refused the command or changed nothing, either of which it
    /// may be wrong about).
    async fn on_kept(
        &self,
        id: &str,
        kept: Kept<A>,
        command: A::Command,
        metadata: &CommandMetadata,
        guard: &(impl Fn(&A, i64) -> Result<(), Error> + Send + Sync),
    ) -> Option<CommandResult> {
        match self.decide(id, kept, true, command, metadata, guard).await {
            Ok(Decided::Appended(result)) => Some(result),
            Ok(Decided::Unchanged(_)) => None,
            Err(error) => {
                tracing::debug!(%error, "decided on the kept aggregate in vain; loading it");
                None
            }
        }
    }

    /// Decides `command` on `kept` and appends its events at `kept.version`; keeps the
    /// aggregate as it stands after the append.
    async fn decide(
        &self,
        id: &str,
        kept: Kept<A>,
        head_hash: bool,
        command: A::Command,
        metadata: &CommandMetadata,
        guard: &(impl Fn(&A, i64) -> Result<(), Error> + Send + Sync),
    ) -> Result<Decided, Error> {
        let stream = stream::<A>(id);
        let Kept {
            mut aggregate,
            version,
            head_hash: hash,
            position,
        } = kept;
        guard(&aggregate, version)?;

        let sink = EventSink::default();
        aggregate
            .handle(command, &(), &sink)
            .await
            .map_err(Into::into)?;
        let events = sink.collect().await;
        if events.is_empty() {
            return Ok(Decided::Unchanged(CommandResult {
                stream,
                version,
                position,
            }));
        }
        let new_version = version + i64::try_from(events.len()).unwrap_or(i64::MAX);
        let snapshot =
            snapshot_due(version, new_version, self.options.snapshot_every).then(|| Snapshot {
                version: new_version,
                schema_version: A::SNAPSHOT_SCHEMA,
                state: aggregate.snapshot(),
            });
        let mut new_events: Vec<NewEvent> = events.iter().map(|e| new_event::<A>(e)).collect();
        if let Some(customer) = aggregate.data_subject() {
            protect_events(self.personal.as_ref(), &customer, A::TYPE, &mut new_events).await?;
        }
        let append = Append {
            stream: stream.clone(),
            expected_version: version,
            head_hash: head_hash.then_some(hash),
            events: new_events,
            metadata: metadata.clone(),
            snapshot,
        };
        match self.store.append(&append).await? {
            AppendOutcome::Appended {
                appended,
                head_hash,
            } => {
                metrics::counter!(instruments::EVENTS_APPENDED, "aggregate" => A::TYPE)
                    .increment(u64::try_from(append.events.len()).unwrap_or(u64::MAX));
                self.kept.put(
                    id,
                    Kept {
                        aggregate,
                        version: appended.version,
                        head_hash,
                        position: appended.position,
                    },
                );
                Ok(Decided::Appended(CommandResult {
                    stream,
                    version: appended.version,
                    position: appended.position,
                }))
            }
            // A concurrent twin of this command got there first: answer what it answered.
            AppendOutcome::AlreadyApplied => Ok(Decided::Appended(
                self.previous_result(metadata.command_id)
                    .await?
                    .ok_or_else(|| Error::Infrastructure("a recorded command vanished".into()))?,
            )),
        }
    }
}

/// What deciding a command came to.
enum Decided {
    /// Its events were appended (or it had been applied before).
    Appended(CommandResult),
    /// It changed nothing.
    Unchanged(CommandResult),
}

/// The stream of aggregate `id` of type `A`.
#[must_use]
pub fn stream<A: EventSourced>(id: &str) -> StreamRef {
    StreamRef::new(A::TYPE, id)
}

/// The aggregate a loaded stream describes: its snapshot (if any) with the events after it
/// folded in, each upcast to the current schema first.
///
/// # Errors
/// [`Error::Schema`] when the snapshot or an event does not decode.
pub fn rehydrate<A: EventSourced>(
    loaded: &LoadedStream,
    upcasters: &Upcasters,
) -> Result<A, Error> {
    let mut aggregate = match &loaded.snapshot {
        Some(snapshot) => A::restore(snapshot.state.clone())?,
        None => A::default(),
    };
    for recorded in &loaded.events {
        let encoded = upcasters.upcast(
            &recorded.stream.stream_type,
            crate::EncodedEvent {
                event_type: recorded.event_type.clone(),
                event_version: recorded.event_version,
                payload: recorded.payload.clone(),
            },
        )?;
        aggregate.apply(A::decode(encoded)?);
    }
    Ok(aggregate)
}

/// Whether going from `old` to `new` events crosses a multiple of `every`.
#[must_use]
pub fn snapshot_due(old: i64, new: i64, every: i64) -> bool {
    every > 0 && old / every != new / every
}

/// An event in its stored form under a fresh, time-ordered id.
pub fn new_event<A: EventSourced>(event: &A::Event) -> NewEvent {
    let encoded = A::encode(event);
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: encoded.event_type,
        event_version: encoded.event_version,
        payload: encoded.payload,
    }
}

/// How long a command that lost a race waits before deciding again: up to 2^attempt
/// milliseconds, capped at 50 ms, anywhere from zero.
fn backoff(attempt: u32) -> Duration {
    Backoff {
        base: Duration::from_millis(2),
        cap: Duration::from_millis(50),
    }
    .full_jitter(attempt)
}
