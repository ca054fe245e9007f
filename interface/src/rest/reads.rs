//! The read side over REST: `GET /api/products/{sku}`, `GET /api/orders/{id}` and
//! `GET /api/tickets/{id}`, each honouring `X-Consistent-With`.

use std::collections::BTreeMap;

use application::event_log::Position;
use application::input::parse_position;
use application::queries::{OrderView, ProductView, TicketView};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use utoipa::openapi::RefOr;
use utoipa::openapi::response::Response;
use utoipa::{IntoParams, IntoResponses};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::orders::parse_id;
use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The header asking a read to wait for a command's position.
pub const CONSISTENT_WITH: &str = "x-consistent-with";

/// The read routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_product))
        .routes(routes!(get_order))
        .routes(routes!(get_ticket))
}

/// The `X-Consistent-With` header.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct ConsistentWithHeader {
    /// A command result's `position`: the read waits (at most 5 s) until its read model
    /// has applied it, else answers 503 STALE.
    #[param(
        rename = "X-Consistent-With",
        value_type = String,
        required = false,
        pattern = "^[0-9a-fA-F]{16}[0-7][0-9a-fA-F]{15}$"
    )]
    pub consistent_with: Option<String>,
}

/// The problem+json answers of a read endpoint.
#[derive(Debug)]
pub struct ReadProblems;

const ANSWERS: [(u16, &str); 5] = [
    (401, "UNAUTHENTICATED: no valid token or API key"),
    (403, "FORBIDDEN: the caller's role does not allow it"),
    (
        404,
        "NOT_FOUND: no such order, ticket or product (or not the caller's)",
    ),
    (
        422,
        "VALIDATION: a malformed id, SKU or X-Consistent-With token",
    ),
    (
        503,
        "STALE: the read model did not reach X-Consistent-With in time",
    ),
];

impl IntoResponses for ReadProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        super::problems::problem_responses(&ANSWERS)
    }
}

/// The position in `headers`' `X-Consistent-With`, if any.
///
/// # Errors
/// [`ApiError::Validation`] for a malformed token.
pub fn consistent_with(headers: &HeaderMap) -> Result<Option<Position>, ApiError> {
    let Some(value) = headers.get(CONSISTENT_WITH) else {
        return Ok(None);
    };
    value
        .to_str()
        .map_err(|_| ApiError::Validation("X-Consistent-With is not a position token".into()))
        .and_then(|token| Ok(parse_position("X-Consistent-With", token)?))
        .map(Some)
}

/// Waits for `projections` to apply `position`, when given.
///
/// # Errors
/// [`ApiError::Stale`] on time-out.
pub async fn wait(
    state: &AppState,
    projections: &[&str],
    position: Option<Position>,
) -> Result<(), ApiError> {
    Ok(state.queries.wait(projections, position).await?)
}

/// A product's stock levels (any authenticated caller).
#[utoipa::path(
    get, path = "/api/products/{sku}", tag = "products",
    params(
        ("sku" = String, Path, description = "The product's SKU",
         pattern = "^[A-Za-z0-9._-]{1,64}$", min_length = 1, max_length = 64),
        ConsistentWithHeader,
    ),
    responses(
        (status = 200, description = "The product", body = ProductView),
        ReadProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn get_product(
    State(state): State<AppState>,
    _caller: Caller,
    Path(sku): Path<String>,
    headers: HeaderMap,
) -> Result<Json<ProductView>, ApiError> {
    let sku = application::queries::sku(&sku)?;
    let position = consistent_with(&headers)?;
    wait(&state, &["products"], position).await?;
    state
        .queries
        .product(&sku)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("product {sku} not found")))
}

/// An order (its customer, agents, operators). Another customer's order is answered 404.
#[utoipa::path(
    get, path = "/api/orders/{id}", tag = "orders",
    params(
        ("id" = uuid::Uuid, Path, description = "The order's id"),
        ConsistentWithHeader,
    ),
    responses(
        (status = 200, description = "The order", body = OrderView),
        ReadProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<OrderView>, ApiError> {
    application::queries::Queries::may_read(&caller.actor, "orders")?;
    let id = parse_id(&id, "order")?;
    let position = consistent_with(&headers)?;
    wait(&state, &["orders"], position).await?;
    let order = state.queries.order(&caller.actor, id).await?;
    order
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("order {id} not found")))
}

/// A ticket with its messages (its customer, agents, operators). Another customer's
/// ticket is answered 404.
#[utoipa::path(
    get, path = "/api/tickets/{id}", tag = "tickets",
    params(
        ("id" = uuid::Uuid, Path, description = "The ticket's id"),
        ConsistentWithHeader,
    ),
    responses(
        (status = 200, description = "The ticket", body = TicketView),
        ReadProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn get_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<TicketView>, ApiError> {
    application::queries::Queries::may_read(&caller.actor, "tickets")?;
    let id = parse_id(&id, "ticket")?;
    let position = consistent_with(&headers)?;
    wait(&state, &["tickets"], position).await?;
    let ticket = state.queries.ticket(&caller.actor, id).await?;
    ticket
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("ticket {id} not found")))
}
