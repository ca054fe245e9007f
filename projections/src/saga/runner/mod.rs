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
//! order. For each step a lane carries out the policy's actions first and then, in one fenced
//! statement, stores the saga's new state (with the step's position), its deadline and any
//! dead letter; steps of several orders done at the same time share that statement. The checkpoint follows the oldest step not yet done; a crash takes the log
//! again from there: each saga skips the steps it has already stored, and a step whose
//! actions ran but whose state was not stored gets the same actions again, whose commands
//! carry the same ids and append nothing the second time.
//!
//! Deadlines are checked on their own clock and go through the order's lane like a step.
//! An event that does not decode parks the saga at that event (`projections status` shows
//! it; `projections resume fulfilment` lets it go on); deadlines keep firing meanwhile.

use std::sync::Arc;
use std::time::Duration;

use application::event_log::{Position, RecordedEvent};
use application::saga::{self, Failure, Fulfil, Saga};
use application::{EventStore, Upcasters};
use domain::fulfilment::{Phase, Step};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::{Notify, watch};
use tracing::Instrument;
use uuid::Uuid;

mod tenure;
mod writer;

use tenure::Tenure;
use writer::Writer;

use super::dead_letters::Place;
use super::outcome::{self, Deadline, Outcome};
use super::state;
use super::{fence, gauges};
use crate::{Error, checkpoint};

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
            gauges::leave();
            crate::lag::parked(NAME, false);
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
            let cause = saga::cause_of(saga, &step, causation);
            let actions = fulfilment.on(step.clone());
            let place = Place {
                order: saga.order,
                step: saga.steps.len(),
                action: 0,
            };
            saga.steps.push(step);
            let carried = saga::carry_out(&self.fulfil, &actions, 0, &cause, false).await;
            advanced.deadline |= carried.deadline;
            if let Some((action_index, action, failure)) = carried.failed {
                let place = Place {
                    action: action_index,
                    ..place
                };
                advanced
                    .dead_letters
                    .push((place, saga::describe(&action), failure));
            }
            pending.extend(carried.follow_ups.into_iter().rev());
        }
        advanced.phase = fulfilment.phase();
        advanced
    }

    /// Stores the saga's state, its deadline and its dead letters through `writer` (fenced
    /// by its tenure's epoch).
    async fn store_saga(
        &self,
        writer: &Writer,
        saga: &Saga,
        advanced: &Advanced,
        cause: &Value,
    ) -> Result<(), Error> {
        let deadline = if advanced.phase.is_final() {
            Deadline::Clear
        } else if advanced.deadline {
            Deadline::Start(state::due_in(self.fulfil.options().payment_timeout))
        } else {
            Deadline::Keep
        };
        let outcome = Outcome {
            saga,
            phase: advanced.phase,
            deadline,
            dead_letters: &advanced.dead_letters,
            cause,
        };
        writer.store(outcome::Row::of(&outcome)?).await
    }

    /// Takes one step read from the log into the order's saga (loaded on first use), unless
    /// the saga has taken it before.
    async fn take_step(
        &self,
        writer: &Writer,
        order: Uuid,
        saga: &mut Option<Saga>,
        event: &RecordedEvent,
        step: Step,
    ) -> Result<(), Error> {
        let before = saga.as_ref().map(|saga| saga.current().phase());
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
        // The step's logs carry the causal chain of the request that placed the order.
        let span = tracing::info_span!(
            "saga_step",
            %order,
            correlation_id = %saga.correlation_id,
            event_type = %event.event_type,
        );
        let advanced = self
            .advance_saga(saga, step, Some(event.event_id))
            .instrument(span.clone())
            .await;
        saga.position = event.position;
        let cause = json!({
            "eventId": event.event_id,
            "position": event.position.token(),
            "stream": event.stream.to_string(),
            "version": event.version,
            "eventType": event.event_type,
        });
        self.store_saga(writer, saga, &advanced, &cause)
            .instrument(span.clone())
            .await?;
        gauges::moved(before, advanced.phase);
        span.in_scope(|| {
            tracing::debug!(phase = state::phase_name(advanced.phase), "saga step taken");
        });
        Ok(())
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
            let cause = saga::cause_of(saga, &Step::PaymentDeadlinePassed, None);
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
        let mut tx = crate::transaction::begin(&self.pool).await?;
        fence::hold(&mut tx, NAME, epoch).await?;
        state::clear_deadline(&mut tx, order).await?;
        tx.commit().await?;
        Ok(())
    }
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
