//! The event history over REST, for auditors and operators, read from the log itself:
//! `GET /api/events` (a JSON page, or with `Accept: application/x-ndjson` the whole
//! selection streamed batch by batch) and `GET /api/streams/{streamType}/{streamId}/events`.

use std::collections::BTreeMap;

use application::audit::{Audit, Selection, stream_ref};
use application::event_log::{Position, ReadFilter};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::response::Response as ApiResponse;
use utoipa::{IntoParams, IntoResponses, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::caller::Caller;
use crate::error::ApiError;
use crate::history::{Event, write_line};
use crate::state::AppState;

/// The media type of the streamed answer: one JSON event per line.
pub const NDJSON: &str = "application/x-ndjson";

/// Events per JSON page when `limit` is not given.
const DEFAULT_LIMIT: i64 = 100;
/// The largest JSON page.
const MAX_LIMIT: i64 = 1000;

/// The history routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events))
        .routes(routes!(stream_events))
}

/// A page of events in the global order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventPage {
    /// The events, oldest first.
    pub events: Vec<Event>,
    /// Pass as `after` for the next page; null when this page reached the end of what the
    /// log holds now.
    pub next: Option<String>,
}

/// The filters of `GET /api/events`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only events after this position token (an event's `position`, or a page's `next`).
    #[param(pattern = "^[0-9a-fA-F]{16}[0-7][0-9a-fA-F]{15}$")]
    pub after: Option<String>,
    /// Events per JSON page (default 100); the NDJSON answer streams the whole selection.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Only this stream type.
    #[param(pattern = "^(order|stock|payment|ticket)$")]
    pub stream_type: Option<String>,
    /// Only this aggregate id.
    #[param(
        min_length = 1,
        max_length = 128,
        pattern = "^[^\\s\\x00-\\x1F\\x7F-\\x9F]{1,128}$"
    )]
    pub stream_id: Option<String>,
    /// Only the causal chain with this correlation id.
    #[param(value_type = Option<uuid::Uuid>)]
    pub correlation_id: Option<String>,
    /// Only events recorded at or after this instant.
    #[param(value_type = Option<chrono::DateTime<chrono::Utc>>)]
    pub from: Option<String>,
    /// Only events recorded before this instant.
    #[param(value_type = Option<chrono::DateTime<chrono::Utc>>)]
    pub to: Option<String>,
    /// Only events this actor caused.
    #[param(
        min_length = 1,
        max_length = 128,
        pattern = "^[^\\s\\x00-\\x1F\\x7F-\\x9F]{1,128}$"
    )]
    pub actor: Option<String>,
}

/// Paging through one stream.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Only events after this position token (a page's `next`).
    #[param(pattern = "^[0-9a-fA-F]{16}[0-7][0-9a-fA-F]{15}$")]
    pub after: Option<String>,
    /// Events per page (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// The problem+json answers of `GET /api/events`.
#[derive(Debug)]
pub struct HistoryProblems;

/// The problem+json answers of `GET /api/streams/{streamType}/{streamId}/events`.
#[derive(Debug)]
pub struct StreamProblems;

const ANSWERS: [(u16, &str); 3] = [
    (401, "UNAUTHENTICATED: no valid token or API key"),
    (
        403,
        "FORBIDDEN: only auditors and operators read the event history",
    ),
    (
        422,
        "VALIDATION: a malformed filter, position token, limit or stream",
    ),
];

const STREAM_ANSWERS: [(u16, &str); 4] = [
    ANSWERS[0],
    ANSWERS[1],
    (404, "NOT_FOUND: the stream has no events"),
    ANSWERS[2],
];

impl IntoResponses for HistoryProblems {
    fn responses() -> BTreeMap<String, RefOr<ApiResponse>> {
        super::problems::problem_responses(&ANSWERS)
    }
}

impl IntoResponses for StreamProblems {
    fn responses() -> BTreeMap<String, RefOr<ApiResponse>> {
        super::problems::problem_responses(&STREAM_ANSWERS)
    }
}

/// The query string as `T`; anything unreadable is a validation error, not a 400.
fn query<T: serde::de::DeserializeOwned>(uri: &Uri) -> Result<T, ApiError> {
    Query::<T>::try_from_uri(uri)
        .map(|Query(query)| query)
        .map_err(|e| ApiError::Validation(format!("invalid query: {}", e.body_text())))
}

fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::Validation(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )))
    }
}

/// Whether the client asked for NDJSON.
fn wants_ndjson(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            accept
                .split(',')
                .any(|range| range.split(';').next().is_some_and(|m| m.trim() == NDJSON))
        })
}

/// Up to `limit` events after `after` matching `filter`, as a page.
async fn page(
    state: &AppState,
    caller: &Caller,
    after: Position,
    filter: &ReadFilter,
    limit: i64,
) -> Result<EventPage, ApiError> {
    let events = state
        .audit
        .events(&caller.actor, after, filter, limit)
        .await?;
    let full = i64::try_from(events.len()).is_ok_and(|n| n >= limit);
    let next = events.last().filter(|_| full).map(|e| e.position.token());
    Ok(EventPage {
        events: events.iter().map(Event::from).collect(),
        next,
    })
}

/// The whole selection as NDJSON, streamed batch by batch from the log.
fn ndjson(
    audit: &Audit,
    caller: &Caller,
    after: Position,
    filter: ReadFilter,
) -> Result<Response, ApiError> {
    let lines = audit.stream(&caller.actor, after, filter)?.map_ok(|batch| {
        let mut chunk = Vec::with_capacity(batch.len() * 512);
        for event in &batch {
            write_line(event, &mut chunk);
        }
        Bytes::from(chunk)
    });
    let lines = lines.inspect_err(|error| {
        // The status is sent already: the body ends early, and the cause is logged.
        tracing::error!(%error, "streaming the event history failed");
    });
    let mut response = Body::from_stream(lines).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(NDJSON));
    Ok(response)
}

/// The event log in the global order (auditors, operators), filtered: a JSON page, or with
/// `Accept: application/x-ndjson` every matching event after `after`, one JSON object per
/// line, streamed without holding the selection in memory.
#[utoipa::path(
    get, path = "/api/events", tag = "history",
    params(EventsQuery),
    responses(
        (status = 200, description = "A page of events (JSON), or the whole selection (NDJSON, \
          one event per line, with `Accept: application/x-ndjson`)",
         content((EventPage = "application/json"), (Event = "application/x-ndjson"))),
        HistoryProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    Audit::may_read(&caller.actor)?;
    let params: EventsQuery = query(&uri)?;
    let limit = page_limit(params.limit)?;
    let (after, filter) = Selection {
        after: params.after,
        stream_type: params.stream_type,
        stream_id: params.stream_id,
        correlation_id: params.correlation_id,
        from: params.from,
        to: params.to,
        actor: params.actor,
    }
    .parse()?;
    if wants_ndjson(&headers) {
        return ndjson(&state.audit, &caller, after, filter);
    }
    Ok(Json(page(&state, &caller, after, &filter, limit).await?).into_response())
}

/// One stream's events in version order (auditors, operators); 404 when it has none.
#[utoipa::path(
    get, path = "/api/streams/{streamType}/{streamId}/events", tag = "history",
    params(
        ("streamType" = String, Path, description = "order, stock, payment or ticket",
         pattern = "^(order|stock|payment|ticket)$"),
        ("streamId" = String, Path, description = "The aggregate id",
         min_length = 1, max_length = 128, pattern = "^[^\\s\\x00-\\x1F\\x7F-\\x9F]{1,128}$"),
        StreamQuery,
    ),
    responses(
        (status = 200, description = "A page of the stream's events", body = EventPage),
        StreamProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn stream_events(
    State(state): State<AppState>,
    caller: Caller,
    Path((stream_type, stream_id)): Path<(String, String)>,
    uri: Uri,
) -> Result<Json<EventPage>, ApiError> {
    Audit::may_read(&caller.actor)?;
    let stream = stream_ref(&stream_type, &stream_id)?;
    let params: StreamQuery = query(&uri)?;
    let limit = page_limit(params.limit)?;
    let (after, filter) = Selection {
        after: params.after,
        stream_type: Some(stream.stream_type.clone()),
        stream_id: Some(stream.stream_id.clone()),
        ..Selection::default()
    }
    .parse()?;
    // Within a stream the global order is the version order: each append saw the one before
    // it committed.
    let page = page(&state, &caller, after, &filter, limit).await?;
    if page.events.is_empty() && after == Position::START {
        return Err(ApiError::NotFound(format!("stream {stream} has no events")));
    }
    Ok(Json(page))
}
