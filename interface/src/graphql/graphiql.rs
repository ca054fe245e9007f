//! GraphiQL, served offline: the page at `GET /graphql` and its vendored assets (see
//! `interface/assets/graphiql/README.md`) at `GET /graphql/assets/{name}`, embedded in the
//! binary.

use std::sync::LazyLock;

use axum::response::Response;

use crate::embedded::{self, Asset, CSS, JS};

/// The assets' fingerprint: part of every asset URL, so the assets can be cached for long.
static ASSET_VERSION: LazyLock<String> = LazyLock::new(|| embedded::fingerprint(&ASSETS));

/// The page's policy: only this server's scripts, styles, fonts and API.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; \
    connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

static PAGE: LazyLock<String> = LazyLock::new(|| {
    include_str!("../../assets/graphiql/index.html").replace("{{version}}", &ASSET_VERSION)
});

/// Every file the page loads.
const ASSETS: [Asset; 6] = [
    Asset {
        name: "react.production.min.js",
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/react.production.min.js"),
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    },
    Asset {
        name: "graphiql.min.js",
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.js"),
    },
    Asset {
        name: "graphiql.min.css",
        content_type: CSS,
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.css"),
    },
    Asset {
        name: "domainflow-graphiql.js",
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/domainflow-graphiql.js"),
    },
    Asset {
        name: "domainflow-graphiql.css",
        content_type: CSS,
        bytes: include_bytes!("../../assets/graphiql/domainflow-graphiql.css"),
    },
];

/// The GraphiQL page.
#[must_use]
pub fn page() -> Response {
    embedded::page(&PAGE, CONTENT_SECURITY_POLICY)
}

/// `GET /graphql/assets/{name}`: an embedded asset, cached for a year (its URL carries
/// [`ASSET_VERSION`]); `None` for an unknown name.
#[must_use]
pub fn asset(name: &str) -> Option<Response> {
    embedded::asset(&ASSETS, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_embedded_assets_and_each_is_served() {
        embedded::assert_self_contained(&PAGE, &ASSETS, "/graphql/assets/", &ASSET_VERSION);
        assert!(asset("LICENSE-react").is_none());
    }
}
