//! The subscriptions (served over graphql-transport-ws at `/graphql/ws`):
//! `orderUpdated`, `ticketUpdated` and `eventAppended`.
//!
//! `orderUpdated` and `ticketUpdated` look at their read-model row again each time the
//! projection behind it announces a committed batch ([`projections::Announcer`]; at least
//! every [`FALLBACK`], for batches a worker in another process commits) and yield when the
//! row's stream version grew. `eventAppended` follows the event log with a
//! [`projections::Follower`]: woken by every commit of this process, and looking again at
//! least every [`POLL`] for commits of others.
//!
//! A stream ends when its connection closes or the server shuts down (the WebSocket handler
//! drops it); at most `ws_max_subscriptions` run at once per connection ([`Slots`]). Authorization is the queries': a customer follows only their
//! own orders and tickets (another's is `FORBIDDEN`), the log is for operators and
//! auditors.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use application::audit::Selection;
use application::event_log::{Position, RecordedEvent};
use async_graphql::{Context, ID, SimpleObject, Subscription as GraphQLSubscription};
use chrono::SecondsFormat;
use futures::Stream;
use futures::stream;
use projections::{Committed, Follower};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast, watch};

use super::context::state;
use super::order_loader::order_loader;
use super::reads::{Order, Ticket, graphql_error, payment_loader, reader, uuid};
use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// How often a subscription looks for a change.
pub const POLL: Duration = Duration::from_millis(250);

/// How soon `eventAppended` looks again right after the log yielded events.
const POLL_MIN: Duration = Duration::from_millis(10);

/// The longest a row subscription goes without looking at its row: a worker in another
/// process announces nothing here.
pub const FALLBACK: Duration = Duration::from_secs(1);

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
        let caller = reader(ctx, "orders").await?;
        let id = uuid("id", &id)?;
        let state = state(ctx)?.clone();
        let reads = Arc::clone(state.queries.reads());
        // Listening before the first read: a batch committed in between is not missed.
        let committed = state.announcer.listen();
        let current = reads.order(id).await.map_err(graphql_error)?;
        if let Some(order) = &current {
            authorize(&caller, &order.customer_id, "order")?;
        }
        let permit = slot(ctx)?;
        let rows = watch_row(
            ("orders", committed),
            current,
            move || {
                let reads = Arc::clone(&reads);
                async move { reads.order(id).await }
            },
            |order| order.version,
            move |order| authorize(&caller, &order.customer_id, "order"),
            permit,
        );
        Ok(futures::StreamExt::map(rows, move |row| {
            row.map(|order| Order::new(order, payment_loader(&state)))
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
        let caller = reader(ctx, "tickets").await?;
        let id = uuid("id", &id)?;
        let state = state(ctx)?.clone();
        let reads = Arc::clone(state.queries.reads());
        let committed = state.announcer.listen();
        let current = reads.ticket(id).await.map_err(graphql_error)?;
        if let Some(ticket) = &current {
            authorize(&caller, &ticket.customer_id, "ticket")?;
        }
        let permit = slot(ctx)?;
        let rows = watch_row(
            ("tickets", committed),
            current,
            move || {
                let reads = Arc::clone(&reads);
                async move { reads.ticket(id).await }
            },
            |ticket| ticket.version,
            move |ticket| authorize(&caller, &ticket.customer_id, "ticket"),
            permit,
        );
        // Fresh loaders per update: a cached order would hide its later changes.
        Ok(futures::StreamExt::map(rows, move |row| {
            row.map(|ticket| Ticket::new(ticket, order_loader(&state), payment_loader(&state)))
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

/// `FORBIDDEN` unless `caller` may read what `owner` owns.
fn authorize(caller: &Caller, owner: &str, what: &str) -> Result<(), async_graphql::Error> {
    if caller.actor.sees(owner) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!("this {what} is another customer's")).to_graphql())
    }
}

/// What a row-watching subscription carries between polls.
struct Watch<V, L> {
    /// The row to yield first, when there was one at subscription time.
    first: Option<V>,
    load: L,
    /// The projection behind the row, and its workers' announcements.
    projection: &'static str,
    committed: broadcast::Receiver<Committed>,
    /// The version last yielded.
    seen: Option<i64>,
    /// Whether the stream has ended (after an error).
    done: bool,
    _permit: OwnedSemaphorePermit,
}

/// A row now (when `first` is one) and each time its version grows; ends after the first
/// error (refused by `allowed`, or failing to load).
fn watch_row<V, L, F>(
    (projection, committed): (&'static str, broadcast::Receiver<Committed>),
    first: Option<V>,
    load: L,
    version: fn(&V) -> i64,
    allowed: impl Fn(&V) -> Result<(), async_graphql::Error> + Send + 'static,
    permit: OwnedSemaphorePermit,
) -> impl Stream<Item = Result<V, async_graphql::Error>>
where
    V: Send + 'static,
    L: Fn() -> F + Send + 'static,
    F: Future<Output = Result<Option<V>, application::Error>> + Send,
{
    let watch = Watch {
        first,
        load,
        projection,
        committed,
        seen: None,
        done: false,
        _permit: permit,
    };
    stream::unfold((watch, allowed), move |(mut watch, allowed)| async move {
        if watch.done {
            return None;
        }
        loop {
            let row = match watch.first.take() {
                Some(row) => Some(row),
                None => {
                    changed(watch.projection, &mut watch.committed).await;
                    match (watch.load)().await {
                        Ok(row) => row,
                        Err(error) => {
                            watch.done = true;
                            return Some((Err(graphql_error(error)), (watch, allowed)));
                        }
                    }
                }
            };
            let Some(row) = row else { continue };
            if watch.seen.is_some_and(|seen| version(&row) <= seen) {
                continue;
            }
            if let Err(error) = allowed(&row) {
                watch.done = true;
                return Some((Err(error), (watch, allowed)));
            }
            watch.seen = Some(version(&row));
            return Some((Ok(row), (watch, allowed)));
        }
    })
}

/// Waits until `projection` announces a committed batch, or [`FALLBACK`] has passed.
async fn changed(projection: &'static str, committed: &mut broadcast::Receiver<Committed>) {
    let announced = async {
        loop {
            match committed.recv().await {
                Ok(batch) if batch.projection == projection => {
                    // One look at the row serves every announcement already waiting.
                    while committed.try_recv().is_ok() {}
                    return;
                }
                Ok(_) => {}
                // Announcements were missed: one of them may have been this projection's.
                Err(broadcast::error::RecvError::Lagged(_)) => return,
                Err(broadcast::error::RecvError::Closed) => {
                    return std::future::pending().await;
                }
            }
        }
    };
    let _ = tokio::time::timeout(FALLBACK, announced).await;
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
