//! GraphiQL, served offline: the page at `GET /graphql` and its vendored assets (see
//! `interface/assets/graphiql/README.md`) at `GET /graphql/assets/{name}`, embedded in the
//! binary.

use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Changes whenever the page or the assets may change: part of every asset URL, so the
/// assets can be cached for long.
const ASSET_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "-graphiql-3.9.0");

/// The page's policy: only this server's scripts, styles, fonts and API.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; \
    connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

static PAGE: LazyLock<String> = LazyLock::new(|| {
    include_str!("../../assets/graphiql/index.html").replace("{{version}}", ASSET_VERSION)
});

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

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
    let mut response = (StatusCode::OK, PAGE.as_str()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// `GET /graphql/assets/{name}`: an embedded asset, cached for a year (its URL carries
/// [`ASSET_VERSION`]); `None` for an unknown name.
#[must_use]
pub fn asset(name: &str) -> Option<Response> {
    let asset = ASSETS.iter().find(|asset| asset.name == name)?;
    let mut response = (StatusCode::OK, asset.bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `src`/`href` values of the page that point at this server.
    fn referenced(page: &str) -> Vec<String> {
        page.split(['"', '\''])
            .filter(|part| part.starts_with('/'))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_page_loads_only_embedded_assets() {
        let references = referenced(&PAGE);
        assert_eq!(references.len(), ASSETS.len());
        for reference in references {
            let (path, query) = reference.split_once('?').unwrap_or((&reference, ""));
            let name = path.strip_prefix("/graphql/assets/").unwrap_or_default();
            assert!(
                ASSETS.iter().any(|asset| asset.name == name),
                "{reference} is not embedded"
            );
            assert_eq!(query, format!("v={ASSET_VERSION}"));
        }
        assert!(!PAGE.contains("http://") && !PAGE.contains("https://"));
    }

    #[test]
    fn every_asset_is_served_and_unknown_names_are_not() {
        for asset in &ASSETS {
            let response = super::asset(asset.name).unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()[header::CONTENT_TYPE], asset.content_type);
            assert!(!asset.bytes.is_empty());
        }
        assert!(super::asset("LICENSE-react").is_none());
        assert!(super::asset("../Cargo.toml").is_none());
    }
}
