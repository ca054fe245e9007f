//! The saga runner: reads the global order like a projection, takes each order's steps in
//! turn, carries out what the fulfilment policy answers, and fires payment deadlines.
//!
//! One runner is active across every process (a session advisory lock). For each step it
//! carries out the actions first and then, in one short transaction, stores the saga's new
//! state, its deadline, any dead letter and the checkpoint. A crash in between takes the
//! step again from the checkpoint: the policy answers the same actions, whose commands carry
//! the same ids and append nothing the second time.

use std::sync::Arc;
use std::time::Duration;

use application::event_log::{Position, RecordedEvent};
use application::saga::{Failure, Fulfil, step_of};
use application::{EventStore, Upcasters, decode_recorded};
use chrono::Utc;
use domain::fulfilment::{Phase, Step};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::{Notify, watch};
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
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            batch_size: 200,
            min_poll: Duration::from_millis(10),
            max_poll: Duration::from_millis(500),
            lock_retry: Duration::from_secs(1),
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

    /// Runs until `shutdown` turns true. Errors (a lost connection, a database failure)
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
            for event in &events {
                if *shutdown.borrow() {
                    return Ok(());
                }
                self.take(conn, position, event).await?;
                position = event.position;
            }
            if caught_up {
                self.fire_deadlines(conn).await?;
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

    /// Takes `event` (the one after `from`) and moves the checkpoint past it.
    async fn take(
        &self,
        conn: &mut PgConnection,
        from: Position,
        event: &RecordedEvent,
    ) -> Result<(), Error> {
        let decoded = decode_recorded(event, &self.upcasters)?;
        let Some((order, step)) = decoded
            .as_ref()
            .and_then(|decoded| step_of(decoded, &event.stream.stream_id))
        else {
            let mut tx = conn.begin().await?;
            checkpoint::advance(&mut tx, NAME, from, event.position).await?;
            tx.commit().await?;
            return Ok(());
        };
        let order = Uuid::from_u128(order.as_u128());
        let saga = match state::load(conn, order).await? {
            Some(saga) => Some(saga),
            None if matches!(step, Step::Placed { .. }) => Some(Saga {
                order,
                correlation_id: correlation_of(event),
                steps: Vec::new(),
            }),
            // An event about an order the saga never saw placed: nothing to coordinate.
            None => None,
        };
        let mut tx_saga = saga;
        let cause = json!({
            "eventId": event.event_id,
            "position": event.position.token(),
            "stream": event.stream.to_string(),
            "version": event.version,
            "eventType": event.event_type,
        });
        let mut tx = match tx_saga.as_mut() {
            Some(saga) => {
                let advanced = self.advance_saga(saga, step, Some(event.event_id)).await;
                let mut tx = conn.begin().await?;
                self.store_saga(&mut tx, saga, &advanced, &cause).await?;
                tx
            }
            None => conn.begin().await?,
        };
        checkpoint::advance(&mut tx, NAME, from, event.position).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Feeds `step` to the saga's policy and carries out its answer (then any step the
    /// actions found out about); the saga keeps the steps. Answers the new phase, whether
    /// the deadline must start, and the dead letters to record.
    async fn advance_saga(&self, saga: &mut Saga, step: Step, causation: Option<Uuid>) -> Advanced {
        let mut fulfilment = saga.fold(saga.steps.len());
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
            let due = Utc::now()
                + chrono::Duration::from_std(self.fulfil.options().payment_timeout)
                    .unwrap_or(chrono::Duration::MAX);
            state::schedule_deadline(tx, saga.order, due).await?;
        }
        for (place, action, failure) in &advanced.dead_letters {
            dead_letters::record(tx, *place, action, cause, &failure.error, failure.attempts)
                .await?;
        }
        Ok(())
    }

    /// Compensates every order whose payment deadline has passed.
    async fn fire_deadlines(&self, conn: &mut PgConnection) -> Result<(), Error> {
        for order in state::due_deadlines(conn, 50).await? {
            let mut tx_saga = state::load(conn, order).await?;
            let mut tx = match tx_saga.as_mut() {
                Some(saga) if saga.fold(saga.steps.len()).phase() == Phase::Paying => {
                    tracing::info!(%order, "payment deadline passed");
                    let advanced = self
                        .advance_saga(saga, Step::PaymentDeadlinePassed, None)
                        .await;
                    let mut tx = conn.begin().await?;
                    self.store_saga(&mut tx, saga, &advanced, &json!({}))
                        .await?;
                    tx
                }
                _ => conn.begin().await?,
            };
            state::clear_deadline(&mut tx, order).await?;
            tx.commit().await?;
        }
        Ok(())
    }
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
