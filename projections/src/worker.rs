//! The runtime of one projection: one active worker across every process, reading the
//! global order from its checkpoint in batches and applying each batch with the checkpoint
//! in one transaction.

use std::sync::Arc;
use std::time::Duration;

use application::EventStore;
use application::event_log::{Position, RecordedEvent};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::{Notify, watch};

use crate::lag::{self, Lag};
use crate::lock::pause;
use crate::projection::{apply_naming, failed_at};
use crate::{Announcer, Error, Follower, Projection, checkpoint};

/// How a worker paces itself.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Most events applied in one transaction.
    pub batch_size: i64,
    /// The first poll interval once the log is drained; doubled while idle.
    pub min_poll: Duration,
    /// The longest poll interval.
    pub max_poll: Duration,
    /// How often a waiting worker tries to take the projection's lock.
    pub lock_retry: Duration,
    /// Attempts at a failing event before the projection is parked.
    pub max_attempts: u32,
    /// The pause after the first failure; doubled after each further one.
    pub retry_base: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            batch_size: 500,
            min_poll: Duration::from_millis(10),
            max_poll: Duration::from_secs(1),
            lock_retry: Duration::from_secs(1),
            max_attempts: 5,
            retry_base: Duration::from_millis(100),
        }
    }
}

/// Runs one projection. See [`Worker::run`].
#[derive(Clone)]
pub struct Worker {
    projection: Arc<dyn Projection>,
    store: Arc<dyn EventStore>,
    pool: PgPool,
    wake: Arc<Notify>,
    options: WorkerOptions,
    announcer: Announcer,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("projection", &self.name())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A batch that did not commit, and the index of the event that failed (`None` when the
/// failure is not an event's: the connection, the transaction or the checkpoint).
struct Failure {
    at: Option<usize>,
    error: Error,
}

impl Worker {
    /// A worker for `projection` reading the log through `store` and writing read models
    /// and its checkpoint through `pool`. The command side calls `wake.notify_waiters()`
    /// after each commit; writes of other processes are found by polling.
    #[must_use]
    pub fn new(
        projection: Arc<dyn Projection>,
        store: Arc<dyn EventStore>,
        pool: PgPool,
        wake: Arc<Notify>,
        options: WorkerOptions,
    ) -> Self {
        Self {
            projection,
            store,
            pool,
            wake,
            options,
            announcer: Announcer::new(),
        }
    }

    /// The worker, announcing each batch it commits through `announcer`.
    #[must_use]
    pub fn announcing(self, announcer: Announcer) -> Self {
        Self { announcer, ..self }
    }

    /// The projection's name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.projection.name()
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    ///
    /// Takes the projection's session advisory lock on a connection of its own and holds
    /// it while active; while another worker holds it, waits and tries again. A lost
    /// connection or a checkpoint moved by another worker sends it back to the lock.
    ///
    /// # Errors
    /// [`Error::Parked`] when an event kept failing and the projection was parked (or was
    /// parked already): the checkpoint stays before that event.
    #[tracing::instrument(skip_all, fields(projection = self.name()))]
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), Error> {
        loop {
            let Some(mut session) = self.lock(&mut shutdown).await else {
                return Ok(());
            };
            let outcome = self.process(&mut session, &mut shutdown).await;
            let lost = match &outcome {
                Err(error) => error.is_connection_lost() || session.ping().await.is_err(),
                Ok(()) => false,
            };
            // Closing the session releases the lock.
            let _ = session.close().await;
            match outcome {
                Err(Error::CheckpointMoved(_)) => {
                    tracing::warn!("another worker moved the checkpoint; taking the lock again");
                }
                Err(error) if lost => {
                    tracing::warn!(%error, "connection lost; resuming from the checkpoint");
                }
                other => return other,
            }
            if pause(&mut shutdown, self.options.retry_base).await {
                return Ok(());
            }
        }
    }

    /// Runs like [`Worker::run`], but nothing but shutdown ends it: a parked projection
    /// waits until an operator resumes it (`projections resume`) or a rebuild replaces it,
    /// then goes on from the checkpoint; any other failure is logged and the worker starts
    /// again after a pause. Ends when `shutdown` turns true.
    ///
    /// # Errors
    /// None today: the `Result` keeps the shape of [`Worker::run`].
    #[tracing::instrument(skip_all, fields(projection = self.name()))]
    pub async fn supervise(self, mut shutdown: watch::Receiver<bool>) -> Result<(), Error> {
        let mut failures: u32 = 0;
        loop {
            match self.clone().run(shutdown.clone()).await {
                Err(Error::Parked { .. }) => failures = 0,
                Ok(()) => return Ok(()),
                // Any other failure (a statement cancelled, the database refusing for a
                // while) is no reason to stop following the log: again, after a pause that
                // doubles up to a minute.
                Err(error) => {
                    failures = failures.saturating_add(1);
                    let pause_for = application::backoff::Backoff {
                        base: self.options.retry_base,
                        cap: std::time::Duration::from_secs(60),
                    }
                    .delay(failures);
                    tracing::error!(%error, failures, ?pause_for, "projection worker failed; starting it again");
                    if pause(&mut shutdown, pause_for).await {
                        return Ok(());
                    }
                    continue;
                }
            }
            tracing::warn!("projection parked; waiting for an operator to resume or rebuild it");
            // Every instance waits here and shows the parked state and the lag from the
            // database.
            let mut lag = Lag::new(self.name(), self.pool.clone());
            loop {
                let checkpoint = match self.pool.acquire().await {
                    Ok(mut conn) => checkpoint::load(&mut conn, self.name()).await,
                    Err(error) => Err(error.into()),
                };
                match checkpoint {
                    Ok(checkpoint) if checkpoint.parked.is_none() => break,
                    Ok(checkpoint) => {
                        lag::parked(self.name(), true);
                        lag.measure(checkpoint.position, 0, None).await;
                    }
                    Err(error) => tracing::warn!(%error, "reading the projection's state"),
                }
                if pause(&mut shutdown, self.options.max_poll).await {
                    return Ok(());
                }
            }
            lag::parked(self.name(), false);
            tracing::info!("projection resumed");
        }
    }

    /// A connection holding the projection's lock; `None` on shutdown.
    async fn lock(&self, shutdown: &mut watch::Receiver<bool>) -> Option<PgConnection> {
        let key = format!("projection:{}", self.name());
        crate::lock::acquire(&self.pool, &key, shutdown, self.options.lock_retry).await
    }

    /// Applies the log from the checkpoint on, while holding the lock on `conn`.
    async fn process(
        &self,
        conn: &mut PgConnection,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), Error> {
        let name = self.name();
        let start = checkpoint::load(conn, name).await?;
        if let Some(error) = start.parked {
            lag::parked(name, true);
            return Err(Error::Parked { name, error });
        }
        lag::parked(name, false);
        let mut position = start.position;
        let mut lag = Lag::new(name, self.pool.clone()).holding();
        lag.measure(position, 0, None).await;
        let mut follower = Follower::new(
            Arc::clone(&self.store),
            Arc::clone(&self.wake),
            self.options.min_poll,
            self.options.max_poll,
        )
        .bodies_of(self.projection.follows());
        let mut limit = self.options.batch_size;
        let mut failures = 0;
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let events = match follower.read(position, limit).await {
                Ok(events) => events,
                Err(error) => {
                    tracing::warn!(%error, "reading the event log");
                    Vec::new()
                }
            };
            if events.is_empty() {
                // Nothing to read may still be something waiting (behind a transaction
                // held open, or behind a failing read): the count shows it.
                lag.measure(position, 0, None).await;
                follower.wait(std::future::pending(), shutdown).await;
                continue;
            }
            match self.apply_batch(conn, position, &events).await {
                Ok(last) => {
                    position = last;
                    lag.applied(events.len());
                    if i64::try_from(events.len()).unwrap_or(i64::MAX) < limit {
                        lag.caught_up(0, None);
                    } else {
                        let reached = events.last().map(|event| event.recorded_at);
                        lag.measure(position, 0, reached).await;
                    }
                    limit = self.options.batch_size;
                    failures = 0;
                }
                // Commit the events before the failing one first, so the failure is retried
                // (and, if need be, parked) exactly at that event.
                Err(Failure { at: Some(at), .. }) if at > 0 => {
                    limit = i64::try_from(at).unwrap_or(1);
                }
                Err(Failure { error, .. })
                    if error.is_connection_lost() || matches!(error, Error::CheckpointMoved(_)) =>
                {
                    return Err(error);
                }
                Err(Failure { error, .. }) => {
                    failures += 1;
                    if conn.ping().await.is_err() {
                        return Err(error);
                    }
                    if failures >= self.options.max_attempts {
                        let text = error.to_string();
                        tracing::error!(error = %text, failures, "parking the projection");
                        checkpoint::park(conn, name, &text).await?;
                        lag::parked(name, true);
                        return Err(Error::Parked { name, error: text });
                    }
                    tracing::warn!(%error, failures, "batch failed; retrying");
                    let delay = self.options.retry_base * 2_u32.saturating_pow(failures - 1);
                    if pause(shutdown, delay).await {
                        return Ok(());
                    }
                    limit = 1;
                }
            }
        }
    }

    /// Applies `events` and moves the checkpoint from `from` to the last of them, in one
    /// transaction; returns the new checkpoint.
    async fn apply_batch(
        &self,
        conn: &mut PgConnection,
        from: Position,
        events: &[RecordedEvent],
    ) -> Result<Position, Failure> {
        let whole = |error: Error| Failure { at: None, error };
        let mut tx = conn.begin().await.map_err(|e| whole(e.into()))?;
        if let Err(error) = apply_naming(self.projection.as_ref(), &mut tx, events).await {
            let _ = tx.rollback().await;
            let at = failed_at(events, &error);
            return Err(Failure { at, error });
        }
        let to = events.last().map_or(from, |e| e.position);
        checkpoint::advance(&mut tx, self.name(), from, to)
            .await
            .map_err(whole)?;
        tx.commit().await.map_err(|e| whole(e.into()))?;
        self.announcer.announce(self.name(), to);
        tracing::debug!(events = events.len(), "batch applied");
        Ok(to)
    }
}
