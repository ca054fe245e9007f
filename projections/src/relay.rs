//! The outbox relay: follows the log like a projection and publishes its integration
//! events ([`application::integration`]) to a broker, at least once and in each stream's
//! order.
//!
//! The log is the outbox: an event is committed with the command that caused it, and the
//! relay's checkpoint (a row `relay` beside the projections') says how far the broker has
//! confirmed. One relay is active across every process (the `projection:relay` advisory
//! lock, taken on a connection of its own); it reads a batch after its checkpoint, publishes
//! the integration events among them, waits for the broker to confirm every one, and only
//! then moves the checkpoint, with a compare-and-set that fails if another relay moved it.
//! A crash, a lost lock or a broker that goes away between publishing and moving the
//! checkpoint means the batch is published again: duplicates carry the same message id
//! (the event id), which RabbitMQ consumers and NATS JetStream's duplicate window drop.
//!
//! Within a batch, a stream's events go out in waves: the first event of every stream in
//! the batch, confirmed, then the second, and so on. So a stream's next event is never
//! sent before the one ahead of it is stored, and the first arrival of each event comes
//! in its stream's order even when a broker loses some messages of a batch and keeps
//! others.
//!
//! A broker that cannot be reached is retried without end (with a pause that doubles up to
//! [`RelayOptions::max_retry`]), holding the lock: the lag grows and shows in
//! `domainflow_projection_lag_events{projection="relay"}` and `projections status`. An
//! event that does not decode parks the relay, like a projection, until an operator
//! resumes it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use application::EventStore;
use application::backoff::Backoff;
use application::event_log::RecordedEvent;
use application::instruments::{RELAY_FAILURES, RELAY_PUBLISHED};
use application::integration::{Broker, IntegrationEvent, Publisher, integration_event};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::{Notify, watch};

use crate::decode::decode;
use crate::lag::{self, Lag};
use crate::lock::pause;
use crate::{Error, Follower, checkpoint};

/// The relay's name: its checkpoint row, its lock and its row in `projections status`.
pub const NAME: &str = "relay";

/// How the relay paces itself.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// Most events read (and published) at once.
    pub batch_size: i64,
    /// The first poll interval once the log is drained; doubled while idle.
    pub min_poll: Duration,
    /// The longest poll interval.
    pub max_poll: Duration,
    /// How often a waiting relay tries to take the lock.
    pub lock_retry: Duration,
    /// The pause after the first failure (a broker away, a lost connection).
    pub retry_base: Duration,
    /// The longest pause between two attempts.
    pub max_retry: Duration,
    /// The longest a batch may take to connect, publish and be confirmed: past it the
    /// connection is given up (a broker that accepts connections and never answers, or
    /// blocks publishers, holds nothing up for longer).
    pub publish_timeout: Duration,
}

impl Default for RelayOptions {
    fn default() -> Self {
        Self {
            batch_size: 500,
            min_poll: Duration::from_millis(10),
            max_poll: Duration::from_secs(1),
            lock_retry: Duration::from_secs(1),
            retry_base: Duration::from_millis(200),
            max_retry: Duration::from_secs(30),
            publish_timeout: Duration::from_secs(30),
        }
    }
}

/// Publishes the log's integration events to a broker. See the module documentation.
#[derive(Clone)]
pub struct Relay {
    broker: Arc<dyn Broker>,
    store: Arc<dyn EventStore>,
    pool: PgPool,
    wake: Arc<Notify>,
    options: RelayOptions,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("broker", &self.broker.kind())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Why a session of the relay ended.
enum Ended {
    /// Shutting down.
    Stopped,
    /// The relay is parked.
    Parked(String),
    /// The database failed; the session starts again after a pause.
    Failed(Error),
}

impl Relay {
    /// A relay reading the log through `store`, keeping its checkpoint through `pool` and
    /// publishing to `broker`; `wake` is the commit signal of this process.
    #[must_use]
    pub fn new(
        broker: Arc<dyn Broker>,
        store: Arc<dyn EventStore>,
        pool: PgPool,
        wake: Arc<Notify>,
        options: RelayOptions,
    ) -> Self {
        Self {
            broker,
            store,
            pool,
            wake,
            options,
        }
    }

    /// Runs until `shutdown` turns true: takes the lock when it is free and publishes from
    /// the checkpoint on. A broker that fails is tried again, holding the lock, after a
    /// pause; a failure of the database ends the session (the lock is let go) and it starts
    /// again after a pause. A parked relay waits for `projections resume relay`.
    ///
    /// # Errors
    /// None today: the `Result` keeps the shape of the projection workers'.
    #[tracing::instrument(skip_all, fields(projection = NAME, broker = self.broker.kind()))]
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), Error> {
        let mut failures: u32 = 0;
        let mut parked_said = false;
        loop {
            let Some(mut session) = crate::lock::acquire(
                &self.pool,
                &format!("projection:{NAME}"),
                &mut shutdown,
                self.options.lock_retry,
            )
            .await
            else {
                return Ok(());
            };
            let ended = self.session(&mut session, &mut shutdown).await;
            // Closing the session releases the lock.
            let _ = session.close().await;
            let pause_for = match ended {
                Ended::Stopped => return Ok(()),
                Ended::Parked(error) => {
                    lag::parked(NAME, true);
                    if !parked_said {
                        tracing::warn!(%error, "relay parked; waiting for `projections resume relay`");
                        parked_said = true;
                    }
                    self.options.max_poll
                }
                Ended::Failed(error) => {
                    parked_said = false;
                    failures = failures.saturating_add(1);
                    let pause_for = self.backoff().delay(failures);
                    tracing::warn!(%error, failures, ?pause_for, "relay failed; starting again");
                    pause_for
                }
            };
            if pause(&mut shutdown, pause_for).await {
                return Ok(());
            }
        }
    }

    fn backoff(&self) -> Backoff {
        Backoff {
            base: self.options.retry_base,
            cap: self.options.max_retry,
        }
    }

    /// Publishes from the checkpoint on while holding the lock on `conn`.
    async fn session(
        &self,
        conn: &mut PgConnection,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Ended {
        let start = match checkpoint::load(conn, NAME).await {
            Ok(start) => start,
            Err(error) => return Ended::Failed(error),
        };
        if let Some(error) = start.parked {
            return Ended::Parked(error);
        }
        lag::parked(NAME, false);
        let mut position = start.position;
        let mut lag = Lag::new(NAME, self.pool.clone()).holding();
        lag.measure(position, 0, None).await;
        let mut follower = Follower::new(
            Arc::clone(&self.store),
            Arc::clone(&self.wake),
            self.options.min_poll,
            self.options.max_poll,
        );
        let mut broker = Connected::new(Arc::clone(&self.broker), self.options.publish_timeout);
        let mut broker_failures: u32 = 0;
        loop {
            if *shutdown.borrow() {
                return Ended::Stopped;
            }
            let events = match follower.read(position, self.options.batch_size).await {
                Ok(events) => events,
                Err(error) => return Ended::Failed(error.into()),
            };
            if events.is_empty() {
                lag.measure(position, 0, None).await;
                follower.wait(std::future::pending(), shutdown).await;
                continue;
            }
            let messages = match Self::messages(&events) {
                Ok(messages) => messages,
                Err(error) => {
                    let text = error.to_string();
                    tracing::error!(error = %text, "parking the relay");
                    return match checkpoint::park(conn, NAME, &text).await {
                        Ok(()) => Ended::Parked(text),
                        Err(error) => Ended::Failed(error),
                    };
                }
            };
            let published = tokio::select! {
                published = broker.publish(&messages) => published,
                _ = shutdown.changed() => return Ended::Stopped,
            };
            if let Err(error) = published {
                // The broker is away or failed: the same batch again after a pause, still
                // holding the lock, the lag growing in the gauges.
                broker_failures = broker_failures.saturating_add(1);
                metrics::counter!(RELAY_FAILURES, "broker" => self.broker.kind()).increment(1);
                let pause_for = self.backoff().delay(broker_failures);
                tracing::warn!(%error, failures = broker_failures, ?pause_for, "publishing failed; trying again");
                lag.measure(position, 0, None).await;
                if pause(shutdown, pause_for).await {
                    return Ended::Stopped;
                }
                continue;
            }
            for message in &messages {
                metrics::counter!(RELAY_PUBLISHED, "broker" => self.broker.kind(), "event" => message.name)
                    .increment(1);
            }
            if broker_failures > 0 {
                tracing::info!(failures = broker_failures, "publishing again");
                broker_failures = 0;
            }
            let to = events.last().map_or(position, |event| event.position);
            if let Err(error) = checkpoint::advance(conn, NAME, position, to).await {
                return Ended::Failed(error);
            }
            position = to;
            lag.applied(events.len());
            if i64::try_from(events.len()).unwrap_or(i64::MAX) < self.options.batch_size {
                lag.caught_up(0, None);
            } else {
                lag.measure(position, 0, events.last().map(|e| e.recorded_at))
                    .await;
            }
            tracing::debug!(
                events = events.len(),
                published = messages.len(),
                "batch relayed"
            );
        }
    }

    /// The integration events among `events`, in their order.
    fn messages(events: &[RecordedEvent]) -> Result<Vec<IntegrationEvent>, Error> {
        let mut messages = Vec::new();
        for recorded in events {
            let decoded = decode(recorded).map_err(|cause| Error::Handler {
                projection: NAME,
                position: recorded.position,
                stream: recorded.stream.to_string(),
                version: recorded.version,
                event_type: recorded.event_type.clone(),
                cause: Box::new(cause),
            })?;
            if let Some(message) = decoded.and_then(|event| integration_event(recorded, &event)) {
                messages.push(message);
            }
        }
        Ok(messages)
    }
}

/// The broker, connected on first use and again after a failure.
struct Connected {
    broker: Arc<dyn Broker>,
    publisher: Option<Box<dyn Publisher>>,
    timeout: Duration,
}

impl Connected {
    fn new(broker: Arc<dyn Broker>, timeout: Duration) -> Self {
        Self {
            broker,
            publisher: None,
            timeout,
        }
    }

    /// Publishes `messages` (see [`publish_in_waves`]) within the timeout; after a failure
    /// the connection is dropped, and the next call makes a new one.
    async fn publish(&mut self, messages: &[IntegrationEvent]) -> Result<(), application::Error> {
        if messages.is_empty() {
            return Ok(());
        }
        let timeout = self.timeout;
        let published = tokio::time::timeout(timeout, self.connect_and_publish(messages))
            .await
            .unwrap_or_else(|_| {
                Err(application::Error::Infrastructure(format!(
                    "{}: the batch was not confirmed within {timeout:?}",
                    self.broker.kind()
                )))
            });
        if published.is_err() {
            self.publisher = None;
        }
        published
    }

    async fn connect_and_publish(
        &mut self,
        messages: &[IntegrationEvent],
    ) -> Result<(), application::Error> {
        let publisher = match &mut self.publisher {
            Some(publisher) => publisher,
            None => {
                let connected = self.broker.connect().await?;
                tracing::info!(broker = self.broker.kind(), "connected to the broker");
                self.publisher.insert(connected)
            }
        };
        publish_in_waves(publisher.as_mut(), messages).await
    }
}

/// Publishes `messages` so that a subject's next message goes out only once the one ahead
/// of it is confirmed: wave `k` holds the `k`-th message of each subject.
async fn publish_in_waves(
    publisher: &mut dyn Publisher,
    messages: &[IntegrationEvent],
) -> Result<(), application::Error> {
    for wave in waves(messages) {
        publisher.publish(&wave).await?;
    }
    Ok(())
}

/// `messages` split into waves (see [`publish_in_waves`]), each in the log's order.
fn waves(messages: &[IntegrationEvent]) -> Vec<Vec<IntegrationEvent>> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut waves: Vec<Vec<IntegrationEvent>> = Vec::new();
    for message in messages {
        let count = seen.entry(message.subject.as_str()).or_insert(0);
        if waves.len() <= *count {
            waves.push(Vec::new());
        }
        if let Some(wave) = waves.get_mut(*count) {
            wave.push(message.clone());
        }
        *count += 1;
    }
    waves
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn message(subject: &str, sequence: i64) -> IntegrationEvent {
        IntegrationEvent {
            id: uuid::Uuid::new_v4(),
            name: "order.placed",
            subject: subject.to_owned(),
            sequence,
            correlation_id: None,
            body: Vec::new(),
        }
    }

    #[test]
    fn a_subjects_later_messages_wait_for_a_later_wave() {
        let messages = [
            message("order/a", 1),
            message("order/b", 1),
            message("order/a", 2),
            message("order/a", 3),
            message("order/b", 2),
            message("order/c", 1),
        ];
        let waves: Vec<Vec<(String, i64)>> = waves(&messages)
            .into_iter()
            .map(|wave| wave.into_iter().map(|m| (m.subject, m.sequence)).collect())
            .collect();
        let pairs = |list: &[(&str, i64)]| -> Vec<(String, i64)> {
            list.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect()
        };
        assert_eq!(
            waves,
            vec![
                pairs(&[("order/a", 1), ("order/b", 1), ("order/c", 1)]),
                pairs(&[("order/a", 2), ("order/b", 2)]),
                pairs(&[("order/a", 3)]),
            ]
        );
    }
}
