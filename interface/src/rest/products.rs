//! `/api/products`: registering, repricing and restocking products.

use application::commands::{RegisterProduct, RepriceProduct};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::command::{IdempotencyKeyHeader, Validate, run};
use super::problems::CommandProblems;
use super::result::CommandResultBody;
use super::whole;
use crate::caller::Caller;
use crate::state::AppState;
use application::input::{
    MAX_STOCK_QUANTITY, check_currency, check_price, check_quantity, check_text,
};

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
    fn validate(&self) -> Result<(), application::Error> {
        application::queries::sku(&self.sku)?;
        check_text("name", &self.name, 200)?;
        check_quantity(
            "initialQuantity",
            self.initial_quantity.into(),
            0,
            MAX_STOCK_QUANTITY,
        )?;
        check_quantity(
            "lowStockThreshold",
            self.low_stock_threshold.into(),
            0,
            MAX_STOCK_QUANTITY,
        )?;
        check_price("price", &self.price)?;
        check_currency(&self.currency)
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
    fn validate(&self) -> Result<(), application::Error> {
        check_price("price", &self.price)?;
        self.currency.as_deref().map_or(Ok(()), check_currency)
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
    fn validate(&self) -> Result<(), application::Error> {
        check_quantity("quantity", self.quantity.into(), 1, MAX_STOCK_QUANTITY).map(|_| ())
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
pub async fn register_product(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let commands = state.commands.clone();
    let actor = caller.actor.clone();
    run(
        &state,
        &caller,
        &headers,
        "POST /api/products",
        body,
        |input: RegisterProductBody, meta| async move {
            let result = commands
                .register_product(
                    &actor,
                    RegisterProduct {
                        sku: input.sku,
                        name: input.name,
                        initial_quantity: input.initial_quantity,
                        low_stock_threshold: input.low_stock_threshold,
                        price: input.price,
                        currency: input.currency,
                    },
                    &meta,
                )
                .await?;
            Ok((StatusCode::CREATED, CommandResultBody::json(&result)))
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
pub async fn restock(
    State(state): State<AppState>,
    caller: Caller,
    Path(SkuPath { sku }): Path<SkuPath>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let commands = state.commands.clone();
    let actor = caller.actor.clone();
    let path = format!("POST /api/products/{sku}/restock");
    run(
        &state,
        &caller,
        &headers,
        &path,
        body,
        |input: RestockBody, meta| async move {
            application::queries::sku(&sku)?;
            let result = commands
                .restock(&actor, &sku, input.quantity, &meta)
                .await?;
            Ok((StatusCode::OK, CommandResultBody::json(&result)))
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
    State(state): State<AppState>,
    caller: Caller,
    Path(SkuPath { sku }): Path<SkuPath>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let commands = state.commands.clone();
    let actor = caller.actor.clone();
    let path = format!("POST /api/products/{sku}/price");
    run(
        &state,
        &caller,
        &headers,
        &path,
        body,
        |input: RepriceBody, meta| async move {
            application::queries::sku(&sku)?;
            let result = commands
                .reprice_product(
                    &actor,
                    RepriceProduct {
                        sku,
                        price: input.price,
                        currency: input.currency,
                    },
                    &meta,
                )
                .await?;
            Ok((StatusCode::OK, CommandResultBody::json(&result)))
        },
    )
    .await
}
