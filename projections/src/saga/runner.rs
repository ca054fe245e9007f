//! The saga runner: reads the global order like a projection, takes each order's steps in
//! turn, carries out what the fulfilment policy answers, and fires payment deadlines.
//!
//! One runner is active across every process (a session advisory lock). It reads a batch,
//! groups its steps by order, and works on up to `concurrency` orders at once (one order's
//! steps strictly in log order), so a slow payment holds up only its own order. For each
//! step it carries out the actions first and then, in one short transaction, stores the
//! saga's new state (with the step's position), its deadline and any dead letter; the
//! checkpoint moves past the batch once every order in it is done. A crash in between takes
//! the batch again: each saga skips the steps it has already stored, and a step whose actions
//! ran but whose state was not stored gets the same actions again, whose commands carry the
//! same ids and append nothing the second time.

use std::sync::Arc;
use std::time::Duration;

use application::event_log::{Position, RecordedEvent};
use application::saga::{Failure, Fulfil, step_of};
use application::{EventStore, Upcasters, decode_recorded};
use domain::fulfilment::{Phase, Step};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::act;
use super::dead_letters::{self, Place};
use super::state::{self, Saga};
use crate::{Error, checkpoint};

/// The saga's checkpoint row and lock name.
pub const NAME: &str = "fulfilment";

/// How the runner paces itself.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// Most events read at once.
    pub batch_size: i64,
    /// The first poll interval once the log is drained; doubled while idle.
    pub min_poll: Duration,
    /// The longest poll interval (also how late a deadline may fire).
    pub max_poll: Duration,
    /// How often a waiting runner tries to take the lock.
    pub lock_retry: Duration,
    /// Orders worked on at once.
    pub concurrency: usize,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            batch_size: 200,
            min_poll: Duration::from_millis(10),
            max_poll: Duration::from_millis(500),
            lock_retry: Duration::from_secs(1),
            concurrency: 8,
        }
    }
}

/// The order-fulfilment saga's runner. See the module documentation.
#[derive(Clone)]
pub struct SagaRunner {
    store: Arc<dyn EventStore>,
    pool: PgPool,
    fulfil: Fulfil,
    wake: Arc<Notify>,
    upcasters: Arc<Upcasters>,
    options: RunnerOptions,
}

impl std::fmt::Debug for SagaRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SagaRunner")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl SagaRunner {
    /// A runner reading the log through `store`, acting through `fulfil`, keeping its state
    /// through `pool`; `wake` is notified after each commit of this process.
    #[must_use]
    pub fn new(
        store: Arc<dyn EventStore>,
        pool: PgPool,
        fulfil: Fulfil,
        wake: Arc<Notify>,
        options: RunnerOptions,
    ) -> Self {
        Self {
            store,
            pool,
            fulfil,
            wake,
            upcasters: Arc::new(Upcasters::current()),
            options,
        }
    }

    /// Gives the saga its checkpoint if it has none: the end of the log (see
    /// `start_at_the_head`). Call it before the server accepts commands, so that no order
    /// placed through this process falls before the saga's starting point.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn prepare(&self) -> Result<(), Error> {
        let mut conn = self.pool.acquire().await?;
        start_at_the_head(&mut conn).await?;
        checkpoint::load(&mut conn, NAME).await?;
        Ok(())
    }

    /// Runs until `shutdown` turns true; [`SagaRunner::prepare`] comes first. Errors (a lost connection, a database failure)
    /// are logged and the runner resumes from its checkpoint after a pause.
    #[tracing::instrument(skip_all, fields(saga = NAME))]
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            let Some(mut session) = crate::lock::acquire(
                &self.pool,
                &format!("saga:{NAME}"),
                &mut shutdown,
                self.options.lock_retry,
            )
            .await
            else {
                return;
            };
            let outcome = self.process(&mut session, &mut shutdown).await;
            let _ = session.close().await;
            match outcome {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(%error, "saga runner failed; resuming from its checkpoint");
                }
            }
            if crate::lock::pause(&mut shutdown, self.options.lock_retry).await {
                return;
            }
        }
    }

    async fn process(
        &self,
        conn: &mut PgConnection,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), Error> {
        let mut position = checkpoint::load(conn, NAME).await?.position;
        let mut idle = self.options.min_poll;
        let mut deadlines_checked = tokio::time::Instant::now();
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let events = self
                .store
                .read_all(position, self.options.batch_size)
                .await?;
            let caught_up =
                i64::try_from(events.len()).unwrap_or(i64::MAX) < self.options.batch_size;
            if let Some(last) = events.last() {
                self.take_batch(&events).await?;
                let mut tx = conn.begin().await?;
                checkpoint::advance(&mut tx, NAME, position, last.position).await?;
                tx.commit().await?;
                position = last.position;
            }
            // Deadlines fire once the log is read to its end, so that a payment answered in
            // time is seen first; under a load that never lets the runner catch up they
            // still fire, at least every `max_poll`.
            if caught_up || deadlines_checked.elapsed() >= self.options.max_poll {
                self.fire_deadlines().await?;
                deadlines_checked = tokio::time::Instant::now();
            }
            if events.is_empty() {
                tokio::select! {
                    () = &mut notified => {}
                    () = tokio::time::sleep(idle) => {}
                    _ = shutdown.changed() => {}
                }
                idle = (idle * 2).min(self.options.max_poll);
            } else {
                idle = self.options.min_poll;
            }
        }
    }

    /// Takes every step in `events`: orders side by side, each order's steps in turn.
    async fn take_batch(&self, events: &[RecordedEvent]) -> Result<(), Error> {
        let mut lanes: Vec<(Uuid, Vec<(RecordedEvent, Step)>)> = Vec::new();
        for event in events {
            let decoded = decode_recorded(event, &self.upcasters)?;
            let Some((order, step)) = decoded
                .as_ref()
                .and_then(|decoded| step_of(decoded, &event.stream.stream_id))
            else {
                continue;
            };
            let order = Uuid::from_u128(order.as_u128());
            match lanes.iter_mut().find(|(id, _)| *id == order) {
                Some((_, steps)) => steps.push((event.clone(), step)),
                None => lanes.push((order, vec![(event.clone(), step)])),
            }
        }
        self.side_by_side(lanes, |runner, (order, steps)| async move {
            runner.take_lane(order, steps).await
        })
        .await
    }

    /// Runs `work` on every item, up to `concurrency` at once; the first error, if any, once
    /// all are done.
    async fn side_by_side<T, F, Fut>(&self, items: Vec<T>, work: F) -> Result<(), Error>
    where
        T: Send + 'static,
        F: Fn(Self, T) -> Fut,
        Fut: Future<Output = Result<(), Error>> + Send + 'static,
    {
        let permits = Arc::new(Semaphore::new(self.options.concurrency.max(1)));
        let mut tasks = JoinSet::new();
        for item in items {
            let permit = Arc::clone(&permits)
                .acquire_owned()
                .await
                .map_err(|e| Error::Unexpected(e.to_string()))?;
            let task = work(self.clone(), item);
            tasks.spawn(async move {
                let outcome = task.await;
                drop(permit);
                outcome
            });
        }
        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            let outcome = joined.unwrap_or_else(|e| Err(Error::Unexpected(e.to_string())));
            if let Err(error) = outcome {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Takes one order's steps of a batch, in order, skipping those it has taken before.
    async fn take_lane(&self, order: Uuid, steps: Vec<(RecordedEvent, Step)>) -> Result<(), Error> {
        // No connection is held while actions run: they need connections of their own.
        let mut saga = state::load(&mut *self.pool.acquire().await?, order).await?;
        for (event, step) in steps {
            let saga = match saga.as_mut() {
                Some(saga) if event.position <= saga.position => continue,
                Some(saga) => saga,
                None if matches!(step, Step::Placed { .. }) => saga.insert(Saga {
                    order,
                    correlation_id: correlation_of(&event),
                    steps: Vec::new(),
                    position: Position::START,
                }),
                // An event about an order the saga never saw placed: nothing to coordinate.
                None => continue,
            };
            let advanced = self.advance_saga(saga, step, Some(event.event_id)).await;
            saga.position = event.position;
            let cause = json!({
                "eventId": event.event_id,
                "position": event.position.token(),
                "stream": event.stream.to_string(),
                "version": event.version,
                "eventType": event.event_type,
            });
            let mut tx = self.pool.begin().await?;
            self.store_saga(&mut tx, saga, &advanced, &cause).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Feeds `step` to the saga's policy and carries out its answer (then any step the
    /// actions found out about); the saga keeps the steps. Answers the new phase, whether
    /// the deadline must start, and the dead letters to record.
    async fn advance_saga(&self, saga: &mut Saga, step: Step, causation: Option<Uuid>) -> Advanced {
        let mut fulfilment = saga.current();
        let mut advanced = Advanced::default();
        let mut pending = vec![step];
        while let Some(step) = pending.pop() {
            let cause = act::cause_of(saga, &step, causation);
            let actions = fulfilment.on(step.clone());
            let place = Place {
                order: saga.order,
                step: saga.steps.len(),
                action: 0,
            };
            saga.steps.push(step);
            let carried = act::carry_out(&self.fulfil, &actions, 0, &cause, false).await;
            advanced.deadline |= carried.deadline;
            if let Some((action_index, action, failure)) = carried.failed {
                let place = Place {
                    action: action_index,
                    ..place
                };
                advanced
                    .dead_letters
                    .push((place, act::describe(&action), failure));
            }
            pending.extend(carried.follow_ups.into_iter().rev());
        }
        advanced.phase = fulfilment.phase();
        advanced
    }

    /// Stores the saga's state, its deadline and its dead letters.
    async fn store_saga(
        &self,
        tx: &mut PgConnection,
        saga: &Saga,
        advanced: &Advanced,
        cause: &Value,
    ) -> Result<(), Error> {
        state::save(tx, saga, advanced.phase).await?;
        if advanced.phase.is_final() {
            state::clear_deadline(tx, saga.order).await?;
        } else if advanced.deadline {
            let due = state::due_in(self.fulfil.options().payment_timeout);
            state::schedule_deadline(tx, saga.order, due).await?;
        }
        for (place, action, failure) in &advanced.dead_letters {
            dead_letters::record(tx, *place, action, cause, &failure.error, failure.attempts)
                .await?;
        }
        Ok(())
    }

    /// Compensates every order whose payment deadline has passed.
    async fn fire_deadlines(&self) -> Result<(), Error> {
        let due = {
            let mut conn = self.pool.acquire().await?;
            state::due_deadlines(&mut conn, 100).await?
        };
        self.side_by_side(due, |runner, order| async move {
            runner.fire_deadline(order).await
        })
        .await
    }

    async fn fire_deadline(&self, order: Uuid) -> Result<(), Error> {
        let mut saga = state::load(&mut *self.pool.acquire().await?, order).await?;
        let mut tx = match saga.as_mut() {
            Some(saga)
                if saga.current().phase() == Phase::Paying
                    && self.fulfil.payment_unsettled(saga.order_id()).await =>
            {
                tracing::info!(%order, "payment deadline passed");
                let advanced = self
                    .advance_saga(saga, Step::PaymentDeadlinePassed, None)
                    .await;
                let mut tx = self.pool.begin().await?;
                self.store_saga(&mut tx, saga, &advanced, &json!({}))
                    .await?;
                tx
            }
            _ => self.pool.begin().await?,
        };
        state::clear_deadline(&mut tx, order).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The first time the saga runs on a database, it starts at the end of the log: orders
/// placed before it existed are history, not work (replaying them would act on orders that
/// were settled another way). The end is taken below the oldest running transaction, so an
/// event still being committed is not skipped. Later starts go on from the checkpoint.
async fn start_at_the_head(conn: &mut PgConnection) -> Result<(), Error> {
    // Every event of a transaction below the oldest one running is at or before
    // (xmin - 1, the largest position); every later event comes after it.
    sqlx::query(
        "INSERT INTO projection_checkpoints (name, transaction_id, position)
         VALUES ($1,
                 ((pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1)::text)::xid8,
                 9223372036854775807)
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(NAME)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What taking a step came to.
#[derive(Debug)]
struct Advanced {
    phase: Phase,
    deadline: bool,
    dead_letters: Vec<(Place, String, Failure)>,
}

impl Default for Advanced {
    fn default() -> Self {
        Self {
            phase: Phase::NotStarted,
            deadline: false,
            dead_letters: Vec::new(),
        }
    }
}

/// The correlation id in an event's metadata (a fresh one if it has none).
fn correlation_of(event: &RecordedEvent) -> Uuid {
    event
        .metadata
        .get("correlationId")
        .and_then(Value::as_str)
        .and_then(|id| Uuid::parse_str(id).ok())
        .unwrap_or_else(Uuid::now_v7)
}
