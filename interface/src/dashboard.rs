//! The operators' dashboard at `GET /dashboard`: one page and its script and style, embedded
//! in the binary (nothing from elsewhere). It signs in with a bearer token and reads through
//! the API like any client, with the same authorization: operators and auditors; auditors
//! get no buttons. See `interface/assets/dashboard/`.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::embedded::{self, Asset, CSS, JS};
use crate::error::ApiError;
use crate::state::AppState;

/// The assets' fingerprint: part of every asset URL.
static ASSET_VERSION: LazyLock<String> = LazyLock::new(|| embedded::fingerprint(&ASSETS));

/// The page's policy: only this server's script, style and API (its WebSocket included).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

static PAGE: LazyLock<String> = LazyLock::new(|| {
    include_str!("../assets/dashboard/index.html").replace("{{version}}", &ASSET_VERSION)
});

/// Every file the page loads.
const ASSETS: [Asset; 2] = [
    Asset {
        name: "dashboard.js",
        content_type: JS,
        bytes: include_bytes!("../assets/dashboard/dashboard.js"),
    },
    Asset {
        name: "dashboard.css",
        content_type: CSS,
        bytes: include_bytes!("../assets/dashboard/dashboard.css"),
    },
];

/// `GET /dashboard` and `GET /dashboard/assets/{name}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(page))
        .route("/dashboard/assets/{name}", get(asset))
}

async fn page() -> Response {
    embedded::page(&PAGE, CONTENT_SECURITY_POLICY)
}

async fn asset(Path(name): Path<String>) -> Response {
    embedded::asset(&ASSETS, &name)
        .unwrap_or_else(|| ApiError::NotFound(format!("no dashboard asset {name}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_embedded_assets_and_each_is_served() {
        embedded::assert_self_contained(&PAGE, &ASSETS, "/dashboard/assets/", &ASSET_VERSION);
    }
}
