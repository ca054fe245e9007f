//! One lock tenure of the saga's runner: the reader that follows the log from the
//! checkpoint and hands each order's steps to that order's lane (one task per order, so
//! orders progress in parallel and each order's steps in log order), the checkpoint kept
//! behind the oldest step not done, deadlines queued, and the fence checked before each
//! read so that a runner that lost its lock stops.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use application::event_log::{Position, RecordedEvent};
use chrono::{DateTime, Utc};
use domain::fulfilment::Step;
use sqlx::{Connection, PgConnection};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;
use uuid::Uuid;

use application::decode_recorded;
use application::saga::step_of;

use super::{NAME, SagaRunner, Writer};
use crate::saga::{fence, gauges};
use application::saga::Saga;

use crate::lag::{self, COUNT_EVERY, Lag};
use crate::saga::state;
use crate::{Error, Follower, checkpoint};

/// What a lane is given to take.
#[derive(Debug)]
pub(super) enum Item {
    /// A step read from the log.
    Step(Box<RecordedEvent>, Step),
    /// The order's payment deadline has passed.
    Deadline,
}

/// The state the reader and the lanes of one lock tenure share.
pub(super) struct Tenure {
    runner: SagaRunner,
    epoch: i64,
    /// Stores the lanes' outcomes under `epoch`.
    writer: Writer,
    /// The lanes running, by order.
    lanes: Mutex<HashMap<Uuid, mpsc::UnboundedSender<Item>>>,
    /// Steps read but not done, by position, each with the position read just before it
    /// (the checkpoint may move up to the first one's predecessor) and when it was recorded.
    in_flight: Mutex<BTreeMap<Position, (Position, DateTime<Utc>)>>,
    /// Orders whose deadline is queued in their lane.
    deadlines: Mutex<HashSet<Uuid>>,
    /// The sagas of orders not yet final whose lane ended, as this tenure stored them: the
    /// next lane of the order starts from it instead of loading it again. Only this tenure
    /// writes sagas while it holds the fence, and a failed store ends the tenure.
    sagas: Mutex<HashMap<Uuid, Saga>>,
    /// The first failure of a lane; the tenure ends with it.
    failure: Mutex<Option<Error>>,
    /// Set once another runner took over: lanes stop before their next action.
    fenced: AtomicBool,
    /// Notified when a lane finishes an item or fails.
    progress: Notify,
}

impl Tenure {
    pub(super) fn new(runner: SagaRunner, epoch: i64) -> Self {
        Self {
            writer: Writer::start(runner.pool.clone(), epoch),
            runner,
            epoch,
            lanes: Mutex::default(),
            in_flight: Mutex::default(),
            deadlines: Mutex::default(),
            sagas: Mutex::default(),
            failure: Mutex::default(),
            fenced: AtomicBool::new(false),
            progress: Notify::new(),
        }
    }

    /// Reads the log from the checkpoint into the lanes, moves the checkpoint behind them,
    /// and queues deadlines, until shutdown (`Ok`) or a failure.
    pub(super) async fn read(
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
        let mut lag = Lag::new(NAME, self.runner.pool.clone()).holding();
        let mut follower = Follower::new(
            Arc::clone(&self.runner.store),
            Arc::clone(&self.runner.wake),
            options.min_poll,
            options.max_poll,
        );
        let mut deadlines_checked: Option<tokio::time::Instant> = None;
        let mut waiting_counted: Option<tokio::time::Instant> = None;
        gauges::count_phases(&self.runner.pool).await;
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
                .map_or(read_up_to, |(_, (before, _))| *before);
            if done_up_to > stored {
                let mut tx = session.begin().await?;
                fence::hold(&mut tx, NAME, self.epoch).await?;
                checkpoint::advance(&mut tx, NAME, stored, done_up_to).await?;
                tx.commit().await?;
                stored = done_up_to;
            }

            let mut read_a_full_batch = false;
            let mut read_to_the_end = false;
            if parked {
                parked = checkpoint::is_parked(session, NAME).await?;
            } else if lock(&self.in_flight).len() < options.max_in_flight {
                let events = follower.read(read_up_to, options.batch_size).await?;
                read_a_full_batch =
                    i64::try_from(events.len()).unwrap_or(i64::MAX) >= options.batch_size;
                read_to_the_end = !read_a_full_batch;
                let taken = self.dispatch(&events, &mut read_up_to, lanes);
                lag.applied(
                    events
                        .iter()
                        .take_while(|event| event.position <= read_up_to)
                        .count(),
                );
                match taken {
                    Ok(()) => {}
                    Err(poison) => {
                        read_a_full_batch = false;
                        read_to_the_end = false;
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

            self.report_lag(&mut lag, read_up_to, parked, read_to_the_end)
                .await;

            if deadlines_checked.is_none_or(|at| at.elapsed() >= options.max_poll) {
                self.queue_deadlines(lanes).await?;
                deadlines_checked = Some(tokio::time::Instant::now());
            }

            if waiting_counted.is_none_or(|at| at.elapsed() >= COUNT_EVERY) {
                gauges::count_waiting(&self.runner.pool).await;
                waiting_counted = Some(tokio::time::Instant::now());
            }

            if !read_a_full_batch {
                follower.wait(progressed.as_mut(), shutdown).await;
            }
        }
    }

    /// Keeps the saga's lag gauges: the steps read but not done, and the events not read
    /// yet after `read_up_to` unless the last read reached the end of the log.
    async fn report_lag(
        &self,
        lag: &mut Lag,
        read_up_to: Position,
        parked: bool,
        read_to_the_end: bool,
    ) {
        lag::parked(NAME, parked);
        // The first step in the log's order stands for the oldest.
        let (pending, oldest) = {
            let in_flight = lock(&self.in_flight);
            let oldest = in_flight.first_key_value().map(|(_, (_, at))| *at);
            (in_flight.len(), oldest)
        };
        if read_to_the_end {
            lag.caught_up(pending, oldest);
        } else {
            lag.measure(read_up_to, pending, oldest).await;
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
            lock(&self.in_flight).insert(event.position, (before, event.recorded_at));
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
        let mut saga: Option<Option<Saga>> = lock(&self.sagas).remove(&order).map(Some);
        loop {
            let item = match items.try_recv() {
                Ok(item) => item,
                Err(_) => {
                    let mut running = lock(&self.lanes);
                    match items.try_recv() {
                        Ok(item) => item,
                        Err(_) => {
                            running.remove(&order);
                            if let Some(Some(saga)) = saga
                                && !saga.current().phase().is_final()
                            {
                                lock(&self.sagas).insert(order, saga);
                            }
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
                    .take_step(&self.writer, order, saga, event, step.clone())
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

#[cfg(test)]
mod tests {
    use application::saga::{Fulfil, SagaOptions};
    use application::{Commands, EventStore, RepositoryOptions};
    use infrastructure::{PgEventStore, SimulatedProvider};
    use sqlx::PgPool;

    use super::*;
    use crate::saga::RunnerOptions;

    /// A tenure whose database is never reached: `send` only hands items to lanes.
    fn tenure() -> Arc<Tenure> {
        let pool = PgPool::connect_lazy("postgres://nobody@127.0.0.1:1/none")
            .unwrap_or_else(|e| panic!("a lazy pool: {e}"));
        let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        let commands = Commands::new(
            Arc::clone(&store),
            &RepositoryOptions::default(),
            infrastructure::SimulatedProvider::simulation(),
        );
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
