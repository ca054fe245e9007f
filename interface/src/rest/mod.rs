//! The REST API under `/api`, its OpenAPI 3.1 document (generated from the handlers) and
//! the offline Swagger UI.

pub mod admin;
pub mod command;
mod customers;
pub mod dead_letters;
pub mod history;
mod orders;
mod problems;
mod products;
pub mod reads;
mod rebuild;
pub mod result;
mod tickets;
mod whole;

use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::state::AppState;

/// Every REST route, and the OpenAPI document describing them.
pub fn routes() -> (Router<AppState>, OpenApi) {
    let (router, mut api) = OpenApiRouter::new()
        .merge(products::router())
        .merge(orders::router())
        .merge(tickets::router())
        .merge(customers::router())
        .merge(reads::router())
        .merge(admin::router())
        .merge(dead_letters::router())
        .merge(history::router())
        .merge(rebuild::router())
        .split_for_parts();
    problems::add_limit_answers(&mut api);
    api.info.title = "domainflow".into();
    api.info.version = env!("CARGO_PKG_VERSION").into();
    api.info.description = Some(
        "Commands of the domainflow event-sourced server. Errors are \
         application/problem+json with a `code`; every POST honours `Idempotency-Key`."
            .into(),
    );
    let components = api.components.get_or_insert_with(Default::default);
    components.schemas.insert(
        "Problem".into(),
        <crate::error::Problem as utoipa::PartialSchema>::schema(),
    );
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    components.add_security_scheme(
        "apiKey",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
    );
    (router, api)
}

/// The OpenAPI document as served at `/api/openapi.json`, pretty-printed.
#[must_use]
pub fn openapi_json() -> String {
    let (_, api) = routes();
    // A document built from typed values always serialises.
    api.to_pretty_json().unwrap_or_default()
}

/// The REST routes plus `/api/openapi.json` and the Swagger UI at `/api/docs`.
pub fn router() -> Router<AppState> {
    let (routes, api) = routes();
    routes.merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", api))
}
