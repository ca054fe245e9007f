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

/// The header a client may label its request with, for its own tracing.
pub const CORRELATION_HEADER: &str = "x-correlation-id";
/// The longest `X-Correlation-Id` kept.
const MAX_CLIENT_CORRELATION_LEN: usize = 128;

/// Who is calling, and under which correlation id.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The authenticated actor.
    pub actor: Actor,
    /// The causal chain this request starts: always the server's own, new id (the one its
    /// access log line shows).
    pub correlation_id: Uuid,
    /// The client's `X-Correlation-Id`, kept beside the chain when it is 1 to 128 visible
    /// ASCII characters; never the chain itself, which a client could otherwise join.
    pub client_correlation_id: Option<String>,
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
        let client_correlation_id = header(CORRELATION_HEADER).and_then(client_label);
        Ok(Self {
            actor: principal,
            correlation_id: crate::request_id::correlation(),
            client_correlation_id,
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
            client_correlation_id: self.client_correlation_id.clone(),
        }
    }
}

/// The client's `X-Correlation-Id`, when it is 1 to 128 visible ASCII characters.
fn client_label(value: &str) -> Option<String> {
    ((1..=MAX_CLIENT_CORRELATION_LEN).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_graphic()))
    .then(|| value.to_owned())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Self::from_headers(state, &parts.headers).await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_client_label_is_kept_only_when_short_and_visible_ascii() {
        assert_eq!(super::client_label("req-42"), Some("req-42".to_owned()));
        assert_eq!(
            super::client_label(&"a".repeat(128)).map(|l| l.len()),
            Some(128)
        );
        for refused in ["", "has space", "tab\t", "é", &"a".repeat(129)] {
            assert_eq!(super::client_label(refused), None, "{refused:?}");
        }
    }

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
