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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use application::api_keys::ApiKeys;
    use application::auth::Authenticator;
    use application::{Actor, Role, Unauthenticated};
    use chrono::{Duration, Utc};
    use infrastructure::{JwtKeys, PgApiKeys};

    use crate::captured_logs::Lines;

    fn keys() -> JwtKeys {
        JwtKeys::new(&[42; 32]).unwrap()
    }

    /// An authenticator whose key store is never reached: the paths below need none.
    fn offline() -> Authenticator {
        let pool = sqlx::PgPool::connect_lazy("postgres://nobody@127.0.0.1:1/none").unwrap();
        Authenticator::new(
            Arc::new(keys()),
            ApiKeys::new(Arc::new(PgApiKeys::new(pool))),
        )
    }

    #[track_caller]
    fn assert_invalid(result: Result<Actor, application::Error>) {
        assert!(
            matches!(
                result,
                Err(application::Error::Unauthenticated(
                    Unauthenticated::Invalid(_)
                ))
            ),
            "{result:?}"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_credential_that_does_not_hold_is_logged_without_itself() {
        let (lines, _guard) = Lines::capture();
        let forged = JwtKeys::new(&[7; 32]).unwrap().sign(
            "mallory",
            Role::Operator,
            Duration::minutes(5),
            Utc::now(),
        );
        let expired = keys().sign(
            "alice",
            Role::Customer,
            Duration::minutes(5),
            Utc::now() - Duration::hours(1),
        );
        let key = "df_not-a-real-key";

        assert_invalid(
            offline()
                .authenticate(Some(&format!("Bearer {forged}")), None)
                .await,
        );
        assert!(
            offline()
                .authenticate(Some(&format!("Bearer {expired}")), None)
                .await
                .is_err()
        );
        assert_invalid(offline().authenticate(None, Some(key)).await);
        assert!(offline().authenticate(None, None).await.is_err());

        let logged = lines.text();
        assert_eq!(
            logged.matches("authentication failed").count(),
            3,
            "{logged}"
        );
        assert_eq!(
            logged.matches("credential=\"bearer token\"").count(),
            2,
            "{logged}"
        );
        assert!(logged.contains("credential=\"api key\""), "{logged}");
        assert!(logged.contains("expired credentials"), "{logged}");
        for secret in [forged.as_str(), expired.as_str(), key] {
            assert!(
                !logged.contains(secret),
                "a credential reached the log: {logged}"
            );
        }
    }
}
