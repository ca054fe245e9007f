//! The authenticated caller of a request, and the command metadata it implies.

use application::Actor;
use application::event_log::CommandMetadata;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

/// The header naming the causal chain a request belongs to.
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// Who is calling, and under which correlation id.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The authenticated actor.
    pub actor: Actor,
    /// The causal chain: the client's `x-correlation-id` when it is a UUID, a new one else.
    pub correlation_id: Uuid,
}

impl Caller {
    /// Authenticates the request's `Authorization` or `X-Api-Key` header.
    ///
    /// # Errors
    /// [`ApiError::Unauthenticated`] when neither is present or valid;
    /// [`ApiError::RateLimited`] when the principal is over its rate limit.
    pub async fn from_headers(state: &AppState, headers: &HeaderMap) -> Result<Self, ApiError> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let principal = state
            .auth
            .authenticate(header("authorization"), header("x-api-key"))
            .await?;
        state.throttle.actor(&principal)?;
        let correlation_id = header(CORRELATION_HEADER)
            .and_then(|v| Uuid::parse_str(v).ok())
            .unwrap_or_else(Uuid::now_v7);
        Ok(Self {
            actor: principal,
            correlation_id,
        })
    }

    /// Metadata for a command: its id is derived from the caller and the idempotency key
    /// when there is one (so a retry is recognised by the event store itself), fresh else.
    #[must_use]
    pub fn metadata(&self, idempotency_key: Option<&str>) -> CommandMetadata {
        let command_id = idempotency_key.map_or_else(Uuid::now_v7, |key| {
            let digest = Sha256::new()
                .chain_update(self.actor.subject.as_bytes())
                .chain_update([0])
                .chain_update(key.as_bytes())
                .finalize();
            let mut bytes = [0_u8; 16];
            bytes.copy_from_slice(&digest[..16]);
            Uuid::new_v8(bytes)
        });
        CommandMetadata {
            command_id,
            correlation_id: self.correlation_id,
            causation_id: None,
            actor: self.actor.subject.clone(),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Self::from_headers(state, &parts.headers).await
    }
}
