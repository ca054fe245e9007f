//! Who is calling: bearer tokens ([`JwtKeys`]), API keys ([`api_keys`]) and the one
//! [`Authenticator`] that reads either from a request.

pub mod api_keys;
mod error;
mod jwt;
mod secret;

use chrono::Utc;
use sqlx::PgPool;
use uuid::Uuid;

/// Who is calling, once authenticated: the application's actor.
pub use application::Actor as Principal;
pub use application::Role;
pub use error::AuthError;
pub use jwt::{JwtKeys, MIN_SECRET_LEN};
pub use secret::load_or_create_secret;

/// Authenticates requests by bearer token or API key.
#[derive(Debug, Clone)]
pub struct Authenticator {
    jwt: JwtKeys,
    pool: PgPool,
}

impl Authenticator {
    /// Checks tokens with `jwt` and API keys against the `api_keys` table in `pool`.
    #[must_use]
    pub fn new(jwt: JwtKeys, pool: PgPool) -> Self {
        Self { jwt, pool }
    }

    /// Who sent a request with these `Authorization` and `X-Api-Key` header values.
    ///
    /// # Errors
    /// [`AuthError::Missing`] when neither is given; [`AuthError::Invalid`] when both are,
    /// when `Authorization` is not `Bearer <token>`, or the credential is not good;
    /// [`AuthError::Expired`] for an expired token; [`AuthError::Database`] when API keys
    /// cannot be looked up.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        api_key: Option<&str>,
    ) -> Result<Principal, AuthError> {
        match (authorization, api_key) {
            (None, None) => Err(AuthError::Missing),
            // Two credentials could name two callers; picking one silently would hide that.
            (Some(_), Some(_)) => Err(AuthError::Invalid(
                "send a bearer token or an API key, not both",
            )),
            (Some(authorization), None) => {
                self.jwt.verify(bearer_token(authorization)?, Utc::now())
            }
            (None, Some(key)) => api_keys::authenticate(&self.pool, key.trim()).await,
        }
    }
}

/// The token in `Bearer <token>`; the scheme is case-insensitive (RFC 7235).
fn bearer_token(authorization: &str) -> Result<&str, AuthError> {
    let (scheme, token) = authorization
        .trim()
        .split_once(' ')
        .ok_or(AuthError::Invalid(
            "expected `Authorization: Bearer <token>`",
        ))?;
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return Err(AuthError::Invalid("unsupported authorization scheme"));
    }
    match token.trim() {
        "" => Err(AuthError::Invalid(
            "expected `Authorization: Bearer <token>`",
        )),
        token => Ok(token),
    }
}

/// `len` bytes from the operating system's CSPRNG, by way of v4 UUIDs: 122 random bits in
/// every 16 bytes (the other 6 are fixed version and variant bits).
fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(len + 16);
    while bytes.len() < len {
        bytes.extend_from_slice(Uuid::new_v4().as_bytes());
    }
    bytes.truncate(len);
    bytes
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(&[42; 32]).unwrap()
    }

    /// An authenticator whose database is never reached: for paths that must not need it.
    fn offline() -> Authenticator {
        let pool = PgPool::connect_lazy("postgres://nobody@127.0.0.1:1/none").unwrap();
        Authenticator::new(keys(), pool)
    }

    #[track_caller]
    fn assert_invalid(result: Result<Principal, AuthError>) {
        assert!(matches!(result, Err(AuthError::Invalid(_))), "{result:?}");
    }

    #[tokio::test]
    async fn a_bearer_token_authenticates() {
        let token = keys().sign("alice", Role::Customer, Duration::minutes(5), Utc::now());
        for header in [format!("Bearer {token}"), format!("bearer  {token} ")] {
            let principal = offline().authenticate(Some(&header), None).await.unwrap();
            assert_eq!(principal.subject, "alice");
            assert_eq!(principal.role, Role::Customer);
        }
    }

    #[tokio::test]
    async fn no_credentials_are_missing() {
        assert!(matches!(
            offline().authenticate(None, None).await,
            Err(AuthError::Missing)
        ));
    }

    #[tokio::test]
    async fn other_schemes_and_bare_tokens_are_invalid() {
        let token = keys().sign("alice", Role::Customer, Duration::minutes(5), Utc::now());
        for header in [
            format!("Basic {token}"),
            format!("Token {token}"),
            token.clone(),
            "Bearer".to_owned(),
            "Bearer ".to_owned(),
            String::new(),
        ] {
            assert_invalid(offline().authenticate(Some(&header), None).await);
        }
    }

    #[tokio::test]
    async fn a_bearer_token_and_an_api_key_together_are_invalid() {
        let token = keys().sign("alice", Role::Customer, Duration::minutes(5), Utc::now());
        let header = format!("Bearer {token}");
        assert_invalid(offline().authenticate(Some(&header), Some("df_x")).await);
    }

    #[tokio::test]
    async fn an_expired_bearer_token_is_expired() {
        let issued = Utc::now() - Duration::hours(1);
        let token = keys().sign("alice", Role::Customer, Duration::minutes(5), issued);
        let header = format!("Bearer {token}");
        assert!(matches!(
            offline().authenticate(Some(&header), None).await,
            Err(AuthError::Expired)
        ));
    }

    #[tokio::test]
    async fn an_api_key_authenticates() {
        let db = ::tests::test_database().await;
        let key = api_keys::create(&db.pool, "ci", Role::Auditor)
            .await
            .unwrap();
        let auth = Authenticator::new(keys(), db.pool.clone());
        let principal = auth.authenticate(None, Some(&key)).await.unwrap();
        assert_eq!(
            principal,
            Principal {
                subject: "ci".into(),
                role: Role::Auditor
            }
        );
        assert_invalid(auth.authenticate(None, Some("df_nope")).await);
    }

    #[test]
    fn random_bytes_have_the_asked_length_and_differ() {
        assert_eq!(random_bytes(64).len(), 64);
        assert_eq!(random_bytes(5).len(), 5);
        assert_ne!(random_bytes(32), random_bytes(32));
    }

    #[test]
    fn error_texts_never_echo_the_credential() {
        let token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.";
        let error = keys().verify(token, Utc::now()).unwrap_err();
        assert!(!error.to_string().contains("eyJ"), "{error}");
    }
}
