//! `Idempotency-Key`, the same for every POST on both transports: the first request with a
//! key runs; a repeat of the same request gets the first answer again; the same key with
//! another request is refused; a repeat while the first still runs waits for it, bounded.

use std::future::Future;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use infrastructure::Claim;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// The header carrying the client's idempotency key.
pub const HEADER: &str = "idempotency-key";
/// Set on a response that repeats the first answer to an idempotency key.
pub const REPLAYED: &str = "idempotency-replayed";

/// A stored or fresh answer.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// The JSON body.
    pub body: Value,
    /// Whether this repeats the first answer.
    pub replayed: bool,
}

/// The request's idempotency key, if it sent one.
///
/// # Errors
/// [`ApiError::Validation`] for a key that is not 1 to 255 visible ASCII characters.
pub fn key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .map(Some)
        .ok_or_else(|| {
            ApiError::Validation("Idempotency-Key must be 1 to 255 visible ASCII characters".into())
        })
}

/// Runs `run` once for `key` of `caller`: `request` (the method, path and body as sent)
/// tells a repeat from a different request. `run` answers `Ok` for an answer worth
/// repeating (it is stored), `Err` for a failure (the key is freed so a retry runs again).
///
/// # Errors
/// `run`'s error; [`ApiError::IdempotencyMismatch`] for another request under the same
/// key; [`ApiError::Conflict`] when the first request is still running after the wait;
/// [`ApiError::Internal`] when the key records cannot be read or written.
pub async fn once<E, F, Fut>(
    state: &AppState,
    caller: &Caller,
    key: &str,
    request: &[&[u8]],
    run: F,
) -> Result<Answer, E>
where
    E: From<ApiError>,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(StatusCode, Value), E>>,
{
    let subject = format!("{}:{}", caller.actor.role, caller.actor.subject);
    let hash = request
        .iter()
        .fold(Sha256::new(), |hash, part| {
            hash.chain_update(part).chain_update([0])
        })
        .finalize();
    let started = Instant::now();
    loop {
        match state
            .idempotency
            .claim(&subject, key, &hash)
            .await
            .map_err(internal)?
        {
            Claim::Owner => {
                return match run().await {
                    Ok((status, body)) => {
                        state
                            .idempotency
                            .complete(&subject, key, status.as_u16(), &body)
                            .await
                            .map_err(internal)?;
                        Ok(Answer {
                            status,
                            body,
                            replayed: false,
                        })
                    }
                    Err(error) => {
                        state
                            .idempotency
                            .release(&subject, key)
                            .await
                            .map_err(internal)?;
                        Err(error)
                    }
                };
            }
            Claim::Replay { status, body } => {
                return Ok(Answer {
                    status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
                    body,
                    replayed: true,
                });
            }
            Claim::Mismatch => return Err(ApiError::IdempotencyMismatch.into()),
            Claim::InProgress if started.elapsed() < state.limits.idempotency_wait => {
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
            Claim::InProgress => {
                return Err(ApiError::Conflict(
                    "a request with this Idempotency-Key is still running".into(),
                )
                .into());
            }
        }
    }
}

fn internal(error: infrastructure::Error) -> ApiError {
    error.into()
}
