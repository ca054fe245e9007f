//! The audit queries (auditors and operators; every other role is `FORBIDDEN`), answered
//! from the event log itself: `events` and `stream` (Relay connections whose cursors are
//! position tokens), `integrity` (the hash-chain report of `domainflow verify`), and
//! `orderAsOf` / `ticketAsOf` (the aggregate folded up to a version or an instant).

use application::audit::{Audit, Selection, parse_time, stream_ref};
use application::event_log::{Position, ReadFilter};
use application::history::AsOf;
use application::{EventSourced, OrderAggregate, TicketAggregate};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object};

use super::as_of::{OrderAsOf, TicketAsOf};
use super::context::caller;
use super::context::state;
use super::integrity::IntegrityReport;
use super::reads::{page_size, uuid};
use crate::caller::Caller;
use crate::error::ApiError;
use crate::history::Event;

/// The audit queries.
#[derive(Debug, Default, Clone, Copy)]
pub struct HistoryQuery;

type EventConnection = Connection<String, Event>;

fn gql(error: impl Into<ApiError>) -> async_graphql::Error {
    error.into().to_graphql()
}

/// The caller, refused unless it reads the history.
async fn reader(ctx: &Context<'_>) -> Result<Caller, async_graphql::Error> {
    let caller = caller(ctx).await?;
    Audit::may_read(&caller.actor).map_err(gql)?;
    Ok(caller)
}

/// Up to `first` events after `after` matching `filter`, as a connection.
async fn connection(
    ctx: &Context<'_>,
    caller: &Caller,
    after: Position,
    filter: &ReadFilter,
    first: usize,
) -> Result<EventConnection, async_graphql::Error> {
    let limit = i64::try_from(first).unwrap_or(i64::MAX).saturating_add(1);
    let mut events = state(ctx)?
        .audit
        .events(&caller.actor, after, filter, limit)
        .await
        .map_err(gql)?;
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
    let caller = reader(ctx).await?;
    let id = uuid("id", id)?;
    let at = at
        .as_deref()
        .map(|t| parse_time("at", t))
        .transpose()
        .map_err(gql)?;
    state(ctx)?
        .audit
        .as_of::<A>(&caller.actor, &id.to_string(), &AsOf { version, at })
        .await
        .map_err(gql)
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
        let caller = reader(ctx).await?;
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
        connection(ctx, &caller, after, &filter, first).await
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
        let caller = reader(ctx).await?;
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
        let connection = connection(ctx, &caller, after, &filter, first).await?;
        let unknown = connection.edges.is_empty() && after == Position::START;
        Ok((!unknown).then_some(connection))
    }

    /// Walks the hash chains (of one stream, or of all) and reports what `domainflow
    /// verify` reports (auditors, operators). It costs 400 of a request's complexity
    /// budget of 500: one per request.
    #[graphql(complexity = 400)]
    async fn integrity(
        &self,
        ctx: &Context<'_>,
        stream_type: Option<String>,
        stream_id: Option<String>,
    ) -> Result<IntegrityReport, async_graphql::Error> {
        let caller = reader(ctx).await?;
        let stream = match (stream_type, stream_id) {
            (Some(t), Some(id)) => Some(stream_ref(&t, &id).map_err(gql)?),
            (None, None) => None,
            _ => {
                return Err(gql(ApiError::Validation(
                    "give both streamType and streamId, or neither".into(),
                )));
            }
        };
        state(ctx)?
            .audit
            .verify(&caller.actor, stream.as_ref())
            .await
            .map(IntegrityReport::from)
            .map_err(gql)
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
