//! The saga runner: reads the global order like a projection, hands each order's steps to
//! that order's lane, and fires payment deadlines.
//!
//! One runner is active across every process (a session advisory lock), and it is fenced:
//! taking the lock raises an epoch (`runner_fences`) that every state write checks in its
//! own transaction, so a runner whose lock was lost (its connection died while another took
//! over) can store nothing, and it stops acting as soon as it sees the newer epoch.
//!
//! The reader never waits for an order's work: each order has a lane (a task taking that
//! order's steps strictly in log order), so a slow or hanging payment holds up only its own
//! order. For each step a lane carries out the policy's actions first and then, in one short
//! transaction, stores the saga's new state (with the step's position), its deadline and any
//! dead letter. The checkpoint follows the oldest step not yet done; a crash takes the log
//! again from there: each saga skips the steps it has already stored, and a step whose
//! actions ran but whose state was not stored gets the same actions again, whose commands
//! carry the same ids and append nothing the second time.
//!
//! Deadlines are checked on their own clock and go through the order's lane like a step.
//! An event that does not decode parks the saga at that event (`projections status` shows
//! it; `projections resume fulfilment` lets it go on); deadlines keep firing meanwhile.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use application::event_log::{Position, RecordedEvent};
use application::saga::{Failure, Fulfil, step_of};
use application::{EventStore, Upcasters, decode_recorded};
use domain::fulfilment::{Phase, Step};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::act;
use super::dead_letters::{self, Place};
use super::fence;
use super::state::{self, Saga};
use crate::{Error, Follower, checkpoint};

/// The saga's checkpoint row, lock name and fence name.
pub const NAME: &str = "fulfilment";

/// How the runner paces itself.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// Most events read at once.
    pub batch_size: i64,
    /// The first poll interval once the log is drained; doubled while idle.
    pub min_poll: Duration,
    /// The longest poll interval (also how often deadlines are checked).
    pub max_poll: Duration,
    /// How often a waiting runner tries to take the lock.
    pub lock_retry: Duration,
    /// Most steps read but not yet done; the reader waits when this many are in flight.
    pub max_in_flight: usize,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            batch_size: 200,
            min_poll: Duration::from_millis(10),
            max_poll: Duration::from_millis(500),
            lock_retry: Duration::from_secs(1),
            max_in_flight: 2000,
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

/// What a lane is given to take.
#[derive(Debug)]
enum Item {
    /// A step read from the log.
    Step(Box<RecordedEvent>, Step),
    /// The order's payment deadline has passed.
    Deadline,
}

/// The state the reader and the lanes of one lock tenure share.
struct Tenure {
    runner: SagaRunner,
    epoch: i64,
    /// The lanes running, by order.
    lanes: Mutex<HashMap<Uuid, mpsc::UnboundedSender<Item>>>,
    /// Steps read but not done, by position, each with the position read just before it:
    /// the checkpoint may move up to the first one's predecessor.
    in_flight: Mutex<BTreeMap<Position, Position>>,
    /// Orders whose deadline is queued in their lane.
    deadlines: Mutex<HashSet<Uuid>>,
    /// The first failure of a lane; the tenure ends with it.
    failure: Mutex<Option<Error>>,
    /// Set once another runner took over: lanes stop before their next action.
    fenced: AtomicBool,
    /// Notified when a lane finishes an item or fails.
    progress: Notify,
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

    /// Runs until `shutdown` turns true; [`SagaRunner::prepare`] comes first. Errors (a
    /// lost connection, a database failure, a newer runner) are logged and the runner
    /// takes the lock again and resumes from its checkpoint after a pause.
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
            let outcome = match fence::take(&mut session, NAME).await {
                Ok(epoch) => {
                    let tenure = Arc::new(Tenure::new(self.clone(), epoch));
                    tenure.read(&mut session, &mut shutdown).await
                }
                Err(error) => Err(error),
            };
            let _ = session.close().await;
            match outcome {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(%error, "saga runner stopped; resuming from its checkpoint");
                }
            }
            if crate::lock::pause(&mut shutdown, self.options.lock_retry).await {
                return;
            }
        }
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

    /// Stores the saga's state, its deadline and its dead letters, fenced by `epoch`.
    async fn store_saga(
        &self,
        epoch: i64,
        saga: &Saga,
        advanced: &Advanced,
        cause: &Value,
    ) -> Result<(), Error> {
        let mut tx = self.pool.begin().await?;
        fence::hold(&mut tx, NAME, epoch).await?;
        state::save(&mut tx, saga, advanced.phase).await?;
        if advanced.phase.is_final() {
            state::clear_deadline(&mut tx, saga.order).await?;
        } else if advanced.deadline {
            let due = state::due_in(self.fulfil.options().payment_timeout);
            state::schedule_deadline(&mut tx, saga.order, due).await?;
        }
        for (place, action, failure) in &advanced.dead_letters {
            dead_letters::record(
                &mut tx,
                *place,
                action,
                cause,
                &failure.error,
                failure.attempts,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Takes one step read from the log into the order's saga (loaded on first use), unless
    /// the saga has taken it before.
    async fn take_step(
        &self,
        epoch: i64,
        order: Uuid,
        saga: &mut Option<Saga>,
        event: &RecordedEvent,
        step: Step,
    ) -> Result<(), Error> {
        let saga = match saga.as_mut() {
            Some(saga) if event.position <= saga.position => return Ok(()),
            Some(saga) => saga,
            None if matches!(step, Step::Placed { .. }) => saga.insert(Saga {
                order,
                correlation_id: correlation_of(event),
                steps: Vec::new(),
                position: Position::START,
            }),
            // An event about an order the saga never saw placed: nothing to coordinate.
            None => return Ok(()),
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
        self.store_saga(epoch, saga, &advanced, &cause).await
    }

    /// The payment deadline of the order of `saga` has passed. If the payment still waits
    /// for an answer, the provider is asked first: a capture or decline it knows of is
    /// recorded (and its step settles the order); otherwise the deadline is recorded on the
    /// payment, and the saga gives the order up when it takes that event in.
    async fn take_deadline(
        &self,
        epoch: i64,
        order: Uuid,
        saga: &mut Option<Saga>,
    ) -> Result<(), Error> {
        if let Some(saga) = saga.as_mut()
            && saga.current().phase() == Phase::Paying
            && self.fulfil.payment_unsettled(saga.order_id()).await
        {
            let cause = act::cause_of(saga, &Step::PaymentDeadlinePassed, None);
            let found = matches!(
                self.fulfil.reconcile_charge(&cause).await,
                Ok(application::saga::Reconciled::Recorded)
            );
            if !found {
                tracing::info!(%order, "payment deadline passed");
                // Nothing is undone here: an action carried out before its decision is
                // stored could be decided otherwise after a restart.
                self.fulfil
                    .pass_deadline(&cause)
                    .await
                    .map_err(|failure| Error::Unexpected(failure.error))?;
            }
        }
        let mut tx = self.pool.begin().await?;
        fence::hold(&mut tx, NAME, epoch).await?;
        state::clear_deadline(&mut tx, order).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Tenure {
    fn new(runner: SagaRunner, epoch: i64) -> Self {
        Self {
            runner,
            epoch,
            lanes: Mutex::default(),
            in_flight: Mutex::default(),
            deadlines: Mutex::default(),
            failure: Mutex::default(),
            fenced: AtomicBool::new(false),
            progress: Notify::new(),
        }
    }

    /// Reads the log from the checkpoint into the lanes, moves the checkpoint behind them,
    /// and queues deadlines, until shutdown (`Ok`) or a failure.
    async fn read(
        self: &Arc<Self>,
        session: &mut PgConnection,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), Error> {
        let mut lanes = JoinSet::new();
        let outcome = self.read_into(session, shutdown, &mut lanes).await;
        if outcome.is_err() {
            // The lock may be lost: no lane acts again under this tenure.
            self.fenced.store(true, Ordering::SeqCst);
            lanes.abort_all();
        } else {
            // Shutting down: let the lanes finish what they are doing (their work is safe to
            // cut, but a clean stop repeats less), then stop them.
            let drained = tokio::time::timeout(Duration::from_secs(5), async {
                while lanes.join_next().await.is_some() {}
            })
            .await;
            if drained.is_err() {
                lanes.abort_all();
            }
        }
        outcome
    }

    async fn read_into(
        self: &Arc<Self>,
        session: &mut PgConnection,
        shutdown: &mut watch::Receiver<bool>,
        lanes: &mut JoinSet<()>,
    ) -> Result<(), Error> {
        let options = self.runner.options.clone();
        let start = checkpoint::load(session, NAME).await?;
        let mut stored = start.position;
        let mut read_up_to = start.position;
        let mut parked = start.parked.is_some();
        let mut follower = Follower::new(
            Arc::clone(&self.runner.store),
            Arc::clone(&self.runner.wake),
            options.min_poll,
            options.max_poll,
        );
        let mut deadlines_checked: Option<tokio::time::Instant> = None;
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            while lanes.try_join_next().is_some() {}
            if let Some(error) = lock(&self.failure).take() {
                return Err(error);
            }
            if let Err(error) = fence::still_holds(session, NAME, self.epoch).await {
                self.fenced.store(true, Ordering::SeqCst);
                return Err(error);
            }
            let progressed = self.progress.notified();
            tokio::pin!(progressed);
            progressed.as_mut().enable();

            // The checkpoint follows the oldest step not done yet.
            let done_up_to = lock(&self.in_flight)
                .first_key_value()
                .map_or(read_up_to, |(_, before)| *before);
            if done_up_to > stored {
                let mut tx = session.begin().await?;
                fence::hold(&mut tx, NAME, self.epoch).await?;
                checkpoint::advance(&mut tx, NAME, stored, done_up_to).await?;
                tx.commit().await?;
                stored = done_up_to;
            }

            let mut read_a_full_batch = false;
            if parked {
                parked = checkpoint::is_parked(session, NAME).await?;
            } else if lock(&self.in_flight).len() < options.max_in_flight {
                let events = follower.read(read_up_to, options.batch_size).await?;
                read_a_full_batch =
                    i64::try_from(events.len()).unwrap_or(i64::MAX) >= options.batch_size;
                match self.dispatch(&events, &mut read_up_to, lanes) {
                    Ok(()) => {}
                    Err(poison) => {
                        read_a_full_batch = false;
                        // Park once every step before the poison event is stored, so that
                        // the checkpoint stands right before it.
                        if lock(&self.in_flight).is_empty() && stored == read_up_to {
                            tracing::error!(error = %poison, "parking the saga");
                            checkpoint::park(session, NAME, &poison).await?;
                            parked = true;
                        }
                    }
                }
            }

            let due = deadlines_checked.is_none_or(|at| at.elapsed() >= options.max_poll);
            if due || !read_a_full_batch {
                self.queue_deadlines(lanes).await?;
                deadlines_checked = Some(tokio::time::Instant::now());
            }

            if !read_a_full_batch {
                follower.wait(progressed.as_mut(), shutdown).await;
            }
        }
    }

    /// Hands each step of `events` to its order's lane and moves `read_up_to` past every
    /// event taken. An event that does not decode stops the batch there: its description
    /// is the error, and `read_up_to` stays before it.
    fn dispatch(
        self: &Arc<Self>,
        events: &[RecordedEvent],
        read_up_to: &mut Position,
        lanes: &mut JoinSet<()>,
    ) -> Result<(), String> {
        for event in events {
            let decoded = decode_recorded(event, &self.runner.upcasters).map_err(|error| {
                format!(
                    "{} version {} ({}, position {}): {error}",
                    event.stream,
                    event.version,
                    event.event_type,
                    event.position.token()
                )
            })?;
            let before = *read_up_to;
            *read_up_to = event.position;
            let Some((order, step)) = decoded
                .as_ref()
                .and_then(|decoded| step_of(decoded, &event.stream.stream_id))
            else {
                continue;
            };
            lock(&self.in_flight).insert(event.position, before);
            let order = Uuid::from_u128(order.as_u128());
            self.send(order, Item::Step(Box::new(event.clone()), step), lanes);
        }
        Ok(())
    }

    /// Queues every due deadline not queued yet in its order's lane.
    async fn queue_deadlines(self: &Arc<Self>, lanes: &mut JoinSet<()>) -> Result<(), Error> {
        let due = {
            let mut conn = self.runner.pool.acquire().await?;
            state::due_deadlines(&mut conn, 500).await?
        };
        for order in due {
            if lock(&self.deadlines).insert(order) {
                self.send(order, Item::Deadline, lanes);
            }
        }
        Ok(())
    }

    /// Gives `item` to the lane of `order`, starting the lane if it is not running.
    fn send(self: &Arc<Self>, order: Uuid, item: Item, lanes: &mut JoinSet<()>) {
        let mut running = lock(&self.lanes);
        let item = match running.get(&order) {
            Some(lane) => match lane.send(item) {
                Ok(()) => return,
                // A lane that ends normally leaves under this lock, so a closed one ended on
                // a failure: this tenure stops, and the next takes the order's steps again
                // from the checkpoint. A new lane here would take a later step of the order
                // before the failed one, store it, and make the failed one look taken.
                Err(mpsc::error::SendError(_)) => {
                    lock(&self.failure).get_or_insert(Error::Unexpected(format!(
                        "the lane of order {order} ended with steps still to take"
                    )));
                    self.progress.notify_one();
                    return;
                }
            },
            None => item,
        };
        let (sender, receiver) = mpsc::unbounded_channel();
        let _ = sender.send(item);
        running.insert(order, sender);
        lanes.spawn(Arc::clone(self).lane(order, receiver));
    }

    /// One order's lane: takes its items in turn, and ends when none is left (removing
    /// itself under the same lock [`Tenure::send`] holds, so no item is left behind).
    async fn lane(self: Arc<Self>, order: Uuid, mut items: mpsc::UnboundedReceiver<Item>) {
        let mut saga: Option<Option<Saga>> = None;
        loop {
            let item = match items.try_recv() {
                Ok(item) => item,
                Err(_) => {
                    let mut running = lock(&self.lanes);
                    match items.try_recv() {
                        Ok(item) => item,
                        Err(_) => {
                            running.remove(&order);
                            return;
                        }
                    }
                }
            };
            let outcome = self.take(order, &mut saga, &item).await;
            match (outcome, item) {
                (Ok(()), Item::Step(event, _)) => {
                    lock(&self.in_flight).remove(&event.position);
                }
                (Ok(()), Item::Deadline) => {
                    lock(&self.deadlines).remove(&order);
                }
                (Err(error), _) => {
                    lock(&self.failure).get_or_insert(error);
                    self.progress.notify_one();
                    return;
                }
            }
            self.progress.notify_one();
        }
    }

    async fn take(
        &self,
        order: Uuid,
        saga: &mut Option<Option<Saga>>,
        item: &Item,
    ) -> Result<(), Error> {
        if self.fenced.load(Ordering::SeqCst) {
            return Err(Error::Fenced(NAME));
        }
        let saga = match saga {
            Some(saga) => saga,
            None => {
                let loaded = state::load(&mut *self.runner.pool.acquire().await?, order).await?;
                saga.insert(loaded)
            }
        };
        match item {
            Item::Step(event, step) => {
                self.runner
                    .take_step(self.epoch, order, saga, event, step.clone())
                    .await
            }
            Item::Deadline => self.runner.take_deadline(self.epoch, order, saga).await,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // No code panics while holding these locks; a poisoned one still holds whole data.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The first time the saga runs on a database, it starts at the end of the log: orders
/// placed before it existed are history, not work (replaying them would act on orders that
/// were settled another way). The end is taken at the newest transaction begun so far: the
/// events of every transaction begun before the saga's first start are history, those of
/// every later one are work. (The oldest transaction still running is no boundary: in a
/// cluster shared with other databases it can be far older than this database's history.)
/// Later starts go on from the checkpoint.
async fn start_at_the_head(conn: &mut PgConnection) -> Result<(), Error> {
    // Every transaction id below the snapshot's xmax was assigned before it was taken;
    // every later one is at or above it.
    sqlx::query(
        "INSERT INTO projection_checkpoints (name, transaction_id, position)
         VALUES ($1,
                 ((pg_snapshot_xmax(pg_current_snapshot())::text::bigint - 1)::text)::xid8,
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

#[cfg(test)]
mod tests {
    use application::saga::SagaOptions;
    use application::{Commands, RepositoryOptions};
    use infrastructure::{PgEventStore, SimulatedProvider};

    use super::*;

    /// A tenure whose database is never reached: `send` only hands items to lanes.
    fn tenure() -> Arc<Tenure> {
        let pool = PgPool::connect_lazy("postgres://nobody@127.0.0.1:1/none")
            .unwrap_or_else(|e| panic!("a lazy pool: {e}"));
        let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        let commands = Commands::new(Arc::clone(&store), &RepositoryOptions::default());
        let provider = Arc::new(SimulatedProvider::new(Duration::from_secs(1)));
        let fulfil = Fulfil::new(commands, provider, SagaOptions::default());
        let runner = SagaRunner::new(
            store,
            pool,
            fulfil,
            Arc::new(Notify::new()),
            RunnerOptions::default(),
        );
        Arc::new(Tenure::new(runner, 1))
    }

    /// An order whose lane failed gets no new lane in the same tenure: a new one could
    /// store a later step of the order before the failed one, and the failed step would look
    /// taken to the next tenure.
    #[tokio::test]
    async fn a_failed_lane_gets_no_successor_and_stops_the_tenure() {
        let tenure = tenure();
        let order = Uuid::now_v7();
        // What a failed lane leaves behind: its sender listed, its receiver gone.
        let (sender, receiver) = mpsc::unbounded_channel();
        drop(receiver);
        lock(&tenure.lanes).insert(order, sender);

        let mut lanes = JoinSet::new();
        tenure.send(order, Item::Deadline, &mut lanes);

        assert!(lanes.is_empty(), "a new lane was started for the order");
        assert!(lock(&tenure.failure).is_some(), "the tenure goes on");
    }
}
