//! The read-model types of the GraphQL queries (`Order`, `Ticket`, `Product`, `Payment`),
//! the payment [`DataLoader`] behind `Order.payment`, and the helpers the query root
//! shares: paging arguments, `consistentWith` and authorization.

mod orders;
mod products;
mod tickets;

use application::input::parse_position;
use application::queries::{MAX_PAGE, Queries};
use async_graphql::{Context, ID};
use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;

pub use orders::{Order, OrderLine, OrderStatus, Payment, PaymentLoader, payment_loader};
pub use products::Product;
pub use tickets::{Ticket, TicketStatus};

/// The page size when `first` is not given.
pub const DEFAULT_FIRST: i32 = 20;

pub(super) fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// `first`, checked: 0 to 100, 20 when absent.
///
/// # Errors
/// `VALIDATION` outside 0..=100.
pub fn page_size(first: Option<i32>) -> Result<usize, async_graphql::Error> {
    let first = first.unwrap_or(DEFAULT_FIRST);
    usize::try_from(first)
        .ok()
        .filter(|f| *f <= MAX_PAGE)
        .ok_or_else(|| {
            ApiError::Validation(format!("first must be between 0 and {MAX_PAGE}")).to_graphql()
        })
}

/// A malformed `after`.
#[must_use]
pub fn bad_cursor() -> async_graphql::Error {
    ApiError::Validation("after is not a cursor of this list".into()).to_graphql()
}

/// Waits for `projections` to apply `consistent_with`, when given.
///
/// # Errors
/// `VALIDATION` for a malformed token, `STALE` on time-out, `INTERNAL`.
pub async fn wait(
    state: &AppState,
    projections: &[&str],
    consistent_with: Option<&str>,
) -> Result<(), async_graphql::Error> {
    let position = consistent_with
        .map(|token| parse_position("consistentWith", token))
        .transpose()
        .map_err(graphql_error)?;
    state
        .queries
        .wait(projections, position)
        .await
        .map_err(graphql_error)
}

/// A UUID argument.
///
/// # Errors
/// `VALIDATION` when it is not one.
pub fn uuid(name: &str, id: &ID) -> Result<Uuid, async_graphql::Error> {
    application::input::parse_uuid(name, id).map_err(graphql_error)
}

/// The caller, refused unless its role reads `what` (orders, tickets, payments).
///
/// # Errors
/// `UNAUTHENTICATED`; `FORBIDDEN` for auditors.
pub async fn reader(ctx: &Context<'_>, what: &str) -> Result<Caller, async_graphql::Error> {
    let caller = super::context::caller(ctx).await?;
    Queries::may_read(&caller.actor, what).map_err(graphql_error)?;
    Ok(caller)
}

/// A read that failed, as its GraphQL error.
#[must_use]
pub fn graphql_error(e: application::Error) -> async_graphql::Error {
    ApiError::from(e).to_graphql()
}
