//! The subscriptions (served over graphql-transport-ws at `/graphql/ws`):
//! `orderUpdated`, `ticketUpdated` and `eventAppended`.
//!
//! `orderUpdated` and `ticketUpdated` are `application::queries::Queries::watch_order` and
//! `watch_ticket`: the row looked at again each time the projection behind it announces a
//! committed batch ([`projections::Announcer::changes`]; at least every
//! [`projections::committed::FALLBACK`], for batches a worker in another process commits),
//! yielded when its stream version grew. `eventAppended` follows the event log with a
//! [`projections::Follower`]: woken by every commit of this process, and looking again at
//! least every [`POLL`] for commits of others.
//!
//! A stream ends when its connection closes or the server shuts down (the WebSocket handler
//! drops it); at most `ws_max_subscriptions` run at once per connection ([`Slots`]).
//! Authorization is the queries': a customer follows only their own orders and tickets (another's is `FORBIDDEN`), the log is for operators and
//! auditors.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use application::audit::Selection;
use application::event_log::{Position, RecordedEvent};
use application::queries::Queries;
use async_graphql::{Context, ID, SimpleObject, Subscription as GraphQLSubscription};
use chrono::SecondsFormat;
use futures::Stream;
use futures::StreamExt;
use futures::stream;
use projections::Follower;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::context::state;
use super::order_loader::order_loader;
use super::reads::{Order, Ticket, graphql_error, payment_loader, uuid};
use crate::error::ApiError;
use crate::state::AppState;

/// How often a subscription looks for a change.
pub const POLL: Duration = Duration::from_millis(250);

/// How soon `eventAppended` looks again right after the log yielded events.
const POLL_MIN: Duration = Duration::from_millis(10);

/// How many log events one poll of `eventAppended` reads at most.
const LOG_BATCH: i64 = 100;

/// The subscriptions a connection may still start: one permit per running subscription,
/// given back when it ends.
#[derive(Debug, Clone)]
pub struct Slots {
    permits: Arc<Semaphore>,
    limit: usize,
}

impl Slots {
    /// Room for `limit` subscriptions at once.
    #[must_use]
    pub fn new(limit: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limit)),
            limit,
        }
    }

    /// A slot for one more subscription.
    fn take(&self) -> Result<OwnedSemaphorePermit, async_graphql::Error> {
        Arc::clone(&self.permits).try_acquire_owned().map_err(|_| {
            ApiError::Validation(format!(
                "too many subscriptions on this connection (at most {})",
                self.limit
            ))
            .to_graphql()
        })
    }
}

/// The slot of a new subscription.
///
/// # Errors
/// `VALIDATION` when the connection runs as many as it may; `INTERNAL` without [`Slots`]
/// (subscriptions run only over the WebSocket).
fn slot(ctx: &Context<'_>) -> Result<OwnedSemaphorePermit, async_graphql::Error> {
    ctx.data_opt::<Slots>()
        .ok_or_else(|| {
            ApiError::Validation("subscriptions are served over WebSocket at /graphql/ws".into())
                .to_graphql()
        })?
        .take()
}

/// The root of the subscriptions.
#[derive(Debug, Default, Clone, Copy)]
pub struct Subscription;

/// An event appended to the log, as operators and auditors follow it.
#[derive(Debug, Clone, SimpleObject)]
pub struct AppendedEvent {
    /// Its position token (usable as `consistentWith`).
    pub position: String,
    /// The aggregate type: `order`, `stock`, `payment` or `ticket`.
    pub stream_type: String,
    /// The aggregate id within its type.
    pub stream_id: String,
    /// Its version within the stream (1-based).
    pub version: i64,
    /// Its type, e.g. `OrderPlaced`.
    pub event_type: String,
    /// When it was appended (RFC 3339).
    pub recorded_at: String,
}

impl From<RecordedEvent> for AppendedEvent {
    fn from(event: RecordedEvent) -> Self {
        Self {
            position: event.position.token(),
            stream_type: event.stream.stream_type,
            stream_id: event.stream.stream_id,
            version: event.version,
            event_type: event.event_type,
            recorded_at: event
                .recorded_at
                .to_rfc3339_opts(SecondsFormat::Micros, true),
        }
    }
}

#[GraphQLSubscription]
impl Subscription {
    /// The order (its customer, agents, operators) now and each time it changes. Waits
    /// for an order not projected yet; `FORBIDDEN` for another customer's order.
    async fn order_updated(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<impl Stream<Item = Result<Order, async_graphql::Error>> + use<>, async_graphql::Error>
    {
        let caller = super::context::caller(ctx).await?;
        Queries::may_read(&caller.actor, "orders").map_err(graphql_error)?;
        let id = uuid("id", &id)?;
        let state = state(ctx)?.clone();
        // Listening before the first read: a batch committed in between is not missed.
        let changes = Box::new(state.announcer.changes());
        let rows = state.queries.watch_order(&caller.actor, id, changes).await;
        let rows = rows.map_err(graphql_error)?;
        let permit = slot(ctx)?;
        Ok(rows.map(move |row| {
            let _running = &permit;
            row.map(|order| Order::new(order, payment_loader(&state)))
                .map_err(graphql_error)
        }))
    }

    /// The ticket (its customer, agents, operators) now and each time it changes. Waits
    /// for a ticket not projected yet; `FORBIDDEN` for another customer's ticket.
    async fn ticket_updated(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<
        impl Stream<Item = Result<Ticket, async_graphql::Error>> + use<>,
        async_graphql::Error,
    > {
        let caller = super::context::caller(ctx).await?;
        Queries::may_read(&caller.actor, "tickets").map_err(graphql_error)?;
        let id = uuid("id", &id)?;
        let state = state(ctx)?.clone();
        let changes = Box::new(state.announcer.changes());
        let rows = state.queries.watch_ticket(&caller.actor, id, changes).await;
        let rows = rows.map_err(graphql_error)?;
        let permit = slot(ctx)?;
        // Fresh loaders per update: a cached order would hide its later changes.
        Ok(rows.map(move |row| {
            let _running = &permit;
            row.map(|ticket| Ticket::new(ticket, order_loader(&state), payment_loader(&state)))
                .map_err(graphql_error)
        }))
    }

    /// Every event appended to the log from now on (operators, auditors), optionally of
    /// one stream type only.
    async fn event_appended(
        &self,
        ctx: &Context<'_>,
        stream_type: Option<String>,
    ) -> Result<
        impl Stream<Item = Result<AppendedEvent, async_graphql::Error>> + use<>,
        async_graphql::Error,
    > {
        let caller = super::context::caller(ctx).await?;
        application::audit::Audit::may_read(&caller.actor).map_err(graphql_error)?;
        let state: &AppState = state(ctx)?;
        let start = state.store.head().await.map_err(graphql_error)?;
        let permit = slot(ctx)?;
        let (_, filter) = Selection {
            stream_type,
            ..Selection::default()
        }
        .parse()
        .map_err(graphql_error)?;
        let follower = Follower::new(
            Arc::clone(&state.store),
            Arc::clone(&state.commits),
            POLL_MIN,
            POLL,
        )
        .filtered(filter);
        let tail = Tail {
            follower,
            after: start,
            pending: VecDeque::new(),
            shutdown: state.shutdown.clone(),
            _permit: permit,
        };
        Ok(stream::unfold(tail, |mut tail| async move {
            let next = tail.next().await?;
            Some((next, tail))
        }))
    }
}

/// The log from a position on, read in batches by a [`Follower`].
struct Tail {
    follower: Follower,
    after: Position,
    pending: VecDeque<RecordedEvent>,
    shutdown: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
}

impl Tail {
    /// The next event, waiting for one; the end when the server stops.
    async fn next(&mut self) -> Option<Result<AppendedEvent, async_graphql::Error>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(event.into()));
            }
            let events = self
                .follower
                .next(self.after, LOG_BATCH, &mut self.shutdown)
                .await?;
            if let Some(last) = events.last() {
                self.after = last.position;
            }
            self.pending.extend(events);
        }
    }
}
