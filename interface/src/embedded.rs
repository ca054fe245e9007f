//! Pages and files embedded in the binary (GraphiQL, the dashboard): served offline, with a
//! content security policy per page, and each asset under a URL that carries the build's
//! version so it can be cached for a year.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Its name in the URL.
    pub name: &'static str,
    /// Its content type.
    pub content_type: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
}

/// The version of a page's assets: a digest of their bytes (FNV-1a, 64 bits, in hex), so
/// that their URLs change with their content and a year's caching never serves stale ones.
#[must_use]
pub fn fingerprint(assets: &[Asset]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for asset in assets {
        for byte in asset.name.as_bytes().iter().chain(asset.bytes) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// JavaScript's content type.
pub const JS: &str = "text/javascript; charset=utf-8";
/// CSS's content type.
pub const CSS: &str = "text/css; charset=utf-8";

/// An HTML page under `policy`, never cached without a check, never framed.
#[must_use]
pub fn page(html: &str, policy: &'static str) -> Response {
    let mut response = (StatusCode::OK, html.to_owned()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
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

/// The asset of `assets` named `name`, cached for a year (its URL carries the version);
/// `None` for an unknown name.
#[must_use]
pub fn asset(assets: &[Asset], name: &str) -> Option<Response> {
    let asset = assets.iter().find(|asset| asset.name == name)?;
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

/// The `src`/`href` values of `page` that point at this server (tests).
#[cfg(test)]
fn referenced(page: &str) -> Vec<String> {
    page.split(['"', '\''])
        .filter(|part| part.starts_with('/'))
        .map(str::to_owned)
        .collect()
}

/// Asserts that `page` loads exactly `assets`, each under `prefix` with `?v=version`, and
/// nothing from elsewhere; and that each is served and unknown names are not (tests).
#[cfg(test)]
#[allow(clippy::panic)] // A test's assertion.
pub fn assert_self_contained(page: &str, assets: &[Asset], prefix: &str, version: &str) {
    let references = referenced(page);
    assert_eq!(references.len(), assets.len(), "{references:?}");
    for reference in references {
        let (path, query) = reference.split_once('?').unwrap_or((&reference, ""));
        let name = path.strip_prefix(prefix).unwrap_or_default();
        assert!(
            assets.iter().any(|asset| asset.name == name),
            "{reference} is not embedded"
        );
        assert_eq!(query, format!("v={version}"));
    }
    assert!(!page.contains("http://") && !page.contains("https://"));
    for each in assets {
        let response = asset(assets, each.name).unwrap_or_else(|| panic!("{}", each.name));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], each.content_type);
        assert!(!each.bytes.is_empty());
    }
    assert!(asset(assets, "../Cargo.toml").is_none());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_follows_the_bytes() {
        let one = [Asset {
            name: "a.js",
            content_type: JS,
            bytes: b"let a = 1;",
        }];
        let two = [Asset {
            name: "a.js",
            content_type: JS,
            bytes: b"let a = 2;",
        }];
        assert_eq!(fingerprint(&one), fingerprint(&one));
        assert_ne!(fingerprint(&one), fingerprint(&two));
        assert_eq!(fingerprint(&one).len(), 16);
    }
}
