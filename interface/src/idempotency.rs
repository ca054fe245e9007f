//! `Idempotency-Key` on HTTP: the header, and the response header marking a repeated
//! answer. What a key does is `application::idempotency`'s.

use application::idempotency::Idempotency;
use axum::http::HeaderMap;

use crate::error::ApiError;

/// The header carrying the client's idempotency key.
pub const HEADER: &str = "idempotency-key";
/// Set on a response that repeats the first answer to an idempotency key.
pub const REPLAYED: &str = "idempotency-replayed";

/// The request's idempotency key, if it sent one.
///
/// # Errors
/// [`ApiError::Validation`] for a key that is not 1 to 255 visible ASCII characters.
pub fn key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    headers
        .get(HEADER)
        .map(|value| Idempotency::key(value.as_bytes()))
        .transpose()
        .map_err(ApiError::from)
}
