//! The audit queries (auditors and operators; every other role is `FORBIDDEN`), answered
//! from the event log itself: `events` and `stream` (Relay connections whose cursors are
//! position tokens), `integrity` (the hash-chain report of `domainflow verify`), and
//! `orderAsOf` / `ticketAsOf` (the aggregate folded up to a version or an instant).

use application::event_log::{Position, RecordedEvent};
use application::history::{AsOf, state_as_of};
use application::{EventSourced, OrderAggregate, Role, TicketAggregate, Upcasters};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object};
use infrastructure::{PgEventStore, ReadFilter};

use super::as_of::{OrderAsOf, TicketAsOf};
use super::context::state;
use super::integrity::IntegrityReport;
use super::reads::{caller_in, page_size, uuid};
use crate::error::ApiError;
use crate::history::{Event, Selection, parse_time, stream_ref};

/// The audit queries.
#[derive(Debug, Default, Clone, Copy)]
pub struct HistoryQuery;

const HISTORY_READERS: [Role; 2] = [Role::Auditor, Role::Operator];

type EventConnection = Connection<String, Event>;

fn gql(error: ApiError) -> async_graphql::Error {
    error.to_graphql()
}

fn store(ctx: &Context<'_>) -> Result<PgEventStore, async_graphql::Error> {
    Ok(PgEventStore::new(state(ctx)?.pool.clone()))
}

fn failed(error: &infrastructure::Error) -> async_graphql::Error {
    gql(ApiError::Internal(error.to_string()))
}

/// Up to `first` events after `after` matching `filter`, as a connection.
async fn connection(
    store: &PgEventStore,
    after: Position,
    filter: &ReadFilter,
    first: usize,
) -> Result<EventConnection, async_graphql::Error> {
    let limit = i64::try_from(first).unwrap_or(i64::MAX).saturating_add(1);
    let mut events = store
        .read_all(after, limit, filter)
        .await
        .map_err(|e| failed(&e))?;
    let has_next = events.len() > first;
    events.truncate(first);
    let mut connection = Connection::new(after != Position::START, has_next);
    connection.edges.extend(
        events
            .iter()
            .map(|e| Edge::new(e.position.token(), Event::from(e))),
    );
    Ok(connection)
}

/// Aggregate `id`'s state as of `version` / `at`; `None` when nothing of it is that old.
async fn as_of<A: EventSourced>(
    ctx: &Context<'_>,
    id: &ID,
    version: Option<i64>,
    at: Option<String>,
) -> Result<Option<application::history::Past<A>>, async_graphql::Error> {
    caller_in(ctx, &HISTORY_READERS, "past states").await?;
    let id = uuid("id", id)?;
    let at = at
        .as_deref()
        .map(|t| parse_time("at", t))
        .transpose()
        .map_err(gql)?;
    let stream = application::repository::stream::<A>(&id.to_string());
    let events: Vec<RecordedEvent> = store(ctx)?
        .read_stream(&stream, 0)
        .await
        .map_err(|e| failed(&e))?;
    state_as_of::<A>(events, &AsOf { version, at }, &Upcasters::current())
        .map_err(|e| gql(ApiError::from(e)))
}

#[Object]
impl HistoryQuery {
    /// The event log in the global order (auditors, operators), filtered by stream,
    /// correlation id (one order's whole causal chain), time range (`from` inclusive, `to`
    /// exclusive, RFC 3339) and actor. Cursors are position tokens.
    #[allow(clippy::too_many_arguments)]
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        stream_type: Option<String>,
        stream_id: Option<String>,
        correlation_id: Option<String>,
        from: Option<String>,
        to: Option<String>,
        actor: Option<String>,
    ) -> Result<EventConnection, async_graphql::Error> {
        caller_in(ctx, &HISTORY_READERS, "the event history").await?;
        let first = page_size(first)?;
        let (after, filter) = Selection {
            after,
            stream_type,
            stream_id,
            correlation_id,
            from,
            to,
            actor,
        }
        .parse()
        .map_err(gql)?;
        connection(&store(ctx)?, after, &filter, first).await
    }

    /// One stream's events in version order (auditors, operators); null when it has none.
    async fn stream(
        &self,
        ctx: &Context<'_>,
        stream_type: String,
        stream_id: String,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<EventConnection>, async_graphql::Error> {
        caller_in(ctx, &HISTORY_READERS, "the event history").await?;
        let first = page_size(first)?;
        let stream = stream_ref(&stream_type, &stream_id).map_err(gql)?;
        let (after, filter) = Selection {
            after,
            stream_type: Some(stream.stream_type),
            stream_id: Some(stream.stream_id),
            ..Selection::default()
        }
        .parse()
        .map_err(gql)?;
        let connection = connection(&store(ctx)?, after, &filter, first).await?;
        let unknown = connection.edges.is_empty() && after == Position::START;
        Ok((!unknown).then_some(connection))
    }

    /// Walks the hash chains (of one stream, or of all) and reports what `domainflow
    /// verify` reports (auditors, operators).
    async fn integrity(
        &self,
        ctx: &Context<'_>,
        stream_type: Option<String>,
        stream_id: Option<String>,
    ) -> Result<IntegrityReport, async_graphql::Error> {
        caller_in(ctx, &HISTORY_READERS, "the log's integrity").await?;
        let stream = match (stream_type, stream_id) {
            (Some(t), Some(id)) => Some(stream_ref(&t, &id).map_err(gql)?),
            (None, None) => None,
            _ => {
                return Err(gql(ApiError::Validation(
                    "give both streamType and streamId, or neither".into(),
                )));
            }
        };
        store(ctx)?
            .verify(stream.as_ref())
            .await
            .map(IntegrityReport::from)
            .map_err(|e| failed(&e))
    }

    /// The order as it stood after `version` (or after its last event recorded at or
    /// before `at`, or both), folded from its events (auditors, operators); null when it
    /// did not exist then.
    async fn order_as_of(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: Option<i64>,
        at: Option<String>,
    ) -> Result<Option<OrderAsOf>, async_graphql::Error> {
        Ok(as_of::<OrderAggregate>(ctx, &id, version, at)
            .await?
            .map(OrderAsOf))
    }

    /// The ticket as it stood after `version` and/or at `at`, folded from its events
    /// (auditors, operators); null when it did not exist then.
    async fn ticket_as_of(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: Option<i64>,
        at: Option<String>,
    ) -> Result<Option<TicketAsOf>, async_graphql::Error> {
        Ok(as_of::<TicketAggregate>(ctx, &id, version, at)
            .await?
            .map(TicketAsOf))
    }
}
