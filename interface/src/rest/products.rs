//! `/api/products`: registering, repricing and restocking products.

use application::commands::{RegisterProduct, RepriceProduct, limits};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::command::{CommandRequest, IdempotencyKeyHeader, Validate};
use super::problems::CommandProblems;
use super::result::CommandResultBody;
use super::whole;
use crate::state::AppState;

/// The product routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_product))
        .routes(routes!(restock))
        .routes(routes!(reprice_product))
}

/// A new product.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterProductBody {
    /// ASCII letters, digits, `-`, `_` and `.`.
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub sku: String,
    /// The product's name.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*$"
    )]
    pub name: String,
    /// Units on hand from the start.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    #[serde(default, deserialize_with = "whole::u32")]
    pub initial_quantity: u32,
    /// Available stock below this raises a low-stock alert.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    #[serde(default, deserialize_with = "whole::u32")]
    pub low_stock_threshold: u32,
    /// What one unit costs: a positive decimal string with at most the currency's
    /// decimals. Orders are charged this price.
    #[schema(
        example = "12.50",
        pattern = "^(?=[0-9.]*[1-9])[0-9]{1,15}(\\.[0-9]{1,2})?$"
    )]
    pub price: String,
    /// ISO 4217 code of the price.
    #[schema(example = "BRL", pattern = "^[A-Z]{3}$")]
    pub currency: String,
}

impl Validate for RegisterProductBody {
    type Valid = RegisterProduct;

    fn validate(self) -> Result<RegisterProduct, application::Error> {
        RegisterProduct {
            sku: self.sku,
            name: self.name,
            initial_quantity: self.initial_quantity,
            low_stock_threshold: self.low_stock_threshold,
            price: self.price,
            currency: self.currency,
        }
        .check()
    }
}

/// A product's new price.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepriceBody {
    /// What one unit costs from now on: a positive decimal string with at most the
    /// currency's decimals.
    #[schema(
        example = "14.90",
        pattern = "^(?=[0-9.]*[1-9])[0-9]{1,15}(\\.[0-9]{1,2})?$"
    )]
    pub price: String,
    /// ISO 4217 code of the price. Optional: the product's current currency; required
    /// for a product that has no price yet.
    #[schema(example = "BRL", pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
}

impl Validate for RepriceBody {
    type Valid = Self;

    fn validate(self) -> Result<Self, application::Error> {
        RepriceProduct::check_price(&self.price, self.currency.as_deref())?;
        Ok(self)
    }
}

/// The product in the path.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SkuPath {
    /// The product's SKU.
    #[param(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub sku: String,
}

/// Units arriving.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestockBody {
    /// How many.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    #[serde(deserialize_with = "whole::u32")]
    pub quantity: u32,
}

impl Validate for RestockBody {
    type Valid = u32;

    fn validate(self) -> Result<u32, application::Error> {
        limits::restock_quantity(self.quantity)
    }
}

/// Register a product (operator).
#[utoipa::path(
    post, path = "/api/products", tag = "products",
    request_body = RegisterProductBody,
    params(IdempotencyKeyHeader),
    responses(
        (status = 201, description = "Registered", body = CommandResultBody),
        CommandProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn register_product(request: CommandRequest) -> Response {
    request
        .command::<RegisterProductBody, _, _>(
            StatusCode::CREATED,
            |commands, actor, product, meta| async move {
                commands.register_product(&actor, product, &meta).await
            },
        )
        .await
}

/// Restock a product (operator).
#[utoipa::path(
    post, path = "/api/products/{sku}/restock", tag = "products",
    params(SkuPath, IdempotencyKeyHeader),
    request_body = RestockBody,
    responses(
        (status = 200, description = "Restocked", body = CommandResultBody),
        CommandProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn restock(Path(SkuPath { sku }): Path<SkuPath>, request: CommandRequest) -> Response {
    request
        .command::<RestockBody, _, _>(
            StatusCode::OK,
            |commands, actor, quantity, meta| async move {
                application::queries::sku(&sku)?;
                commands.restock(&actor, &sku, quantity, &meta).await
            },
        )
        .await
}

/// Change a product's price (operator). Orders placed from then on are charged it; orders
/// already placed keep theirs.
#[utoipa::path(
    post, path = "/api/products/{sku}/price", tag = "products",
    params(SkuPath, IdempotencyKeyHeader),
    request_body = RepriceBody,
    responses(
        (status = 200, description = "Repriced", body = CommandResultBody),
        CommandProblems,
    ),
    security(("bearer" = []), ("apiKey" = []))
)]
pub async fn reprice_product(
    Path(SkuPath { sku }): Path<SkuPath>,
    request: CommandRequest,
) -> Response {
    request
        .command::<RepriceBody, _, _>(StatusCode::OK, |commands, actor, input, meta| async move {
            application::queries::sku(&sku)?;
            let price = RepriceProduct {
                sku,
                price: input.price,
                currency: input.currency,
            };
            commands.reprice_product(&actor, price, &meta).await
        })
        .await
}
