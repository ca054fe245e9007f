//! Running a command request: parse and validate the JSON body, honour `Idempotency-Key`,
//! run the use case, answer with the command result.

use std::future::Future;
use std::time::Instant;

use application::event_log::CommandMetadata;
use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use infrastructure::Claim;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The header carrying the client's idempotency key.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on a response that repeats the first answer to an idempotency key.
pub const IDEMPOTENCY_REPLAYED: &str = "idempotency-replayed";

/// A request body that checks the limits the OpenAPI document states.
pub trait Validate {
    /// # Errors
    /// [`ApiError::Validation`] naming the first field out of bounds.
    fn validate(&self) -> Result<(), ApiError>;
}

/// Checks a text field's length in characters.
///
/// # Errors
/// [`ApiError::Validation`] when it is shorter than `min` or longer than `max`.
pub fn check_len(field: &str, value: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let length = value.chars().count();
    if length < min || length > max {
        return Err(ApiError::Validation(format!(
            "{field} must have between {min} and {max} characters, it has {length}"
        )));
    }
    Ok(())
}

/// Parses the JSON body (an empty body reads as `{}`), checks it, and runs `run` once per
/// idempotency key: a repeat of the same request gets the first answer again.
pub async fn run<T, F, Fut>(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    path: &str,
    body: Bytes,
    run: F,
) -> Response
where
    T: DeserializeOwned + Validate,
    F: FnOnce(T, CommandMetadata) -> Fut,
    Fut: Future<Output = Result<(StatusCode, Value), ApiError>>,
{
    match execute(state, caller, headers, path, body, run).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn execute<T, F, Fut>(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    path: &str,
    body: Bytes,
    run: F,
) -> Result<Response, ApiError>
where
    T: DeserializeOwned + Validate,
    F: FnOnce(T, CommandMetadata) -> Fut,
    Fut: Future<Output = Result<(StatusCode, Value), ApiError>>,
{
    let input: T = parse_body(headers, &body)?;
    input.validate()?;
    let Some(key) = idempotency_key(headers)? else {
        let (status, body) = run(input, caller.metadata(None)).await?;
        return Ok((status, Json(body)).into_response());
    };
    let subject = format!("{}:{}", caller.actor.role, caller.actor.subject);
    let hash = Sha256::new()
        .chain_update(path.as_bytes())
        .chain_update([0])
        .chain_update(&body)
        .finalize();
    let started = Instant::now();
    loop {
        match state.idempotency.claim(&subject, key, &hash).await.map_err(internal)? {
            Claim::Owner => {
                let outcome = run(input, caller.metadata(Some(key))).await;
                return match outcome {
                    Ok((status, body)) => {
                        state
                            .idempotency
                            .complete(&subject, key, status.as_u16(), &body)
                            .await
                            .map_err(internal)?;
                        Ok((status, Json(body)).into_response())
                    }
                    Err(error) => {
                        // A failed request leaves the key free: a retry runs again.
                        state.idempotency.release(&subject, key).await.map_err(internal)?;
                        Err(error)
                    }
                };
            }
            Claim::Replay { status, body } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                let mut response = (status, Json(body)).into_response();
                response
                    .headers_mut()
                    .insert(IDEMPOTENCY_REPLAYED, HeaderValue::from_static("true"));
                return Ok(response);
            }
            Claim::Mismatch => return Err(ApiError::IdempotencyMismatch),
            Claim::InProgress if started.elapsed() < state.limits.idempotency_wait => {
                tokio::time::sleep(std::time::Duration::from_millis(15)).await;
            }
            Claim::InProgress => {
                return Err(ApiError::Conflict(
                    "a request with this Idempotency-Key is still running".into(),
                ));
            }
        }
    }
}

fn internal(error: infrastructure::Error) -> ApiError {
    ApiError::Internal(error.to_string())
}

/// The JSON body as `T`; an empty body is `{}`.
///
/// # Errors
/// [`ApiError::Validation`] for a body that is not JSON of the expected shape.
pub fn parse_body<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return serde_json::from_slice(b"{}")
            .map_err(|_| ApiError::Validation("a JSON request body is required".into()));
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("application/json")
                || (v.starts_with("application/") && v.ends_with("+json"))
        });
    if !json {
        return Err(ApiError::Validation(
            "the request body must be JSON (Content-Type: application/json)".into(),
        ));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::Validation(format!("invalid body: {e}")))
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::Validation(
                "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
            )
        })?;
    Ok(Some(key))
}
