//! `/api/orders`: placing, cancelling and shipping orders.

use application::commands::{OrderLineInput, PlaceOrder};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::command::{CommandRequest, IdempotencyKeyHeader, Validate};
use super::problems::{CommandProblems, PlaceOrderProblems};
use super::result::CommandResultBody;
use super::whole;
use crate::state::AppState;

/// The order routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(place_order))
        .routes(routes!(cancel_order))
        .routes(routes!(ship_order))
}

/// One line of a new order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderLineBody {
    /// The product's SKU.
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub sku: String,
    /// How many units.
    #[schema(minimum = 1, maximum = 1_000_000)]
    #[serde(deserialize_with = "whole::u32")]
    pub quantity: u32,
    /// The unit price the client expects, a decimal string with at most the currency's
    /// decimals. Optional: the line is charged the product's catalog price, and a
    /// different price here is refused with 422 `PRICE_MISMATCH`. Required for a SKU
    /// that is not registered (404 without it; with it, the order is accepted and
    /// cancelled `OUT_OF_STOCK`).
    #[schema(
        example = "12.50",
        pattern = "^(?=[0-9.]*[1-9])[0-9]{1,15}(\\.[0-9]{1,2})?$"
    )]
    pub unit_price: Option<String>,
}

/// A new order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlaceOrderBody {
    /// Whose order. Customers may omit it (it is their token's subject); operators must
    /// give it.
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = "^[^\\s\\x00-\\x1F\\x7F-\\x9F]{1,128}$"
    )]
    pub customer_id: Option<String>,
    /// ISO 4217 code of every price: the currency the products are priced in.
    #[schema(example = "BRL", pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// What is bought: one line per SKU.
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Vec<OrderLineBody>,
    /// A payment method token: `tok_visa`, `tok_chargeDeclined`, `tok_timeout`,
    /// `tok_flaky` with the simulated provider.
    #[schema(
        min_length = 1,
        max_length = 128,
        example = "tok_visa",
        pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$"
    )]
    pub payment_token: String,
}

impl Validate for PlaceOrderBody {
    type Valid = PlaceOrder;

    fn validate(self) -> Result<PlaceOrder, application::Error> {
        let lines = self.lines.into_iter().map(|line| OrderLineInput {
            sku: line.sku,
            quantity: line.quantity,
            unit_price: line.unit_price,
        });
        PlaceOrder {
            customer_id: self.customer_id,
            currency: self.currency,
            lines: lines.collect(),
            payment_token: self.payment_token,
        }
        .check()
    }
}

/// Why an order is cancelled by its customer.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelOrderBody {
    /// The default and only reason a client may give; the others (`OUT_OF_STOCK`,
    /// `PAYMENT_DECLINED`, `PAYMENT_TIMEOUT`) belong to order fulfilment.
    pub reason: Option<ClientCancellationReason>,
}

/// The cancellation reasons a client may give.
#[derive(Debug, Deserialize, ToSchema)]
pub enum ClientCancellationReason {
    /// The customer asked.
    #[serde(rename = "CUSTOMER_REQUEST")]
    CustomerRequest,
}

impl Validate for CancelOrderBody {
    type Valid = Self;

    fn validate(self) -> Result<Self, application::Error> {
        // Deserialising already refused every reason but the customer's own.
        match self.reason {
            None | Some(ClientCancellationReason::CustomerRequest) => Ok(self),
        }
    }
}

/// A request without a body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyBody {}

impl Validate for EmptyBody {
    type Valid = Self;

    fn validate(self) -> Result<Self, application::Error> {
        Ok(self)
    }
}

/// Place an order (customer, operator). Fulfilment (stock, payment) follows
/// asynchronously, hence 202.
#[utoipa::path(
    post, path = "/api/orders", tag = "orders",
    request_body = PlaceOrderBody,
    params(IdempotencyKeyHeader),
    responses(
        (status = 202, description = "Placed; fulfilment under way", body = CommandResultBody),
        PlaceOrderProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn place_order(request: CommandRequest) -> Response {
    request
        .command::<PlaceOrderBody, _, _>(
            StatusCode::ACCEPTED,
            |commands, actor, order, meta| async move {
                commands.place_order(&actor, order, &meta).await
            },
        )
        .await
}

/// Cancel an order (its customer, operator). Compensation (release, refund) follows
/// asynchronously, hence 202.
#[utoipa::path(
    post, path = "/api/orders/{id}/cancel", tag = "orders",
    params(
        ("id" = Uuid, Path, description = "The order's id"),
        IdempotencyKeyHeader,
    ),
    request_body(content = Option<CancelOrderBody>),
    responses(
        (status = 202, description = "Cancelled; compensation under way", body = CommandResultBody),
        CommandProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn cancel_order(Path(id): Path<String>, request: CommandRequest) -> Response {
    request
        .command::<CancelOrderBody, _, _>(
            StatusCode::ACCEPTED,
            |commands, actor, _, meta| async move {
                commands
                    .cancel_order(&actor, parse_id(&id, "order")?, &meta)
                    .await
            },
        )
        .await
}

/// Ship a confirmed order (operator).
#[utoipa::path(
    post, path = "/api/orders/{id}/ship", tag = "orders",
    params(
        ("id" = Uuid, Path, description = "The order's id"),
        IdempotencyKeyHeader,
    ),
    request_body(content = Option<EmptyBody>),
    responses(
        (status = 200, description = "Shipped", body = CommandResultBody),
        CommandProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn ship_order(Path(id): Path<String>, request: CommandRequest) -> Response {
    request
        .command::<EmptyBody, _, _>(StatusCode::OK, |commands, actor, _, meta| async move {
            commands
                .ship_order(&actor, parse_id(&id, "order")?, &meta)
                .await
        })
        .await
}

/// The UUID of the `what` (`order`, `ticket`) a path names.
///
/// # Errors
/// [`application::Error::Validation`] when it is not one.
pub fn parse_id(raw: &str, what: &str) -> Result<Uuid, application::Error> {
    application::input::parse_uuid(&format!("{what} id"), raw)
}
